#!/usr/bin/env python3
"""Remote engines at local speed: docker-pallet's commands locally, over ssh:// on loopback, and
over ssh:// with 25 ms added in each direction (bench/latency_proxy.py), medians of interleaved
runs, with the docker processes each command starts. Figures against goals, never assertions.

Run by bench/run.sh (it starts sshd on 127.0.0.1 with a key of its own: tests/e2e/ssh_lib.sh).
Environment: PALLET_BINARY, DOCKER_CONFIG (the plugin installed), SSH_ALIAS, SSH_SLOW_ALIAS.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BINARY = os.environ["PALLET_BINARY"]
QUICK = "--quick" in sys.argv
RUNS = 3 if QUICK else 7
ENV = "bench-ssh"
TARGETS = {
    "local": [],
    "ssh": ["-H", f"ssh://{os.environ['SSH_ALIAS']}"],
    "ssh+25ms": ["-H", f"ssh://{os.environ['SSH_SLOW_ALIAS']}"],
    "ssh cold": ["-H", f"ssh://{os.environ['SSH_ALIAS']}"],  # PALLET_SSH_KEEP=0: a handshake each
}
RTT = 0.050  # seconds: 25 ms each way


def run(args, check=True, env=None):
    started = time.perf_counter()
    result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    if check and result.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{result.stderr}")
    return time.perf_counter() - started


def docker_processes(globals_, command):
    """Docker processes one run of `docker GLOBALS pallet COMMAND` starts (a counting wrapper)."""
    with tempfile.TemporaryDirectory() as tmp:
        counter = os.path.join(tmp, "count")
        wrapper = os.path.join(tmp, "docker")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\necho x >> {counter}\nexec {shutil.which('docker')} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        env = dict(os.environ, DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND=wrapper)
        subprocess.run([BINARY] + globals_ + ["pallet"] + command, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with open(counter) as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0


def main():
    run(["docker", "pallet", "release", ENV, "pallet-conformance:v1"])
    run(["docker", "pallet", "deploy", ENV, "pallet-conformance:v2"])
    # Each command, and what makes it repeatable: release alternates v1 and v2 (an upgrade each
    # time), rollback goes back to the other one.
    commands = {
        "status": ["status", ENV],
        "test": ["test", "pallet-conformance:v1"],
        "deploy": ["deploy", ENV, "pallet-conformance:v2"],
        "release (upgrade)": None,
        "rollback": ["rollback", ENV],
    }
    version = ["pallet-conformance:v2", "pallet-conformance:v1"]
    times = {(name, where): [] for name in commands for where in TARGETS}
    for i in range(RUNS):
        for name, command in commands.items():
            for where, globals_ in TARGETS.items():  # interleaved: same conditions for each
                if command is None:
                    command_now = ["release", ENV, version[len(times[(name, where)]) % 2]]
                else:
                    command_now = command
                env = dict(os.environ, PALLET_SSH_KEEP="0") if where == "ssh cold" else None
                times[(name, where)].append(run(["docker"] + globals_ + ["pallet"] + command_now,
                                                env=env))
    plain = [run(["docker", "-H", TARGETS["ssh"][1], "ps"]) for _ in range(RUNS)]
    plain_slow = [run(["docker", "-H", TARGETS["ssh+25ms"][1], "ps"]) for _ in range(RUNS)]

    print("remote engines (median of %d interleaved runs; goals: ssh <= 1.3x local; with 25 ms each "
          "way <= local + 2 RTT x calls/10). ssh: the connection kept between commands (default, "
          "PALLET_SSH_KEEP=15s); cold: a handshake for each command (PALLET_SSH_KEEP=0)" % RUNS)
    print(f"{'command':20} {'calls':>5} {'local':>8} {'ssh':>8} {'ratio':>6} {'cold':>8} {'ratio':>6} "
          f"{'ssh+25ms':>9} {'goal':>7}")
    for name, command in commands.items():
        probe = command or ["release", ENV, "pallet-conformance:v1"]
        calls = docker_processes([], probe)
        local = statistics.median(times[(name, "local")])
        ssh = statistics.median(times[(name, "ssh")])
        slow = statistics.median(times[(name, "ssh+25ms")])
        cold = statistics.median(times[(name, "ssh cold")])
        goal = local + 2 * RTT * calls / 10
        print(f"{name:20} {calls:5d} {local:7.2f}s {ssh:7.2f}s {ssh / local:5.2f}x {cold:7.2f}s "
              f"{cold / local:5.2f}x {slow:8.2f}s {goal:6.2f}s")
    status = statistics.median(times[("status", "ssh cold")])
    print(f"status over ssh {status:.2f}s against docker -H ssh:// ps {statistics.median(plain):.2f}s "
          f"({status / statistics.median(plain):.2f}x, both with a handshake; goal 1.10x); kept "
          f"{statistics.median(times[('status', 'ssh')]):.2f}s; with 25 ms "
          f"{statistics.median(times[('status', 'ssh+25ms')]):.2f}s against "
          f"{statistics.median(plain_slow):.2f}s")
    print(f"docker processes of release over ssh://: {docker_processes(TARGETS['ssh'], ['release', ENV, 'pallet-conformance:v2'])}"
          " (each one through the command's single SSH connection)")
    distance_table()


def distance_table():
    """Issue 21's figures at 25 ms each way: a first command (no kept connection, as a CI job
    runs it) and one on a connection kept by the command just before it, each with the relay
    (the default) and without it (PALLET_SSH_RELAY=0), against docker -H ssh:// ps and local."""
    slow = TARGETS["ssh+25ms"]
    relay_off = dict(os.environ, PALLET_SSH_RELAY="0")
    cold = dict(os.environ, PALLET_SSH_KEEP="0")
    cold_off = dict(relay_off, PALLET_SSH_KEEP="0")
    version = ["pallet-conformance:v2", "pallet-conformance:v1"]
    figures = {key: [] for key in ("status cold", "status cold off", "status kept",
                                   "status kept off", "release", "release off", "release local",
                                   "test", "test off", "test local", "ps")}
    for i in range(RUNS):
        figures["ps"].append(run(["docker", "-H", slow[1], "ps"]))
        figures["status cold"].append(run(["docker"] + slow + ["pallet", "status", ENV], env=cold))
        figures["status cold off"].append(
            run(["docker"] + slow + ["pallet", "status", ENV], env=cold_off))
        for suffix, env in (("", None), (" off", relay_off)):
            run(["docker"] + slow + ["pallet", "status", ENV], env=env)  # the connection kept
            figures["status kept" + suffix].append(
                run(["docker"] + slow + ["pallet", "status", ENV], env=env))
            figures["release" + suffix].append(
                run(["docker"] + slow + ["pallet", "release", ENV, version[i % 2]], env=env))
            figures["test" + suffix].append(
                run(["docker"] + slow + ["pallet", "test", "pallet-conformance:v1"], env=env))
        figures["release local"].append(run(["docker", "pallet", "release", ENV, version[i % 2]]))
        figures["test local"].append(run(["docker", "pallet", "test", "pallet-conformance:v1"]))
    m = {key: statistics.median(values) for key, values in figures.items()}
    print()
    print("at 25 ms each way (median of %d; relay: channels opened ahead and docker's ping answered "
          "once per command; off: PALLET_SSH_RELAY=0)" % RUNS)
    rows = [
        ("first status / docker -H ssh:// ps", m["status cold"], m["status cold off"], m["ps"], 1.1),
        ("status, kept / docker -H ssh:// ps", m["status kept"], m["status kept off"], m["ps"], 0.5),
        ("release (upgrade), kept / local", m["release"], m["release off"], m["release local"], 1.5),
        ("test, kept / local", m["test"], m["test off"], m["test local"], 1.5),
    ]
    print(f"{'figure':38} {'relay':>7} {'off':>7} {'against':>8} {'ratio':>6} {'off':>6} {'goal':>6}")
    for name, value, off, against, goal in rows:
        print(f"{name:38} {value:6.2f}s {off:6.2f}s {against:7.2f}s {value / against:5.2f}x "
              f"{off / against:5.2f}x {goal:5.2f}x {'met' if value / against <= goal else 'NOT met'}")


if __name__ == "__main__":
    try:
        main()
    finally:
        subprocess.run(["docker", "pallet", "rm", ENV, "--volumes"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
