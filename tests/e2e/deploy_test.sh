#!/usr/bin/env bash
# Rules 2, 3 and 4: deploy before serve, one version's deploy at a time (also when started in
# the same second), joining a running deploy of the same version, no stale lock after a crash,
# Ctrl-C never kills a deploy, and every deploy recorded on the engine.
source "$(dirname "$0")/lib.sh"
setup

env="$(env_name deploy)"

# Rule 2: never serve what was not deployed, or whose last deploy failed.
pallet serve "$env" pallet-conformance:v1
expect_eq "$CODE" "1" "serve before any deploy is refused"
expect_contains "$ERR" "was never deployed to $env; deploy it first: docker pallet deploy $env pallet-conformance:v1" "refusal says what to run"

pallet deploy "$env" pallet-conformance:broken-deploy
expect_eq "$CODE" "3" "failed deploy exits with the deploy's code"
pallet serve "$env" pallet-conformance:broken-deploy
expect_eq "$CODE" "1" "serve of a failed deploy is refused"
expect_contains "$ERR" "failed (exit 3)" "refusal names the failure"
expect_eq "$("$DOCKER" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve | wc -l)" "0" "nothing serves"

pallet deploy "$env" pallet-conformance:v1 -e X=1
expect_eq "$CODE" "125" "deploy takes no -e (variables belong to the environment)"

"$DOCKER" pallet env set "$env" DEPLOY_SECONDS=0 WEB_CONCURRENCY=3 >/dev/null 2>&1
pallet deploy "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "deploy succeeds"
expect_contains "$ERR" "deploying v1" "deploy output is streamed (to stderr: stdout is data)"
rec="$(records "$env")"
expect_contains "$rec" "env.DEPLOY_SECONDS=0" "DEPLOY variables reach deploy"
expect_eq "$(record_values "$env" deploy env.WEB_CONCURRENCY | wc -l)" "0" "serve-only variables stay out of deploy"
expect_eq "$(record_values "$env" deploy uid | sort -u)" "1234" "deploy runs as the image's user"

# Rule 3: two versions started in the same second: one runs, the other fails at once.
"$DOCKER" pallet env set "$env" DEPLOY_SECONDS=4 >/dev/null 2>&1
o2="$(mktemp)"; o3="$(mktemp)"
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >"$o2" 2>&1 & p2=$!
"$DOCKER" pallet deploy "$env" pallet-conformance:v3 >"$o3" 2>&1 & p3=$!
wait $p2; c2=$?; wait $p3; c3=$?
expect_eq "$(( (c2 == 0) + (c3 == 0) ))" "1" "exactly one of two concurrent versions deploys"
loser="$o2"; [ "$c2" -eq 0 ] && loser="$o3"
v2_deploys_so_far=$(( c2 == 0 ? 2 : 1 ))  # with the one of the start
expect_contains "$(cat "$loser")" "another version is being deployed to $env" "the other fails naming the running deploy"
expect_contains "$(cat "$loser")" "started by" "the message says who"
expect_contains "$(cat "$loser")" "--wait" "the message offers --wait"

# --wait waits for the running deploy, then runs; the same version joins instead.
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >"$o2" 2>&1 & p2=$!
sleep 1
"$DOCKER" pallet deploy "$env" pallet-conformance:v3 --wait >"$o3" 2>&1 & p3=$!
o2b="$(mktemp)"
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >"$o2b" 2>&1 & p2b=$!
wait $p2; c2=$?; wait $p2b; c2b=$?; wait $p3; c3=$?
expect_eq "$c2:$c2b:$c3" "0:0:0" "first, joiner and waiter all succeed"
expect_contains "$(cat "$o2b")" "a deploy of the same version is running" "same version joins"
expect_contains "$(cat "$o3")" "waiting for the deploy of pallet-conformance:v2" "--wait waits"
# Never two versions' deploys at once: intervals of different versions do not overlap.
overlaps="$(records "$env" | awk '
    /^== / { if (p == "deploy" && s != "" && e != "") print v, s, e; p = s = e = v = "" }
    /^phase=/ { p = substr($0, 7) } /^version=/ { v = substr($0, 9) }
    /^start=/ { s = substr($0, 7) } /^end=/ { e = substr($0, 5) }
    END { if (p == "deploy" && s != "" && e != "") print v, s, e }' |
    awk '{ v[NR] = $1; s[NR] = $2; e[NR] = $3 }
         END { n = 0; for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++)
                 if (v[i] != v[j] && s[i] < e[j] && s[j] < e[i]) n++; print n }')"
