#!/usr/bin/env bash
# A hundred environments on one engine started with docker's default settings (its default
# address pools hold about 30 bridge networks): each serves the smallest image on a network of
# its own, from the plugin's pool, and is reached through the edge by its domain; one
# environment's network cannot reach another's PostgreSQL; env prune removes them all, in one
# command, and leaves nothing. Timings are printed, not asserted (bench/ measures them).
source "$(dirname "$0")/lib.sh"
setup services
skip_if_edge_runs
# edge down keeps the edge's ACME volume: removed again when this test made it.
acme_before="$("$DOCKER" volume ls -q --filter name=^pallet-acme$)"
trap '"$DOCKER" pallet edge down >/dev/null 2>&1; [ -n "$acme_before" ] || "$DOCKER" volume rm pallet-acme >/dev/null 2>&1; finish; exit $?' EXIT
COUNT="${PALLET_MANY:-100}"
names=()
for i in $(seq -w 1 "$COUNT"); do names+=("$(env_name "m$i")"); done
logs="$(mktemp -d)"

log "creating and releasing $COUNT environments, 4 at a time"
start=$(date +%s)
# Each with a TTL of a second: env prune removes them all at the end.
printf '%s\n' "${names[@]}" | xargs -P 4 -I{} sh -c '
    "$0" pallet env create {} --port none --site-domain {}.test --ttl 1s >/dev/null 2>"$1/{}.log" &&
    "$0" pallet release {} pallet-conformance:v1 >/dev/null 2>>"$1/{}.log" || echo failed >>"$1/{}.log"' \
    "$DOCKER" "$logs"
echo "$COUNT environments released in $(( $(date +%s) - start )) s"
failed="$(grep -l '^failed$' "$logs"/*.log 2>/dev/null | wc -l)"
expect_eq "$failed" "0" "$COUNT environments created and released"
[ "$failed" -eq 0 ] || tail -n 3 $(grep -l '^failed$' "$logs"/*.log | head -2)

pallet status --format json
expect_eq "$(echo "$OUT" | grep -c "\"Name\":\"$RUN_ID-m[0-9]*\",.*\"Serving\":\"pallet-conformance:v1\",\"Running\":1")" \
    "$COUNT" "status: each of them serves with its replica"
subnets="$(for n in "${names[@]}"; do "$DOCKER" network inspect "pallet-$n" --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}'; done)"
expect_eq "$(echo "$subnets" | sort -u | grep -c '^10\.213\.[0-9]*\.0/24$')" "$COUNT" \
    "each on a network of its own, a /24 of the plugin's pool"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
pallet edge up --http "127.0.0.1:$port"
expect_eq "$CODE" "0" "edge up in front of $COUNT environments"
reached=0
for n in "${names[@]}"; do
    [ "$(curl -s --max-time 10 -H "Host: $n.test" "http://127.0.0.1:$port/")" == v1 ] && reached=$((reached + 1))
done
expect_eq "$reached" "$COUNT" "each one through the edge by its domain"

log "isolation"
# The first one gets a PostgreSQL; its own network reaches it, another's does not, by name or by
# address.
first="${names[0]}"; second="${names[1]}"
pallet env service "$first" add postgres
pallet release "$first" pallet-conformance:v1
expect_eq "$CODE" "0" "$first with a PostgreSQL"
address="$("$DOCKER" inspect "pallet-$first-postgres" --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')"
ready() { "$DOCKER" run --rm --network "pallet-$1" --entrypoint pg_isready pallet-test-postgres:15 -h "$2" -p 5432 -t 3 >/dev/null 2>&1; echo $?; }
expect_eq "$(ready "$first" "$address")" "0" "$first's network reaches its PostgreSQL at $address"
expect_eq "$(ready "$second" "$address")" "2" "$second's network does not reach it by address"
expect_eq "$(ready "$second" "pallet-$first-postgres")" "2" "nor by name"

log "env prune of $COUNT expired environments"
sleep 2
start=$(date +%s)
pallet env prune
echo "env prune of $COUNT environments took $(( $(date +%s) - start )) s"
expect_eq "$CODE" "0" "env prune"
expect_eq "$(echo "$ERR" | grep -c "removing $RUN_ID-m")" "$COUNT" "it names each one it removes"
expect_eq "$(labelled_objects 'index(env, run "-") == 1')" "" "nothing of them is left"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $first.test" "http://127.0.0.1:$port/")" \
    "404" "the edge no longer knows their domains"
pallet edge down
rm -rf "$logs"
