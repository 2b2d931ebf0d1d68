#!/usr/bin/env python3
"""The same serving scenarios on one engine and on a three-node swarm, under load.

Run by bench/swarm_run.sh (SWARM_HOST, SWARM_SHARED, SWARM_PORT set). For each orchestrator:
the first serve of a new environment (router and first healthy replica) and the time until the
site answers, then under load from 4 keep-alive clients on 127.0.0.1 for as long as each command
runs: upgrade v1 -> v2 with 3
replicas, a version that never gets healthy, scale 3 -> 5 -> 3 and rollback, with failed
requests and the command's duration.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOAD = os.path.join(REPO, "tests", "load.py")


def pallet(host, *args):
    docker = ["docker"] + (["-H", host] if host else [])
    return subprocess.run(docker + ["pallet", *args], capture_output=True, text=True)


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 400
    except OSError:
        return False


def scenario(host, url, args, expect_ok=True):
    """Load for as long as the command runs (and 0.3 s either side)."""
    until = os.path.join(tempfile.mkdtemp(), "stop")
    process = subprocess.Popen([sys.executable, LOAD, url, "--requests", "1000000", "--clients", "4",
                                "--until-file", until, "--json"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    start = time.perf_counter()
    result = pallet(host, *args)
    duration = time.perf_counter() - start
    time.sleep(0.3)
    open(until, "w").close()
    summary = json.loads(process.communicate()[0])
    os.remove(until)
    os.rmdir(os.path.dirname(until))
    ok = (result.returncode == 0) == expect_ok
    return (f"{summary['requests']:5} req, {summary['failures']} failed, {duration:5.1f} s"
            + ("" if ok else " (UNEXPECTED: " + result.stderr.strip()[-120:] + ")"))


def run(label, host, create_args, env):
    rows = {}
    pallet(host, "env", "create", env, "--health-timeout", "20s", "--drain", "1s", *create_args)
    for version in ("v1", "v2", "unhealthy"):
        deployed = pallet(host, "deploy", env, f"pallet-conformance:{version}")
        if deployed.returncode != 0:
            sys.exit(f"swarm_bench: deploy {version} on {label}: {deployed.stderr.strip()[-300:]}")
    start = time.perf_counter()
    served = pallet(host, "serve", env, "pallet-conformance:v1")
    serve_seconds = time.perf_counter() - start
    url = served.stdout.strip().splitlines()[-1] if served.stdout.strip() else ""
    if served.returncode != 0 or not url:
        sys.exit(f"swarm_bench: serve on {label}: {served.stderr.strip()[-300:]}")
    while not answers(url):
        time.sleep(0.05)
    rows["first serve (router + 1 healthy)"] = f"{serve_seconds:5.1f} s, answering at {time.perf_counter() - start:5.1f} s"
    pallet(host, "scale", env, "3")
    rows["upgrade v1 -> v2, 3 replicas"] = scenario(host, url, ["serve", env, "pallet-conformance:v2"])
    rows["upgrade to unhealthy"] = scenario(host, url, ["serve", env, "pallet-conformance:unhealthy"], False)
    rows["scale 3 -> 5"] = scenario(host, url, ["scale", env, "5"])
    rows["scale 5 -> 3"] = scenario(host, url, ["scale", env, "3"])
    rows["rollback v2 -> v1"] = scenario(host, url, ["rollback", env])
    pallet(host, "rm", env, "--volumes")
    return rows


def main():
    engine = run("one engine", None, [], f"bench-engine-{os.getpid()}")
    swarm = run("swarm", os.environ["SWARM_HOST"],
                ["--orchestrator", "swarm", "--shared-path", os.environ["SWARM_SHARED"],
                 "--port", os.environ["SWARM_PORT"]], f"bench-swarm-{os.getpid()}")
    print("one engine vs a three-node swarm (load from 4 clients while each command runs, "
          "goal: 0 failed):")
    print(f"  {'':34} {'one engine':38} {'swarm (3 nodes)'}")
    for name, value in engine.items():
        print(f"  {name:34} {value:38} {swarm[name]}")


if __name__ == "__main__":
    main()
