#!/usr/bin/env bash
# Locks trust only the engine's clock. The plugin runs under faketime (Debian's libfaketime) an
# hour ahead and an hour behind, while another serve holds the serve lock and another deploy
# holds the deploy lock: nothing is taken over, and the messages give true ages. (The docker
# CLI is a static Go program: faketime skews the plugin alone, as a remote engine would.)
source "$(dirname "$0")/lib.sh"
setup
command -v faketime >/dev/null || { fail "faketime is missing (apt-get install faketime)"; exit 1; }

env="$(env_name clock)"
pallet env create "$env" --health-timeout 15s --drain 0s
pallet release "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "release v1"
"$DOCKER" pallet deploy "$env" pallet-conformance:unhealthy >/dev/null 2>&1

# The age in seconds in "... 12s ago" (or 1m05s); empty when none.
age_of() { sed -n 's/.* \([0-9hms]*\) ago.*/\1/p' | head -1 | awk '{
    s = 0; n = ""; for (i = 1; i <= length($0); i++) { c = substr($0, i, 1);
      if (c ~ /[0-9]/) n = n c; else { if (c == "h") s += n * 3600; if (c == "m") s += n * 60; if (c == "s") s += n; n = "" } }
    print s }'; }

for skew in +1h -1h; do
    # A serve that holds the serve lock for the 15 s its version takes to fail its health check.
    "$DOCKER" pallet serve "$env" pallet-conformance:unhealthy >/dev/null 2>&1 & holder=$!
    E2E_PIDS+=("$holder")
    for _ in $(seq 1 50); do
        [ -n "$("$DOCKER" ps -aq --filter "name=^pallet-$env-serve-lock$")" ] && break; sleep 0.1
    done
    sleep 2
    out="$(mktemp)"
    faketime -f "$skew" "$DOCKER" pallet serve "$env" pallet-conformance:v1 >/dev/null 2>"$out"; code=$?
    wait "$holder"
    expect_eq "$code" "0" "serve with the local clock $skew: succeeds once the other serve ends"
    expect_not_contains "$(cat "$out")" "taking over" "clock $skew: the live serve lock is not taken over"
    expect_contains "$(cat "$out")" "to finish changing what $env serves" "clock $skew: it waited"
    age="$(grep 'its lock was taken' "$out" | age_of)"
    if [ -n "$age" ] && [ "$age" -ge 0 ] && [ "$age" -lt 30 ]; then
        pass "clock $skew: the lock's age is true (${age}s)"
    else
        fail "clock $skew: the lock's age is wrong: $(grep 'its lock' "$out")"
    fi
    rm -f "$out"
done
expect_eq "$(curl -s --max-time 5 "$(env_url "$env")")" "v1" "v1 serves"

# The deploy lock: a deploy of another version runs; one started with a skewed clock refuses
# with the true age, and a lock container just being started is not taken as abandoned.
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 -e DEPLOY_SECONDS=1 >/dev/null 2>&1
env_set_slow() { "$DOCKER" pallet env set "$env" DEPLOY_SECONDS="$1" >/dev/null 2>&1; }
env_set_slow 8
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >/dev/null 2>&1 & slow=$!
E2E_PIDS+=("$slow")
for _ in $(seq 1 50); do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy" 2>/dev/null)" == "true" ] && break; sleep 0.1
done
for skew in +1h -1h; do
    out="$(faketime -f "$skew" "$DOCKER" pallet deploy "$env" pallet-conformance:v3 2>&1)"; code=$?
    expect_eq "$code" "1" "deploy with the local clock $skew while another version deploys: refused"
    age="$(echo "$out" | grep 'another version is being deployed' | age_of)"
    if [ -n "$age" ] && [ "$age" -ge 0 ] && [ "$age" -lt 30 ]; then
        pass "clock $skew: the running deploy's age is true (${age}s)"
    else
        fail "clock $skew: the running deploy's age is wrong: $(echo "$out" | head -2)"
    fi
done
wait "$slow"
env_set_slow 0

# A lock container created just now (a deploy being started) is not abandoned for the local
# clock's sake: an hour ahead, the next deploy waits for it instead of archiving it. (The last
# deploy keeps the lock's name until the next one archives it: archive it as the plugin does.)
"$DOCKER" rename "pallet-$env-deploy" "pallet-$env-deploy-$(date +%s%3N)"
"$DOCKER" create --name "pallet-$env-deploy" --label io.pallet.managed=true --label "io.pallet.env=$env" \
    --label io.pallet.phase=deploy --label io.pallet.version=pallet-conformance:v2 \
    --label io.pallet.image-id=sha256:0 pallet-conformance:v2 deploy >/dev/null
faketime -f +1h "$DOCKER" pallet deploy "$env" pallet-conformance:v3 --wait >/dev/null 2>&1 & waiting=$!
E2E_PIDS+=("$waiting")
sleep 4
expect_eq "$("$DOCKER" inspect -f '{{.State.Status}}' "pallet-$env-deploy")" "created" \
    "a lock being started is not taken as abandoned an hour ahead"
if kill -0 "$waiting" 2>/dev/null; then pass "the next deploy waits for it"; else fail "the next deploy did not wait"; fi
"$DOCKER" rm -f "pallet-$env-deploy" >/dev/null
wait "$waiting"; expect_eq "$?" "0" "once it is gone, the deploy proceeds"
