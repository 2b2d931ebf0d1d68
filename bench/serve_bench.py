#!/usr/bin/env python3
"""Serving under load: zero-downtime scenarios and the router's added latency.

Run by bench/run.sh. Each scenario sends at least 5000 requests from 4 keep-alive clients on
127.0.0.1 while the command runs, and prints requests, failures and the command's duration
(for an upgrade: from the command's start until the old containers are gone).
"""
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOAD = os.path.join(REPO, "tests", "load.py")
ENV = "bench-serve"
QUICK = "--quick" in sys.argv
REQUESTS = 2000 if QUICK else 5000


def pallet(*args):
    return subprocess.run(["docker", "pallet", *args], capture_output=True, text=True)


def load(url, requests, clients, until=None):
    argv = [sys.executable, LOAD, url, "--requests", str(requests), "--clients", str(clients),
            "--json"]
    if until:
        argv += ["--until-file", until]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)


def scenario(name, url, args, expect_ok=True):
    process = load(url, REQUESTS, 4)
    time.sleep(0.3)
    start = time.perf_counter()
    result = pallet(*args)
    duration = time.perf_counter() - start
    summary = json.loads(process.communicate()[0])
    ok = (result.returncode == 0) == expect_ok
    print(f"  {name:28} {summary['requests']:6} requests, {summary['failures']} failed "
          f"({summary['retried_idle_closed']} retried after idle close), command {duration:5.1f} s"
          f"{'' if ok else '  (COMMAND RESULT UNEXPECTED: ' + result.stderr.strip()[-200:] + ')'}")


def latency(url):
    summary = json.loads(load(url, REQUESTS, 1).communicate()[0])
    return summary["median_ms"], summary["p99_ms"]


def main():
    pallet("env", "create", ENV, "--health-timeout", "6s", "--drain", "1s")
    for version in ("v1", "v2", "unhealthy"):
        pallet("deploy", ENV, f"pallet-conformance:{version}")
    served = pallet("serve", ENV, "pallet-conformance:v1")
    url = served.stdout.strip()
    if served.returncode != 0 or not url:
        sys.exit(f"serve_bench: could not serve v1: {served.stderr.strip()}")
    direct = subprocess.run(["docker", "run", "-d", "--rm", "-p", "127.0.0.1::8000",
                             "--label", f"io.pallet.env={ENV}", "pallet-conformance:v1", "serve"],
                            capture_output=True, text=True).stdout.strip()
    try:
        port = subprocess.run(["docker", "port", direct, "8000"], capture_output=True,
                              text=True).stdout.split(":")[-1].strip()
        time.sleep(1)
        print(f"serving under load ({REQUESTS} requests a scenario, 4 clients, goal: 0 failed):")
        scenario("upgrade v1 -> v2", url, ["serve", ENV, "pallet-conformance:v2"])
        scenario("upgrade to unhealthy", url, ["serve", ENV, "pallet-conformance:unhealthy"], False)
        scenario("scale 1 -> 3", url, ["scale", ENV, "3"])
        scenario("scale 3 -> 1", url, ["scale", ENV, "1"])
        scenario("rollback v2 -> v1", url, ["rollback", ENV])
        direct_median, direct_p99 = latency(f"http://127.0.0.1:{port}/")
        router_median, router_p99 = latency(url)
        print(f"latency, 1 client: direct median {direct_median:.3f} ms p99 {direct_p99:.3f} ms; "
              f"through the router median {router_median:.3f} ms p99 {router_p99:.3f} ms")
        added = router_median - direct_median
        print(f"router's added latency: median {added:+.3f} ms, p99 {router_p99 - direct_p99:+.3f} ms "
              f"(goal median < 1 ms: {'met' if added < 1 else 'NOT met'})")
    finally:
        subprocess.run(["docker", "rm", "-f", direct], capture_output=True)


if __name__ == "__main__":
    main()
