#!/usr/bin/env bash
# Rules 5 to 8: serving through the router, upgrades without a failed request and with a serve
# container running at every moment, the engine as the only store, --dry-run, formats.
source "$(dirname "$0")/lib.sh"
setup

env="$(env_name serve)"
pallet env create "$env" --kind staging --site-domain example.test --site-protocol https --health-timeout 8s
expect_eq "$CODE" "0" "env create"
pallet env create "$env"
expect_eq "$CODE" "1" "env create of an existing environment fails"
pallet env set "$env" SECRET_KEY=hunter2 WEB_CONCURRENCY=2 WORKER_CONCURRENCY=1
pallet env show "$env"
expect_contains "$OUT" "  SECRET_KEY" "env show lists variables by name"
expect_not_contains "$OUT" "hunter2" "env show shows no value"
pallet env show "$env" --reveal
expect_contains "$OUT" "SECRET_KEY=hunter2" "env show --reveal shows values"
expect_contains "$OUT" "WEB_CONCURRENCY=2" "env show --reveal shows every value"
pallet env ls --format json
expect_contains "$OUT" "\"Name\":\"$env\",\"Kind\":\"staging\"" "env ls --format json"

pallet release "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "release v1"
url="$OUT"
expect_contains "$url" "http://127.0.0.1:" "release prints the URL on stdout"
expect_eq "$(curl -s --max-time 5 "$url")" "v1" "the router serves v1"
headers="$(curl -s -D - -o /dev/null --max-time 5 "${url}static/deployed-v1.txt")"
expect_contains "$headers" "200 OK" "/static is served from the static volume"
expect_contains "$headers" "immutable" "/static has immutable caching headers"
serve_rec="$(records "$env")"
for want in "env.ENVIRONMENT=staging" "env.SITE_DOMAIN=example.test" "env.SITE_PROTOCOL=https" \
            "env.WEB_CONCURRENCY=2" "env.WORKER_CONCURRENCY=1" "env.SECRET_KEY=hunter2"; do
    expect_contains "$(record_values "$env" serve "${want%%=*}" | sed "s/^/${want%%=*}=/")" "$want" "serve gets $want"
done
serve_name="$("$DOCKER" ps --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve --format '{{.Names}}')"
expect_eq "$("$DOCKER" inspect -f '{{json .HostConfig.PortBindings}}' "$serve_name")" "{}" "serve containers publish no port"
expect_eq "$("$DOCKER" inspect -f '{{.Config.User}}' "$serve_name")" "1234" "the image's own user"
expect_eq "$("$DOCKER" inspect -f '{{.Config.Labels}}' "$serve_name" | grep -c 'io.pallet.version:pallet-conformance:v1')" "1" "serve containers are labelled with the version"

# Rule 5: upgrade under load: no failed request, v2 afterwards, v1 got SIGTERM after v2 started.
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >/dev/null 2>&1
codes="$(mktemp)"
( for _ in $(seq 1 1500); do
      [ -f "$codes.stop" ] && break
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$url" || echo "000"
  done >"$codes" ) & loader=$!
E2E_PIDS+=("$loader")
sleep 0.5
pallet serve "$env" pallet-conformance:v2
expect_eq "$CODE" "0" "serve v2"
sleep 0.5; touch "$codes.stop"; wait "$loader"
total="$(wc -l <"$codes")"; bad="$(grep -vc '^200$' "$codes")"
echo "upgrade under load: $total requests, $bad failed"
expect_eq "$bad" "0" "no failed request during the upgrade ($total sent)"
expect_eq "$(curl -s --max-time 5 "$url")" "v2" "v2 serves after the upgrade"
rm -f "$codes" "$codes.stop"
v1_signal="$(record_values "$env" serve signal | head -1)"
expect_eq "$v1_signal" "TERM" "the old serve container got SIGTERM"
v1_end="$(records "$env" | awk '/^== /{f=0} /^phase=serve/{s=1} /^version=v1/{f=s} f&&/^end=/{print substr($0,5)}' | head -1)"
v2_start="$(records "$env" | awk '/^== /{f=0;s=0} /^phase=serve/{s=1} /^version=v2/{f=s} f&&/^start=/{print substr($0,7)}' | head -1)"
expect_eq "$(awk -v a="$v2_start" -v b="$v1_end" 'BEGIN { print (a != "" && b != "" && a < b) ? "yes" : "no" }')" "yes" \
    "v2 was serving before v1 stopped (v2 start $v2_start < v1 end $v1_end)"
