#!/usr/bin/env bash
# Serving without downtime, proven under bounded load on 127.0.0.1: an upgrade, an upgrade to a
# version that never gets healthy, scale 1 -> 3 -> 1 and a rollback, each with zero failed
# requests; and the bad input of serving (scale 0, a port in use, nothing to roll back to). The
# router image is nginx-light as Debian's package installs it.
source "$(dirname "$0")/lib.sh"
setup
# The router from Debian's nginx-light left as the package installs it (default site, no wget):
# the plugin's own configuration must be all that counts.
export PALLET_ROUTER_IMAGE=pallet-test-nginx-debian:1

env="$(env_name load)"
pallet env create "$env" --health-timeout 6s --drain 1s
pallet release "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "release v1"
url="$OUT"
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >/dev/null 2>&1
"$DOCKER" pallet deploy "$env" pallet-conformance:unhealthy >/dev/null 2>&1
"$DOCKER" pallet deploy "$env" pallet-conformance:bad-healthcheck >/dev/null 2>&1


# 1. v1 -> v2: no failure, and after the switch only v2 answers.
under_load serve "$env" pallet-conformance:v2
expect_eq "$CODE" "0" "upgrade to v2"
expect_eq "$(field '["failures"]')" "0" "upgrade: zero failed requests of $(field '["requests"]')"
expect_eq "$(field '["last"]' | tr -d "[]' ," | sed 's/v2//g')" "" "upgrade: the last responses all come from v2"
expect_eq "$(curl -s --max-time 5 "$url")" "v2" "v2 serves"

# 2. A version that never answers, and one whose HEALTHCHECK fails: users never notice.
for bad in unhealthy bad-healthcheck; do
    under_load serve "$env" "pallet-conformance:$bad"
    expect_eq "$CODE" "1" "serve $bad fails"
    expect_eq "$(field '["failures"]')" "0" "$bad: zero failed requests"
    expect_eq "$(field '["bodies"]')" "{'v2': $(field '["requests"]')}" "$bad: every response from v2"
done
expect_contains "$ERR" "by its HEALTHCHECK" "a failing HEALTHCHECK is named"

# 3. scale 1 -> 3 -> 1, then rollback v2 -> v1.
serving() { "$DOCKER" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve | wc -l; }
under_load scale "$env" 3
expect_eq "$CODE:$(serving)" "0:3" "scale to 3"
expect_eq "$(field '["failures"]')" "0" "scale up: zero failed requests"
under_load scale "$env" 1
expect_eq "$CODE:$(serving)" "0:1" "scale to 1"
expect_eq "$(field '["failures"]')" "0" "scale down: zero failed requests"
under_load rollback "$env"
expect_eq "$CODE" "0" "rollback"
expect_eq "$(field '["failures"]')" "0" "rollback: zero failed requests"
expect_eq "$(curl -s --max-time 5 "$url")" "v1" "rollback went back to v1"
expect_eq "$(record_values "$env" deploy version | grep -c '^v1$')" "2" "rollback ran v1's deploy again"

# Two CI jobs serving different versions at once: one waits for the other; no failed request,
# and afterwards exactly the last one's containers run, behind the router.
stop="$(mktemp -u)"
python3 "$LOAD" "$url" --requests 20000 --clients 4 --until-file "$stop" --json >"$stop.json" & loader=$!
E2E_PIDS+=("$loader")
o1="$(mktemp)"; o2="$(mktemp)"
"$DOCKER" pallet serve "$env" pallet-conformance:v2 >"$o1" 2>&1 & s1=$!
"$DOCKER" pallet serve "$env" pallet-conformance:v1 >"$o2" 2>&1 & s2=$!
wait $s1; c1=$?; wait $s2; c2=$?
sleep 0.5; touch "$stop"; wait "$loader"; LOAD_RESULT="$(cat "$stop.json")"; rm -f "$stop" "$stop.json"
echo "concurrent serves under load: $LOAD_RESULT" | cut -c1-200
expect_eq "$c1:$c2" "0:0" "two concurrent serves both succeed"
expect_contains "$(cat "$o1" "$o2")" "to finish changing what $env serves" "one waited for the other"
expect_eq "$(field '["failures"]')" "0" "concurrent serves: zero failed requests"
expect_eq "$(serving)" "1" "one serve container runs afterwards"
running_version="$("$DOCKER" ps --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve --format '{{.Label "io.pallet.version"}}')"
expect_eq "pallet-conformance:$(curl -s --max-time 5 "$url")" "$running_version" "the router serves the container that runs"
expect_eq "$("$DOCKER" ps -aq --filter name="pallet-$env-serve-lock" | wc -l)" "0" "the serve lock is released"
rm -f "$o1" "$o2"
"$DOCKER" pallet serve "$env" pallet-conformance:v1 >/dev/null 2>&1

# Bad input.
pallet scale "$env" 0
expect_eq "$CODE" "125" "scale 0 is refused"
expect_contains "$ERR" "docker pallet stop" "scale 0 points at stop"
port="$(echo "$url" | sed 's|.*:\([0-9]*\)/|\1|')"
other="$(env_name taken)"
pallet env create "$other" --port "$port"
pallet release "$other" pallet-conformance:v1
expect_eq "$CODE" "1" "a port in use fails"
expect_contains "$ERR" "port $port on 127.0.0.1 is taken" "a port in use is explained"
expect_eq "$("$DOCKER" ps -aq --filter "label=io.pallet.env=$other" --filter label=io.pallet.phase=serve | wc -l)" "0" "nothing half-started after a port in use"
expect_eq "$("$DOCKER" ps -aq --filter "label=io.pallet.env=$other" --filter label=io.pallet.phase=router | wc -l)" "0" "no router left after a port in use"
fresh="$(env_name fresh)"
"$DOCKER" pallet release "$fresh" pallet-conformance:v1 >/dev/null 2>&1
pallet rollback "$fresh"
expect_eq "$CODE" "1" "rollback with nothing to roll back to fails"
expect_contains "$ERR" "nothing to roll back to" "and says so"
# An unreadable static file is refused alone; the site keeps serving.
"$DOCKER" run --rm -v "pallet-$env-static:/static" --entrypoint sh --user 0 pallet-conformance:v1 \
    -c 'echo secret > /static/locked.txt && chmod 000 /static/locked.txt && echo ok > /static/open.txt && chmod 644 /static/open.txt'
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${url}static/locked.txt")" "403" "an unreadable static file is refused"
expect_eq "$(curl -s --max-time 5 "${url}static/open.txt")" "ok" "other static files are served"
expect_eq "$(curl -s --max-time 5 "$url")" "v1" "and the site keeps serving"
