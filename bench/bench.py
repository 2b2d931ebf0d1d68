#!/usr/bin/env python3
"""Prints docker-pallet's speed figures (no timed assertions: figures against goals).

Usage: bench/run.sh [--quick]   (builds the plugin, installs it into a temporary DOCKER_CONFIG)
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BINARY = os.environ["PALLET_BINARY"]
QUICK = "--quick" in sys.argv
DEVNULL = subprocess.DEVNULL


def wall(argv, runs, env=None):
    """Median wall time in milliseconds of `runs` runs of argv."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=DEVNULL, stderr=DEVNULL, env=env, check=False)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def paired(a, b, runs, env=None):
    """Median of per-pair ratios a/b, and the medians of each, in ms."""
    ratios, ta, tb = [], [], []
    for _ in range(runs):
        x = wall(a, 1, env)
        y = wall(b, 1, env)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    return statistics.median(ratios), statistics.median(ta), statistics.median(tb)


def engine_list_ms(runs):
    """The local engine's own GET /images/json (median ms), read as the plugin reads it; None
    when the engine is not this machine's default socket."""
    if os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock") != "unix:///var/run/docker.sock":
        return None
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        with socket.socket(socket.AF_UNIX) as s:
            s.connect("/var/run/docker.sock")
            s.sendall(b"GET /images/json HTTP/1.0\r\nHost: docker\r\n\r\n")
            while s.recv(65536):
                pass
        took.append((time.perf_counter() - start) * 1000)
    return statistics.median(took)


def count_docker_processes(args, env):
    """How many docker processes `docker-pallet args` starts, via a counting wrapper."""
    with tempfile.TemporaryDirectory() as tmp:
        counter = os.path.join(tmp, "count")
        wrapper = os.path.join(tmp, "docker")
        real = shutil.which("docker")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\necho x >> {counter}\nexec {real} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        run_env = dict(env, DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND=wrapper)
        subprocess.run([BINARY] + args, stdout=DEVNULL, stderr=DEVNULL, env=run_env, check=False)
        try:
            with open(counter) as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0


