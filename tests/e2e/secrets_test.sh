#!/usr/bin/env bash
# Secrets stay secret, proven by planting them: a variable, a deploy-only token, proxy
# credentials, an external service's password and the provided PostgreSQL's. While every command
# runs with -D, a sampler reads every process's command line on the machine; afterwards none of
# them, no output of the plugin (debug, dry-run, progress, errors, status, history, env show),
# no label but the environment's own record, and no log of a container the plugin made for
# itself holds a secret. Only env show --reveal prints them.
source "$(dirname "$0")/lib.sh"
setup services

env="$(env_name secrets)"
a="planted-var-$RUN_ID"; b="planted-deploy-$RUN_ID"; c="planted-proxy-$RUN_ID"; d="planted-redis-$RUN_ID"
secrets=("$a" "$b" "$c" "$d")
work="$(mktemp -d)"
# An application whose serve prints its whole environment and never gets healthy: the plugin
# quotes that output in its error. (What an application prints live, in test, deploy or run, is
# its own business and the user's to see.)
printf 'FROM pallet-test-busybox:1\nENTRYPOINT ["sh", "-c", "[ \\"$0\\" = deploy ] && exit 0; env; sleep 1000"]\n' |
    "$DOCKER" build -q -t "pallet-test-leaky:$RUN_ID" - >/dev/null

# Every process's command line, sampled every 10 ms until the stop file appears.
( while [ ! -f "$work/stop" ]; do
      for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' <"$f" 2>/dev/null; echo; done
      sleep 0.01
  done | grep -a 'docker' | sort -u >"$work/cmdlines" ) & sampler=$!
E2E_PIDS+=("$sampler")

# Runs docker -D pallet ARGS, keeping all it printed.
run() { "$DOCKER" -D pallet "$@" >>"$work/output" 2>&1; echo "$?"; }

run env create "$env" --service postgres --service "redis=redis://:$d@127.0.0.1:1/0" >/dev/null
run env set "$env" SECRET_KEY="$a" DEPLOY_TOKEN="$b" HTTP_PROXY="http://user:$c@proxy.internal:3128" >/dev/null
expect_eq "$(run release "$env" pallet-conformance:v1)" "0" "release with planted secrets"
postgres_password="$("$DOCKER" pallet env show "$env" --reveal --format json >/dev/null; \
    "$DOCKER" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "pallet-$env-deploy" |
    sed -n 's|^DB_DEFAULT_URL=postgres://[^:]*:\([^@]*\)@.*|\1|p')"
[ -n "$postgres_password" ] && secrets+=("$postgres_password") || fail "the provided PostgreSQL password was not found"
run deploy "$env" pallet-conformance:v2 >/dev/null
run serve "$env" pallet-conformance:v2 >/dev/null
run scale "$env" 2 >/dev/null
run test pallet-conformance:v1 -e "TOKEN=$a" >/dev/null
USER="$WARM_USER" run test pallet-conformance:v1 --service postgres --reuse-services >/dev/null
run run "$env" true >/dev/null
run --dry-run release "$env" pallet-conformance:v3 >/dev/null
run --dry-run env set "$env" OTHER="$a" >/dev/null
expect_eq "$(run release "$env" "pallet-test-leaky:$RUN_ID")" "1" "a version that prints its environment and never gets healthy fails"
expect_contains "$(cat "$work/output")" "did not become healthy" "its error quotes its output"
run status >/dev/null; run status "$env" --format json >/dev/null; run history "$env" >/dev/null
run history "$env" --format json >/dev/null; run logs "$env" --phase deploy >/dev/null
run env show "$env" >/dev/null; run env show "$env" --format json >/dev/null; run env ls --format json >/dev/null
run deploy "$env" "pallet-conformance:missing-$RUN_ID" >/dev/null
sleep 0.5; touch "$work/stop"; wait "$sampler"

# The processes the plugin started: not the user's own commands (docker -D pallet ..., and the
# plugin as the docker CLI runs it), which hold what the user typed.
grep -av -E '(^|/)(docker|docker-pallet) -D pallet ' "$work/cmdlines" >"$work/started"
expect_contains "$(cat "$work/started")" "docker -D container" "the sampler saw the plugin's docker processes"
# The lines of FILE that hold SECRET, or "" when none.
holding() { grep -aF -- "$2" "$1" | cut -c1-300 | head -3; }
for secret in "${secrets[@]}"; do
    what="secret ${secret:0:14}..."
    expect_eq "$(holding "$work/started" "$secret")" "" "$what: on no command line of a process the plugin started"
    expect_eq "$(holding "$work/output" "$secret")" "" "$what: in no output (debug, dry-run, progress, errors, status, history, env show)"
done
expect_contains "$(cat "$work/output")" "****" "the leaky application's variables are masked in the error"

# Labels: only the environment's own record (and the warm server's admin password in its own
# container's environment) may hold a value.
"$DOCKER" ps -a --filter "label=io.pallet.env=$env" --format '{{.Names}} {{.Labels}}' | grep -v -- "-config-" >"$work/labels"
# Logs of the containers the plugin made for itself: the router, the PostgreSQL server.
{ "$DOCKER" logs "pallet-$env-router"; "$DOCKER" logs "pallet-$env-postgres"; } >"$work/logs" 2>&1
for secret in "${secrets[@]}"; do
    expect_eq "$(holding "$work/labels" "$secret")" "" "secret ${secret:0:14}...: in no label but the environment's record"
    expect_eq "$(holding "$work/logs" "$secret")" "" "secret ${secret:0:14}...: in no log of the router or a service"
done
# Only --reveal prints them.
pallet env show "$env" --reveal
expect_contains "$OUT" "SECRET_KEY=$a" "env show --reveal prints values"
expect_contains "$OUT" "redis://:$d@127.0.0.1:1/0" "and the credentials of service URLs"
"$DOCKER" rmi -f "pallet-test-leaky:$RUN_ID" >/dev/null 2>&1
rm -rf "$work"
