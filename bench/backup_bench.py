#!/usr/bin/env python3
"""Backups: a PostgreSQL database of at least 200 MB, and what a backup adds to a deploy.

Run by bench/run.sh (DOCKER_CONFIG with the plugin, PALLET_ROUTER_IMAGE and
PALLET_POSTGRES_IMAGE set). An environment with a provided PostgreSQL gets a table of about
220 MB (generated in the server); then, interleaved: `docker pallet backup --no-storage` against
pg_dump run by hand in the server's container with the same options (goal: at most 1.1x);
`docker pallet restore` of that backup against pg_restore by hand into a new database of the
same server, and against what a careful hand does for the same safety (pg_dump of what is
replaced, then pg_restore). Then, on a small database: deploys with their backup against deploys with --no-backup,
interleaved (goal: under 1 s more).
"""
import statistics
import sys

from common import sh, timed

QUICK = "--quick" in sys.argv
RUNS = 2 if QUICK else 5
BIG = "bench-backup"
SMALL = "bench-backup-small"
ROWS = 400_000 if QUICK else 1_800_000  # about 120 bytes a row: ~220 MB of table


def psql(env, sql):
    return sh("docker", "exec", f"pallet-{env}-postgres", "psql", "-q", "-At", "-U", "pallet",
              "-d", env.replace("-", "_"), "-c", sql).stdout.strip()


def make(env):
    sh("docker", "pallet", "env", "create", env, "--service", "postgres", check=False)
    sh("docker", "pallet", "release", env, "pallet-conformance:v1", "--no-backup")


def remove(env):
    sh("docker", "pallet", "rm", env, "--volumes", check=False)


def main():
    for env in (BIG, SMALL):
        remove(env)
    try:
        make(BIG)
        psql(BIG, "CREATE TABLE items (id bigint PRIMARY KEY, name text, body text); "
                  f"INSERT INTO items SELECT i, 'item ' || i, md5(i::text) || md5((i * 7)::text) "
                  f"|| md5((i * 13)::text) FROM generate_series(1, {ROWS}) AS i")
        size = int(psql(BIG, "SELECT pg_database_size(current_database())"))
        print(f"backup of a PostgreSQL database of {size / 1e6:.0f} MB ({RUNS} runs each, "
              "interleaved):")
        ours, by_hand = [], []
        role = BIG.replace("-", "_")
        for _ in range(RUNS):
            ours.append(timed("docker", "pallet", "backup", BIG, "--no-storage"))
            # The same dump by hand in the server's own container: as its admin, over its
            # local socket, into its own /tmp.
            by_hand.append(timed("docker", "exec", f"pallet-{BIG}-postgres", "sh", "-c",
                                 f"pg_dump -U pallet -d {role} --format=custom --compress=1 "
                                 "--file=/tmp/bench.dump && rm -f /tmp/bench.dump"))
        o, h = statistics.median(ours), statistics.median(by_hand)
        print(f"  docker pallet backup --no-storage  median {o:.2f} s")
        print(f"  pg_dump by hand in the container    median {h:.2f} s")
        print(f"  ratio {o / h:.2f}x (goal: at most 1.1x): {'met' if o <= 1.1 * h else 'NOT met'}")

        backup = sh("docker", "pallet", "backup", BIG, "--no-storage").stdout.strip()
        server = f"pallet-{BIG}-postgres"
        sh("docker", "exec", server, "pg_dump", "-U", "pallet", "-d", role, "--format=custom",
           "--compress=1", "--file=/tmp/bench.dump")
        restores, by_hand_restore, by_hand_both = [], [], []
        for _ in range(RUNS):
            restores.append(timed("docker", "pallet", "restore", BIG, backup))
            by_hand_restore.append(timed(
                "docker", "exec", server, "sh", "-c",
                "createdb -U pallet bench_restore && pg_restore -U pallet -d bench_restore "
                "--no-owner --exit-on-error /tmp/bench.dump"))
            sh("docker", "exec", server, "dropdb", "-U", "pallet", "bench_restore")
            by_hand_both.append(timed(
                "docker", "exec", server, "sh", "-c",
                f"pg_dump -U pallet -d {role} --format=custom --compress=1 --file=/tmp/before.dump && "
                "createdb -U pallet bench_restore && pg_restore -U pallet -d bench_restore "
                "--no-owner --exit-on-error /tmp/bench.dump"))
            sh("docker", "exec", server, "sh", "-c",
               "dropdb -U pallet bench_restore; rm -f /tmp/before.dump")
        sh("docker", "exec", server, "rm", "-f", "/tmp/bench.dump")
        r = statistics.median(restores)
        hr, hb = statistics.median(by_hand_restore), statistics.median(by_hand_both)
        print(f"restore of that database ({RUNS} runs each, interleaved):")
        print(f"  docker pallet restore                      median {r:.2f} s")
        print(f"  pg_restore by hand into a new database     median {hr:.2f} s")
        print(f"  pg_dump of what it replaces + pg_restore   median {hb:.2f} s")
        print(f"  ratio to pg_restore alone {r / hr:.2f}x (goal: at most 1.1x): "
              f"{'met' if r <= 1.1 * hr else 'NOT met'}; to the same safety by hand "
              f"{r / hb:.2f}x")

        make(SMALL)
        psql(SMALL, "CREATE TABLE notes (id int, text text); "
                    "INSERT INTO notes SELECT i, 'note ' || i FROM generate_series(1, 100) AS i")
        with_backup, without = [], []
        for _ in range(RUNS):
            with_backup.append(timed("docker", "pallet", "deploy", SMALL, "pallet-conformance:v1"))
            without.append(timed("docker", "pallet", "deploy", SMALL, "pallet-conformance:v1",
                                 "--no-backup"))
        w, n = statistics.median(with_backup), statistics.median(without)
        print(f"deploy of a small database ({RUNS} runs each, interleaved):")
        print(f"  with its backup   median {w:.2f} s")
        print(f"  --no-backup       median {n:.2f} s")
        print(f"  the backup adds {w - n:.2f} s (goal: under 1 s): "
              f"{'met' if w - n < 1 else 'NOT met'}")
    finally:
        for env in (BIG, SMALL):
            remove(env)


if __name__ == "__main__":
    main()