def main():
    env = dict(os.environ)
    runs = 20 if QUICK else 100
    print("docker-pallet benchmarks", "(quick)" if QUICK else "")
    print()

    meta = wall([BINARY, "docker-cli-plugin-metadata"], runs)
    client = wall(["docker", "version", "--format", "{{.Client.Version}}"], runs // 2)
    print(f"metadata:                   {meta:7.2f} ms median  (goal <= 5 ms: "
          f"{'met' if meta <= 5 else 'NOT met'})")
    print(f"docker version (client):    {client:7.2f} ms median  (metadata/client = "
          f"{meta / client:.2f}, goal <= 0.33: {'met' if meta / client <= 0.33 else 'NOT met'})")

    ratio, ours, theirs = paired(["docker", "pallet", "version"],
                                 ["docker", "version", "--format", "{{.Client.Version}}"],
                                 runs // 4, env)
    print(f"docker pallet version:      {ours:7.2f} ms median, docker version {theirs:.2f} ms "
          f"(plugin overhead {ours - theirs:+.2f} ms)")

    if os.environ.get("PALLET_DEB_CONFIG"):
        deb_env = dict(env, DOCKER_CONFIG=os.environ["PALLET_DEB_CONFIG"])
        built = wall(["docker", "pallet", "version"], runs // 4, env)
        packaged = wall(["docker", "pallet", "version"], runs // 4, deb_env)
        print(f"docker pallet version, .deb: {packaged:7.2f} ms median vs {built:.2f} ms as built "
              f"({packaged - built:+.2f} ms; goal: nothing added)")

    image = "pallet-conformance:v1"
    pairs = 5 if QUICK else 15
    ratio, ours, theirs = paired(["docker", "pallet", "test", image],
                                 ["docker", "run", "--rm", image, "test"], pairs, env)
    print(f"docker pallet test:         {ours:7.1f} ms median vs docker run --rm {theirs:.1f} ms: "
          f"ratio {ratio:.2f} (goal <= 1.15: {'met' if ratio <= 1.15 else 'NOT met'})")
    # The image runs as a non-root user (USER 1234): against docker run with the two volumes
    # the test gets, which that user could not write.
    ratio, ours, theirs = paired(["docker", "pallet", "test", image],
                                 ["docker", "run", "--rm", "-v", "/storage", "-v", "/static", image,
                                  "test"], pairs, env)
    print(f"  its image is non-root:    {ours:7.1f} ms median vs docker run --rm with /storage and "
          f"/static volumes {theirs:.1f} ms: ratio {ratio:.2f} (goal <= 1.15: "
          f"{'met' if ratio <= 1.15 else 'NOT met'})")

    # Time to a ready PostgreSQL: a test run with a postgres service, cold and warm.
    bench_env = dict(env, USER="bench")
    base = ["docker", "pallet", "test", image]
    cold = wall(base + ["--service", "postgres"], 3 if QUICK else 5, bench_env)
    subprocess.run(base + ["--service", "postgres", "--reuse-services"], stdout=DEVNULL,
                   stderr=DEVNULL, env=bench_env, check=False)  # warms it up
    warm = wall(base + ["--service", "postgres", "--reuse-services"], 5 if QUICK else 10, bench_env)
    none = wall(base, 5 if QUICK else 10, bench_env)
    print(f"test with postgres:         cold {cold:.0f} ms, warm (--reuse-services) {warm:.0f} ms, "
          f"no services {none:.0f} ms")
    print(f"  warm - no services = {warm - none:+.0f} ms (goal <= 500: "
          f"{'met' if warm - none <= 500 else 'NOT met'})")
    # The time to a ready PostgreSQL is what a run with postgres takes beyond one without.
    ready_cold, ready_warm = cold - none, warm - none
    print(f"  time to a ready PostgreSQL: cold {ready_cold:.0f} ms, warm {ready_warm:.0f} ms: "
          f"{ready_cold / ready_warm:.1f}x (goal >= 5: "
          f"{'met' if ready_cold / ready_warm >= 5 else 'NOT met'}); whole runs cold / warm = "
          f"{cold / warm:.1f}x")

    print()
    print("docker processes started per command:")
    for args in (["status"], ["env", "ls"], ["history", "bench-1"], ["version"]):
        print(f"  {' '.join(args):22} {count_docker_processes(args, env)}")
    one = count_docker_processes(["status"], env)
    # 50 environments: state is labels, so status must not start more docker processes.
    create = []
    failed = 0
    for i in range(2, 51):
        create.append(subprocess.Popen(["docker", "pallet", "env", "create", f"bench-{i}"],
                                       stdout=DEVNULL, stderr=DEVNULL, env=env))
        if len(create) >= 8:
            failed += create.pop(0).wait() != 0
    for p in create:
        failed += p.wait() != 0
    if failed:
        sys.exit(f"bench: {failed} of 49 environments could not be created")
    fifty = count_docker_processes(["status"], env)
    status_50 = wall(["docker", "pallet", "status"], 5, env)
    print(f"  status, 1 environment:  {one}; 50 environments: {fifty} "
          f"({'same' if one == fifty else 'DIFFERENT'}), {status_50:.0f} ms with 50")

    # Completion as the shell asks for it, through docker: commands, and ENV with 50 of them.
    print()
    for words, what in ((["de"], "a command"), (["env", "show", ""], "ENV, 50 environments"),
                        (["release", "bench-1", "pallet-conformance:"], "IMAGE")):
        answer = subprocess.run(["docker", "__complete", "pallet"] + words, capture_output=True, text=True,
                                env=env, check=False).stdout
        took = wall(["docker", "__complete", "pallet"] + words, runs // 4, env)
        print(f"completion, {what + ':':22} {took:6.1f} ms median, {answer.count(chr(10)) - 1} candidates "
              f"(goal < 50 ms: {'met' if took < 50 else 'NOT met'})")
    # What IMAGE's figure stands on: the goal is for 50 local images; an engine whose store holds
    # more (a build's intermediate images too) takes longer to list them, whoever asks.
    lines = lambda argv: len(subprocess.run(argv, capture_output=True, text=True, check=False).stdout.split())
    listed = engine_list_ms(runs // 4)
    print(f"  local images: {lines(['docker', 'images', '-q'])} listed, "
          f"{lines(['docker', 'images', '-a', '-q'])} in the store; the engine's own list: "
          + (f"{listed:.1f} ms" if listed is not None else "not measured (not the local socket)"))


if __name__ == "__main__":
    main()
