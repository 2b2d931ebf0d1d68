#!/usr/bin/env python3
"""Process types: what they add to a release, and the gap between the old and the new workers.

Run by bench/run.sh (DOCKER_CONFIG with the plugin, PALLET_ROUTER_IMAGE set). Upgrades of an
image with two process types (worker, clock) and of the same image without, interleaved:
medians, the difference, and its goal (at most the stop time actually used plus the settle
period). From the workers' own records: the time between the last old worker's end and the
first new one's start in each upgrade.
"""
import statistics
import subprocess
import sys
import time

from common import sh, timed

QUICK = "--quick" in sys.argv
RUNS = 3 if QUICK else 7
SETTLE = 2


def pallet(*args):
    return timed("docker", "pallet", *args)


def build(tag, base, processes):
    label = f"LABEL io.pallet.processes={processes}\n" if processes else ""
    subprocess.run(["docker", "build", "-q", "-t", tag, "-"], input=f"FROM {base}\n{label}",
                   text=True, capture_output=True, check=True)


def worker_gaps(env):
    """Seconds between the last end of a version's workers and the first start of the next's."""
    script = ("for f in /storage/records/worker-*.rec; do v=$(sed -n 's/^version=//p' $f); "
              "s=$(sed -n 's/^start=//p' $f); e=$(sed -n 's/^end=//p' $f); echo $v $s $e; done")
    out = sh("docker", "run", "--rm", "-v", f"pallet-{env}-storage:/storage:ro", "--entrypoint",
             "sh", "pallet-conformance:v1", "-c", script).stdout
    spans = []  # (start, end) of each worker, in order of start
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            spans.append((float(parts[1]), float(parts[2]) if len(parts) > 2 else None))
    spans.sort()
    gaps = []
    for (start, end), (next_start, _) in zip(spans, spans[1:]):
        if end is not None and next_start > end:
            gaps.append(next_start - end)
    return gaps


def stop_time():
    """What `docker stop` of a worker takes (it ends its work on SIGTERM): median of 3."""
    times = []
    for _ in range(3):
        name = f"pallet-bench-stop-{time.time_ns()}"
        sh("docker", "run", "-d", "--name", name, "pallet-bench:proc-v1", "worker")
        time.sleep(0.5)
        start = time.perf_counter()
        sh("docker", "stop", name)
        times.append(time.perf_counter() - start)
        sh("docker", "rm", "-f", name, check=False)
    return statistics.median(times)


def start_time():
    """What one `docker start` of two made containers (a worker and a clock) takes: median of 3.
    The new version's processes are made while its web replicas come up; this is what is left
    between the old ones' stop and the settle period."""
    times = []
    for _ in range(3):
        names = [f"pallet-bench-start-{kind}-{time.time_ns()}" for kind in ("worker", "clock")]
        for name, kind in zip(names, ("worker", "clock")):
            sh("docker", "create", "--name", name, "pallet-bench:proc-v1", kind)
        start = time.perf_counter()
        sh("docker", "start", *names)
        times.append(time.perf_counter() - start)
        sh("docker", "rm", "-f", *names, check=False)
    return statistics.median(times)


def main():
    build("pallet-bench:proc-v1", "pallet-conformance:v1", "worker,clock")
    build("pallet-bench:proc-v2", "pallet-conformance:v2", "worker,clock")
    build("pallet-bench:plain-v1", "pallet-conformance:v1", "")
    build("pallet-bench:plain-v2", "pallet-conformance:v2", "")
    envs = {"proc": "bench-proc", "plain": "bench-plain"}
    for env in envs.values():
        sh("docker", "pallet", "rm", env, "--volumes", check=False)
        sh("docker", "pallet", "env", "create", env, "--drain", "1s", "--health-timeout", "20s",
           "--process-settle", f"{SETTLE}s", "--process-stop-timeout", "10s")
    try:
        for kind, env in envs.items():
            pallet("release", env, f"pallet-bench:{kind}-v1")
        times = {kind: [] for kind in envs}
        for i in range(RUNS):
            version = 2 - i % 2
            for kind in (["proc", "plain"] if i % 2 == 0 else ["plain", "proc"]):
                times[kind].append(pallet("release", envs[kind], f"pallet-bench:{kind}-v{version}"))
        stop = stop_time()
        started = start_time()
        proc = statistics.median(times["proc"])
        plain = statistics.median(times["plain"])
        gaps = worker_gaps(envs["proc"])
        print(f"process types ({RUNS} upgrades each, interleaved, medians):")
        print(f"  release with 2 process types: {proc:.2f} s, without: {plain:.2f} s, "
              f"more: {proc - plain:+.2f} s (goal <= the stop time used, {stop:.2f} s, + the "
              f"settle period, {SETTLE} s: {'met' if proc - plain <= SETTLE + stop else 'NOT met'})")
        print(f"  starting a worker and a clock (one docker start of both, measured alone; the "
              f"plugin starts them in calls at once): {started:.2f} s")
        if gaps:
            print(f"  from the last old worker's end to the first new one's start: median "
                  f"{statistics.median(gaps):.2f} s, longest {max(gaps):.2f} s "
                  f"({len(gaps)} upgrades; never below 0: they never overlap)")
    finally:
        for env in envs.values():
            sh("docker", "pallet", "rm", env, "--volumes", check=False)
        for tag in ("proc-v1", "proc-v2", "plain-v1", "plain-v2"):
            sh("docker", "rmi", f"pallet-bench:{tag}", check=False)


if __name__ == "__main__":
    main()