expect_eq "$("$DOCKER" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve | wc -l)" "1" "the old serve container is gone"

# A version that never gets healthy changes nothing for users.
"$DOCKER" pallet deploy "$env" pallet-conformance:unhealthy >/dev/null 2>&1
pallet serve "$env" pallet-conformance:unhealthy
expect_eq "$CODE" "1" "an unhealthy version fails"
expect_contains "$ERR" "did not become healthy, so nothing changed for users" "health failure explained"
expect_contains "$ERR" "serving unhealthy on port 8000" "with the container's last output"
expect_eq "$(curl -s --max-time 5 "$url")" "v2" "v2 still serves"
expect_eq "$("$DOCKER" ps -aq --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve | wc -l)" "1" "the unhealthy containers are removed"

# Rule 6: the engine is the only store: the same answers through another route to it.
pallet status "$env" --format json; s1="$OUT"
expect_contains "$s1" '"Serving":"pallet-conformance:v2"' "status shows what serves"
s2="$("$DOCKER" --context default pallet status "$env" --format json)"
s3="$("$DOCKER" -H unix:///var/run/docker.sock pallet status "$env" --format json)"
expect_eq "$s2" "$s1" "status via --context default"
expect_eq "$s3" "$s1" "status via -H"
other="$(mktemp -d)"; mkdir -p "$other/cli-plugins"; cp "$PALLET_BINARY" "$other/cli-plugins/"
s4="$(DOCKER_CONFIG="$other" "$DOCKER" pallet status "$env" --format json)"
rm -rf "$other"
expect_eq "$s4" "$s1" "status from a fresh docker config (no local state)"
pallet history "$env" --format json
expect_contains "$OUT" '"Phase":"serve","Version":"pallet-conformance:v2"' "history lists serves"
expect_contains "$OUT" '"Result":"failed health check"' "history lists the failed serve"
expect_eq "$(echo "$OUT" | head -1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(sorted(d))')" \
    "['Container', 'DurationSeconds', 'Host', 'ImageID', 'Phase', 'Result', 'Started', 'User', 'Version']" "history JSON fields"
pallet history "$env"
expect_contains "$OUT" "PHASE" "history prints a table by default"

# Rule 7: --dry-run changes nothing.
before="$("$DOCKER" ps -a --filter "label=io.pallet.env=$env" --format '{{.ID}} {{.Status}}' | sort)"
pallet --dry-run release "$env" pallet-conformance:v3
expect_eq "$CODE" "0" "dry-run release"
# The conformance app runs as a non-root user: its containers are created, handed their mounts, started.
expect_contains "$OUT" "container create --name pallet-$env-deploy" "dry-run prints the deploy"
for cmd in "stop $env" "rm $env --volumes"; do
    pallet --dry-run $cmd
    expect_eq "$CODE" "0" "dry-run $cmd"
    expect_contains "$OUT" "docker container" "dry-run $cmd prints docker commands"
done
pallet serve "$env" --replicas 2 --dry-run
expect_contains "$OUT" "container start pallet-$env-serve-" "dry-run serve prints the start"
after="$("$DOCKER" ps -a --filter "label=io.pallet.env=$env" --format '{{.ID}} {{.Status}}' | sort)"
expect_eq "$(echo "$after" | awk '{print $1}')" "$(echo "$before" | awk '{print $1}')" "dry-run created and removed nothing"

# Scale through serve --replicas, logs, stop and rm.
pallet serve "$env" --replicas 2
expect_eq "$("$DOCKER" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve | wc -l)" "2" "two replicas"
pallet logs "$env"
expect_contains "$OUT" "serving v2 on port 8000" "logs shows serve output"
pallet stop "$env"
expect_eq "$CODE" "0" "stop"
expect_eq "$("$DOCKER" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve | wc -l)" "0" "stop ends serving"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url")" "000" "nothing answers after stop"
pallet rm "$env" --volumes
expect_eq "$CODE" "0" "rm --volumes"
expect_eq "$(leftovers "$env" | wc -l)" "0" "rm --volumes leaves nothing of the environment"
pallet status "$env"
expect_eq "$CODE" "1" "status of a removed environment fails"