expect_eq "$overlaps" "0" "no two versions' deploys overlapped"
expect_eq "$(record_values "$env" deploy version | grep -c v2)" "$v2_deploys_so_far" "the joiner did not run a second v2 deploy"

# Rule 4: kill -9 of the plugin leaves no lock to remove by hand; the deploy goes on.
"$DOCKER" pallet env set "$env" DEPLOY_SECONDS=3 >/dev/null 2>&1
"$DOCKER" pallet deploy "$env" pallet-conformance:v1 >/dev/null 2>&1 & pk=$!
for _ in $(seq 1 50); do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy" 2>/dev/null)" == "true" ] && break
    sleep 0.1
done
pkill -9 -f "docker-pallet.*deploy $env pallet-conformance:v1"; kill -9 $pk 2>/dev/null; wait $pk 2>/dev/null
expect_eq "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy")" "true" "the deploy survives kill -9 of the plugin"
pallet deploy "$env" pallet-conformance:v2 --wait=60s
expect_eq "$CODE" "0" "the next deploy proceeds once the orphan finished"
pallet history "$env" --format json
expect_contains "$OUT" '"Phase":"deploy","Version":"pallet-conformance:v1","ImageID":"sha256:' "history has the orphaned deploy"
orphan="$(echo "$OUT" | grep '"Version":"pallet-conformance:v1"' | head -1)"
expect_contains "$orphan" '"Result":"succeeded"' "the orphaned deploy's result is recorded"

# Ctrl-C (SIGINT, stdout not a terminal) does not kill a running deploy.
"$DOCKER" pallet deploy "$env" pallet-conformance:v3 >"$o3" 2>&1 & pc=$!
for _ in $(seq 1 50); do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy" 2>/dev/null)" == "true" ] && break
    sleep 0.1
done
kill -INT $pc
wait $pc; cc=$?
expect_eq "$cc" "130" "Ctrl-C exits 130"
expect_contains "$(cat "$o3")" "the deploy goes on in container pallet-$env-deploy" "Ctrl-C says the deploy goes on"
expect_contains "$(cat "$o3")" "docker pallet logs $env --phase deploy -f" "and how to follow it"
expect_eq "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy")" "true" "the deploy container still runs"
pallet rm "$env" --volumes
expect_eq "$CODE" "1" "rm refuses while a deploy runs"
expect_contains "$ERR" "a deploy of pallet-conformance:v3 is running in $env" "rm says why"
expect_eq "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy")" "true" "rm did not kill the deploy"
code="$("$DOCKER" wait "pallet-$env-deploy")"
expect_eq "$code" "0" "and finishes on its own"
pallet logs "$env" --phase deploy
expect_contains "$OUT" "deploying v3" "logs --phase deploy shows the deploy's output"

# An image without a deploy command fails clearly and frees the lock.
pallet deploy "$env" pallet-conformance:no-deploy
expect_eq "$CODE" "1" "an image without deploy fails"
expect_contains "$ERR" "could not start" "an image without deploy is explained"
"$DOCKER" pallet env set "$env" DEPLOY_SECONDS=0 >/dev/null 2>&1
pallet deploy "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "the lock is free after a deploy that could not start"
pallet history "$env"
expect_contains "$OUT" "not started" "the deploy that could not start is in the history"

# The engine stops answering in the middle of a command: a docker that fails after its first
# calls, as docker does when the daemon goes away. Clear message, exit 1; the next deploy works.
flaky="$(mktemp -d)"
cat >"$flaky/docker" <<FLAKY
#!/bin/sh
n=\$(( \$(cat "$flaky/count" 2>/dev/null || echo 0) + 1 )); echo \$n > "$flaky/count"
if [ \$n -gt 3 ]; then
    echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
    exit 1
fi
exec "$(command -v "$DOCKER")" "\$@"
FLAKY
chmod +x "$flaky/docker"
out="$(DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND="$flaky/docker" "$PALLET_BINARY" deploy "$env" pallet-conformance:v2 2>&1)"; code=$?
expect_eq "$code" "1" "an engine that stops answering fails the command"
expect_contains "$out" "cannot reach the Docker engine" "and says so"
expect_contains "$out" "--context or --host" "with what to do"
rm -rf "$flaky"
pallet deploy "$env" pallet-conformance:v2
expect_eq "$CODE" "0" "the environment works again once the engine answers"

pallet deploy "$env" pallet-no-such-image:404
expect_eq "$CODE" "1" "a missing image fails"
expect_contains "$ERR" "could not be pulled" "a missing image is explained"
rm -f "$o2" "$o3" "$o2b"
