#!/usr/bin/env bash
# Cancellation: SIGINT to docker (stdout not a terminal, through the plugin socket), SIGTERM,
# and SIGKILL of the docker CLI: the plugin stops in order, exits 130/143, leaves nothing.
source "$(dirname "$0")/lib.sh"
setup
volumes_before="$(engine_volumes)"

# Waits until a test container of a slow run is running.
wait_test_running() {
    local _
    for _ in $(seq 1 100); do
        [ -n "$("$DOCKER" ps -q --filter label=io.pallet.test-run)" ] && return 0
        sleep 0.1
    done
    return 1
}

# The processes of the plugin now running a test.
plugin_pids() { pgrep -f "docker-pallet.* test pallet-conformance:v1" || true; }

for sig in INT TERM; do
    out="$(mktemp)"
    "$DOCKER" pallet test pallet-conformance:v1 -e TEST_SLEEP=60 >"$out" 2>&1 & pid=$!
    E2E_PIDS+=("$pid")
    wait_test_running || fail "the slow test did not start"
    start=$(date +%s.%N)
    kill -"$sig" "$pid"
    if wait_gone "$pid" 5; then pass "SIG$sig: docker pallet ends within 5 s"; else fail "SIG$sig: still running after 5 s"; fi
    wait "$pid"; code=$?
    elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    echo "SIG$sig: exit $code after ${elapsed}s"
    # The docker CLI closes the socket on the first signal: the plugin sees a cancel (130).
    [ "$sig" == INT ] && expect_eq "$code" "130" "SIGINT exits 130"
    [ "$sig" == TERM ] && expect_contains "130 143" "$code" "SIGTERM exits 130 or 143"
    expect_eq "$(plugin_pids | wc -l)" "0" "SIG$sig: no plugin process left"
    expect_eq "$(test_run_leftovers | wc -l)" "0" "SIG$sig: the transient environment is removed"
    rm -f "$out"
done

# SIGKILL of the docker CLI: the plugin notices (socket EOF, or parent death with an old
# client), stops its children and cleans up.
for client in "$DOCKER" /usr/bin/docker; do
    [ -x "$(command -v "$client")" ] || continue
    "$client" pallet test pallet-conformance:v1 -e TEST_SLEEP=60 >/dev/null 2>&1 & pid=$!
    E2E_PIDS+=("$pid")
    wait_test_running || fail "the slow test did not start under $client"
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    gone=no
    for _ in $(seq 1 100); do
        if [ -z "$(plugin_pids)" ] && [ "$(test_run_leftovers | wc -l)" == "0" ]; then gone=yes; break; fi
        sleep 0.1
    done
    expect_eq "$gone" "yes" "SIGKILL of $client: plugin, children and test environment gone within 10 s"
done

# Standalone, SIGINT directly to the plugin.
"$PALLET_BINARY" test pallet-conformance:v1 -e TEST_SLEEP=60 >/dev/null 2>&1 & pid=$!
E2E_PIDS+=("$pid")
wait_test_running || fail "the standalone slow test did not start"
kill -INT "$pid"; wait "$pid"; code=$?
expect_eq "$code" "130" "standalone SIGINT exits 130"
expect_eq "$(test_run_leftovers | wc -l)" "0" "standalone SIGINT cleans up"
expect_eq "$(engine_volumes)" "$volumes_before" "cancelled runs leave no volume behind"
