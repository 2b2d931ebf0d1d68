#!/usr/bin/env bash
# Engine faults: the suite's own Docker engine is killed (kill -9 of dockerd) and started again
# while an environment serves (with a worker process), in the middle of a deploy, and in the
# middle of an upgrade.
# Afterwards the environment serves again with nobody's help, the deploy's outcome is recorded
# (and the plugin said what to do), no lock needs removing by hand, and the next release works.
# It runs last, alone (tests/CMakeLists.txt): it restarts the engine every other suite uses.
source "$(dirname "$0")/lib.sh"
setup services

pidfile=/var/run/docker.pid
if [ "$(id -u)" -ne 0 ] || [ ! -f "$pidfile" ] || ! command -v dockerd >/dev/null; then
    echo "SKIP: needs root and a dockerd of this machine's own to kill and start again" >&2
    exit 77
fi

# kill -9 of dockerd, then the engine started again as scripts/test.sh starts it (unless a
# supervisor such as systemd does so first).
crash_engine() {
    local pid i
    pid="$(cat "$pidfile")"
    kill -9 "$pid"
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    sleep 2
    if ! "$DOCKER" info >/dev/null 2>&1; then
        nohup dockerd >>/tmp/dockerd.log 2>&1 &
    fi
    for i in $(seq 1 60); do "$DOCKER" info >/dev/null 2>&1 && return 0; sleep 1; done
    fail "the engine did not come back"; exit 1
}

# Waits up to $2 seconds for the URL $1 to answer $3.
answers_within() {
    local i
    for i in $(seq 1 "$2"); do
        [ "$(curl -s --max-time 2 "$1")" == "$3" ] && return 0
        sleep 1
    done
    return 1
}

env="$(env_name fault)"
pallet env create "$env" --service postgres --health-timeout 20s --drain 1s
pallet release "$env" pallet-conformance:proc-v1 --replicas 2
expect_eq "$CODE" "0" "release v1 (with a worker process)"
url="$OUT"

# 1. While serving.
crash_engine
if answers_within "$url" 60 v1; then pass "serving: v1 answers again after the engine restarted"; else fail "serving: v1 does not answer after the engine restarted"; fi
pallet status "$env" --format json
expect_contains "$OUT" '"Running":2,"Replicas":2' "serving: both serve containers came back"
expect_contains "$OUT" '"postgres":"running"' "serving: the provided PostgreSQL came back"
expect_contains "$OUT" '"Processes":{"worker":{"Running":1,"Wanted":1}}' "serving: its worker came back"

# 2. In the middle of a deploy.
pallet env set "$env" DEPLOY_SECONDS=20
out="$(mktemp)"
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >"$out" 2>&1 & deployer=$!
E2E_PIDS+=("$deployer")
for _ in $(seq 1 100); do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy" 2>/dev/null)" == "true" ] && break; sleep 0.1
done
sleep 1
crash_engine
wait "$deployer"; code=$?
expect_eq "$code" "1" "mid-deploy: the plugin fails"
expect_contains "$(cat "$out")" "lost the deploy of pallet-conformance:v2" "mid-deploy: and says what happened"
expect_contains "$(cat "$out")" "docker pallet history $env" "mid-deploy: and what to do"
expect_eq "$(grep -c '^docker-pallet: error' "$out")" "1" "mid-deploy: in one error"
rm -f "$out"
pallet history "$env" --format json
expect_contains "$(echo "$OUT" | grep '"Version":"pallet-conformance:v2"' | head -1)" '"Result":"failed (exit 137: killed)"' \
    "mid-deploy: history records the killed deploy"
if answers_within "$url" 60 v1; then pass "mid-deploy: v1 still serves"; else fail "mid-deploy: v1 does not serve"; fi
pallet serve "$env" pallet-conformance:v2
expect_eq "$CODE" "1" "mid-deploy: the killed version is not served"
pallet env set "$env" DEPLOY_SECONDS=0
pallet deploy "$env" pallet-conformance:v2
expect_eq "$CODE" "0" "mid-deploy: the next deploy proceeds (no lock to remove)"

# 3. In the middle of an upgrade: a version whose health check takes long holds the serve lock.
"$DOCKER" pallet deploy "$env" pallet-conformance:unhealthy >/dev/null 2>&1
"$DOCKER" pallet serve "$env" pallet-conformance:unhealthy >/dev/null 2>&1 & server=$!
E2E_PIDS+=("$server")
for _ in $(seq 1 100); do
    [ "$("$DOCKER" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve --filter label=io.pallet.version=pallet-conformance:unhealthy)" ] && break
    sleep 0.1
done
sleep 1
crash_engine
wait "$server"
if answers_within "$url" 60 v1; then pass "mid-upgrade: v1 serves again"; else fail "mid-upgrade: v1 does not serve"; fi
expect_eq "$("$DOCKER" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.version=pallet-conformance:unhealthy | wc -l)" "0" \
    "mid-upgrade: the new version's containers did not come back (nothing routes to them)"
start=$(date +%s)
pallet release "$env" pallet-conformance:v2
expect_eq "$CODE" "0" "mid-upgrade: the next release works"
expect_not_contains "$ERR" "to finish changing what" "mid-upgrade: no serve lock left to wait for"
expect_eq "$(curl -s --max-time 5 "$url")" "v2" "v2 serves"
echo "the next release took $(( $(date +%s) - start ))s"
