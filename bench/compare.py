#!/usr/bin/env python3
"""Two builds of docker-pallet against each other, command by command, on the local engine.

Usage: bench/compare.py OLD_BINARY NEW_BINARY [--runs N]
Each build gets a DOCKER_CONFIG and an environment of its own; every round runs each command
with both (the order alternating), and the medians and their ratio are printed, new over old.
No assertion: figures. Needs the conformance images (tests/images/build-images.sh).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
OLD, NEW = sys.argv[1], sys.argv[2]
ROUTER = os.environ.get("PALLET_ROUTER_IMAGE", "pallet-test-nginx:1")


def config_for(binary):
    directory = tempfile.mkdtemp(prefix="pallet-compare-")
    os.makedirs(f"{directory}/cli-plugins")
    shutil.copy(binary, f"{directory}/cli-plugins/docker-pallet")
    return {**os.environ, "DOCKER_CONFIG": directory, "PALLET_ROUTER_IMAGE": ROUTER}


def pallet(env, *args, check=True):
    start = time.perf_counter()
    result = subprocess.run(["docker", "pallet", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"docker pallet {' '.join(args)} failed: {result.stderr[-500:]}")
    return (time.perf_counter() - start) * 1000


def main():
    builds = {"old": (config_for(OLD), "cmp-old"), "new": (config_for(NEW), "cmp-new")}
    for env, name in builds.values():
        pallet(env, "rm", name, "--volumes", check=False)
        pallet(env, "env", "create", name, "--drain", "1s", "--health-timeout", "20s")
        pallet(env, "release", name, "pallet-conformance:v1")
    # (label, arguments for an environment named E, the round number i)
    commands = [
        ("status", lambda e, i: ["status"]),
        ("status ENV --format json", lambda e, i: ["status", e, "--format", "json"]),
        ("env show ENV", lambda e, i: ["env", "show", e]),
        ("history ENV", lambda e, i: ["history", e]),
        ("release ENV (upgrade)", lambda e, i: ["release", e, f"pallet-conformance:v{2 - i % 2}"]),
        ("scale ENV 2", lambda e, i: ["scale", e, "2"]),
        ("scale ENV 1", lambda e, i: ["scale", e, "1"]),
        ("run ENV (exits 64)", lambda e, i: ["run", e, "nosuch"]),
        ("test IMAGE", lambda e, i: ["test", "pallet-conformance:v1"]),
        ("logs ENV --phase deploy", lambda e, i: ["logs", e, "--phase", "deploy"]),
    ]
    times = {(label, build): [] for label, _ in commands for build in builds}
    try:
        for i in range(RUNS):
            for label, argv in commands:
                order = ["old", "new"] if i % 2 == 0 else ["new", "old"]
                for build in order:
                    env, name = builds[build]
                    times[(label, build)].append(
                        pallet(env, *argv(name, i), check=not label.startswith("run")))
    finally:
        for env, name in builds.values():
            pallet(env, "rm", name, "--volumes", check=False)
            shutil.rmtree(env["DOCKER_CONFIG"], ignore_errors=True)
    print(f"{'command':28} {'old ms':>9} {'new ms':>9} {'new/old':>8}   ({RUNS} interleaved runs, medians)")
    for label, _ in commands:
        old = statistics.median(times[(label, "old")])
        new = statistics.median(times[(label, "new")])
        mark = "  slower by more than 5%" if new > old * 1.05 else ""
        print(f"{label:28} {old:9.0f} {new:9.0f} {new / old:8.2f}{mark}")


if __name__ == "__main__":
    main()
