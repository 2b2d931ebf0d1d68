#!/usr/bin/env python3
"""Preview environments: a copy with data, and an engine with a hundred environments.

Run by bench/run.sh (DOCKER_CONFIG with the plugin, PALLET_ROUTER_IMAGE, PALLET_POSTGRES_IMAGE
and PALLET_REDIS_IMAGE set). A staging environment with PostgreSQL (a small table), Redis and
/storage, and a backup; then, RUNS times: `env create pr --from staging --data` + `release pr`
(goal: under 5 s), the preview removed after each. Then `status` of 10 serving environments and
of 100 (goal: 100 within 1.3x of 10), the edge's reload when the 100th is
added, under load to another one through the edge (goal: under 1 s, 0 failed requests), and
`env prune` of the 50 of them with an expired TTL in one command.
"""
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import sh, timed

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOAD = os.path.join(REPO, "tests", "load.py")
QUICK = "--quick" in sys.argv
RUNS = 2 if QUICK else 5
STAGING = "bench-staging"
MANY = [f"bench-m{i:03d}" for i in range(1, 101)]


def remove(env):
    sh("docker", "pallet", "rm", env, "--volumes", check=False)


def make(env, *settings):
    sh("docker", "pallet", "env", "create", env, "--port", "none", "--site-domain",
       f"{env}.test", *settings)
    sh("docker", "pallet", "release", env, "pallet-conformance:v1", "--no-backup")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copies():
    sh("docker", "pallet", "env", "create", STAGING, "--service", "postgres", "--service",
       "redis")
    sh("docker", "pallet", "env", "set", STAGING, "GREETING=hello")
    sh("docker", "pallet", "release", STAGING, "pallet-conformance:v1", "--no-backup")
    sh("docker", "exec", f"pallet-{STAGING}-postgres", "psql", "-q", "-U", "pallet", "-d",
       STAGING.replace("-", "_"), "-c",
       "CREATE TABLE notes (id int PRIMARY KEY, text text); "
       "INSERT INTO notes SELECT i, md5(i::text) FROM generate_series(1, 1000) AS i")
    sh("docker", "pallet", "backup", STAGING)
    creates, releases = [], []
    for run in range(RUNS):
        preview = f"bench-pr-{run}"
        remove(preview)
        creates.append(timed("docker", "pallet", "env", "create", preview, "--from", STAGING,
                             "--data"))
        releases.append(timed("docker", "pallet", "release", preview, "pallet-conformance:v1"))
        remove(preview)
    total = [c + r for c, r in zip(creates, releases)]
    t = statistics.median(total)
    print(f"a preview with data ({RUNS} runs): env create --from {STAGING} --data + release")
    print(f"  env create --from --data  median {statistics.median(creates):.2f} s")
    print(f"  release                   median {statistics.median(releases):.2f} s")
    print(f"  together                  median {t:.2f} s (goal: under 5 s): "
          f"{'met' if t < 5 else 'NOT met'}")


def status_time():
    return timed("docker", "pallet", "status")


def many():
    def make_one(index):
        env = MANY[index]
        # Half of them expire at once (env prune below), the other half never.
        make(env, *(["--ttl", "1s"] if index % 2 == 0 else []))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(make_one, range(10)))
    ten = [status_time() for _ in range(RUNS)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(make_one, range(10, 99)))
    print(f"89 more environments released, 4 at a time, in {time.perf_counter() - start:.0f} s")
    port = free_port()
    sh("docker", "pallet", "edge", "up", "--http", f"127.0.0.1:{port}")
    with tempfile.TemporaryDirectory() as scratch:
        until = os.path.join(scratch, "stop")
        load = subprocess.Popen([sys.executable, LOAD, f"http://127.0.0.1:{port}/", "--host",
                                 f"{MANY[1]}.test", "--requests", "1000000", "--clients", "4",
                                 "--until-file", until, "--json"], stdout=subprocess.PIPE,
                                text=True)
        time.sleep(0.5)
        added = timed("docker", "pallet", "env", "create", MANY[99], "--port", "none",
                      "--site-domain", f"{MANY[99]}.test")
        released = timed("docker", "pallet", "release", MANY[99], "pallet-conformance:v1",
                         "--no-backup")
        reload = timed("docker", "pallet", "edge", "up", "--http", f"127.0.0.1:{port}")
        time.sleep(0.5)
        open(until, "w").close()
        summary = json.loads(load.communicate()[0])
    hundred = [status_time() for _ in range(RUNS)]
    t10, t100 = statistics.median(ten), statistics.median(hundred)
    print(f"status of 10 environments   median {t10:.2f} s")
    print(f"status of 100 environments  median {t100:.2f} s: {t100 / t10:.2f}x (goal: at most "
          f"1.3x): {'met' if t100 <= 1.3 * t10 else 'NOT met'}")
    print(f"the 100th environment through the edge: env create {added:.2f} s, release "
          f"{released:.2f} s, edge up (its reload) {reload:.2f} s (goal: under 1 s: "
          f"{'met' if reload < 1 else 'NOT met'}); {summary['failures']} failed of "
          f"{summary['requests']} requests to another one through the edge")
    time.sleep(2)
    start = time.perf_counter()
    result = sh("docker", "pallet", "env", "prune")
    pruned = result.stderr.count("=> removing bench-m")
    print(f"env prune of {pruned} expired environments in one command: "
          f"{time.perf_counter() - start:.1f} s")
    sh("docker", "pallet", "edge", "down")


def main():
    for env in [STAGING] + MANY:
        remove(env)
    # edge down keeps the edge's ACME volume: removed again when this made it.
    acme = sh("docker", "volume", "ls", "-q", "--filter", "name=^pallet-acme$").stdout.strip()
    try:
        copies()
        many()
    finally:
        sh("docker", "pallet", "edge", "down", check=False)
        for env in [STAGING] + MANY:
            remove(env)
        if not acme:
            sh("docker", "volume", "rm", "pallet-acme", check=False)


if __name__ == "__main__":
    main()
