#!/usr/bin/env bash
# A remote engine over SSH (sshd on 127.0.0.1 in front of the suite's engine): every docker
# call of a command shares one SSH connection; test, release, rollback and logs -f work through
# it; Ctrl-C mid-deploy leaves the deploy going and no ssh process; two clients deploying over
# SSH keep the lock rules; a wrong key and a dropped connection give clear errors, change
# nothing, and the next command works once sshd is back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ssh_lib.sh"
setup
alias="pallet-e2e-$RUN_ID"
ssh_up "$alias" || { fail "could not start sshd"; exit 1; }
trap 'ssh_down; finish; exit $?' EXIT
remote="ssh://$alias"
"$DOCKER" context create "$alias" --docker "host=$remote" >/dev/null
env="$(env_name ssh)"

# A kept connection (PALLET_SSH_KEEP): the next command reuses it without a handshake, and it
# ends by itself once idle that long.
out1="$(PALLET_SSH_KEEP=3s "$DOCKER" -D -H "$remote" pallet status 2>&1)"
out2="$(PALLET_SSH_KEEP=3s "$DOCKER" -D -H "$remote" pallet status 2>&1)"
expect_contains "$out1" "opened the SSH connection to $alias" "the first command opens the connection"
expect_contains "$out2" "reusing the SSH connection to $alias" "the next one reuses it"
expect_eq "$(plugin_ssh_processes | wc -l)" "1" "one kept connection between commands"
sleep 5
expect_eq "$(plugin_ssh_processes | wc -l)" "0" "it ends once idle for its time"
# From here on each command's connection ends with it, so that what is left can be checked.
export PALLET_SSH_KEEP=0

# Through -H: a test run, with one SSH connection for all its docker calls.
out="$("$DOCKER" -D -H "$remote" pallet test pallet-conformance:v1 2>&1)"; code=$?
expect_eq "$code" "0" "test over ssh://"
expect_contains "$out" "over the SSH connection to $alias" "-D says each call goes over the command's SSH connection"
expect_eq "$(echo "$out" | grep -c 'docker-pallet: debug: docker')" \
    "$(echo "$out" | grep 'docker-pallet: debug: docker' | grep -c "over the SSH connection")" "every docker call does"

# Through a context: release, rollback, logs -f.
run_docker --context "$alias" pallet release "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "release over a docker context with an ssh:// host"
url="$OUT"
expect_eq "$(curl -s --max-time 5 "$url")" "v1" "v1 serves"
"$DOCKER" --context "$alias" pallet release "$env" pallet-conformance:v2 >/dev/null 2>&1
run_docker --context "$alias" pallet rollback "$env"
expect_eq "$CODE" "0" "rollback over ssh"
expect_eq "$(curl -s --max-time 5 "$url")" "v1" "rolled back to v1"
timeout -s INT 4 "$DOCKER" --context "$alias" pallet logs "$env" -f >"$E2E_CONFIG/logs.out" 2>&1
expect_contains "$(cat "$E2E_CONFIG/logs.out")" "serving v1 on port 8000" "logs -f over ssh"
sleep 0.5
expect_eq "$(plugin_ssh_processes | wc -l)" "0" "no ssh process outlives a command"
status_ssh="$("$DOCKER" --context "$alias" pallet status "$env" --format json)"
expect_eq "$status_ssh" "$("$DOCKER" pallet status "$env" --format json)" "status over ssh equals status locally"
PALLET_SSH_MUX=0 run_docker -H "$remote" pallet status "$env" --format json
expect_eq "$OUT" "$status_ssh" "PALLET_SSH_MUX=0: the same, each call its own connection"

# Ctrl-C in the middle of a deploy: exit 130, the deploy goes on, no ssh process left.
pallet env set "$env" DEPLOY_SECONDS=6
"$DOCKER" -H "$remote" pallet deploy "$env" pallet-conformance:v2 >/dev/null 2>&1 & deployer=$!
E2E_PIDS+=("$deployer")
for _ in $(seq 1 100); do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy" 2>/dev/null)" == "true" ] && break; sleep 0.1
done
kill -INT "$deployer"
wait "$deployer"; expect_eq "$?" "130" "Ctrl-C mid-deploy over ssh: exit 130"
expect_eq "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy")" "true" "the deploy goes on"
sleep 0.5
expect_eq "$(plugin_ssh_processes | wc -l)" "0" "no ssh process is left after Ctrl-C"
"$DOCKER" wait "pallet-$env-deploy" >/dev/null

# Two clients over SSH deploying two versions at once: one runs, the other says who holds it.
o1="$(mktemp)"; o2="$(mktemp)"
"$DOCKER" -H "$remote" pallet deploy "$env" pallet-conformance:v3 >"$o1" 2>&1 & d1=$!
"$DOCKER" --context "$alias" pallet deploy "$env" pallet-conformance:v1 >"$o2" 2>&1 & d2=$!
wait "$d1"; c1=$?; wait "$d2"; c2=$?
expect_eq "$(printf '%s\n' "$c1" "$c2" | sort | tr '\n' ' ')" "0 1 " "two versions over ssh at once: one deploys, one is refused"
expect_contains "$(cat "$o1" "$o2")" "another version is being deployed to $env" "the refused one names the lock's holder"
rm -f "$o1" "$o2"
pallet env set "$env" DEPLOY_SECONDS=0

# A wrong key: a clear error, nothing changed.
before="$(engine_snapshot)"
run_docker -H "ssh://$alias-wrong-key" pallet release "$env" pallet-conformance:v2
expect_eq "$CODE" "1" "a wrong key fails"
expect_contains "$ERR" "cannot reach the Docker engine over ssh://$alias-wrong-key" "and says where"
expect_contains "$ERR" "Permission denied" "and why, in ssh's words"
expect_eq "$(echo "$ERR" | grep -c '^docker-pallet: error')" "1" "in one error"
expect_eq "$(engine_snapshot)" "$before" "a wrong key changes nothing"

# sshd stops in the middle of a command: a clear error; the next command works once it is back.
pallet env set "$env" DEPLOY_SECONDS=4
"$DOCKER" -H "$remote" pallet deploy "$env" pallet-conformance:v2 >"$E2E_CONFIG/drop.out" 2>&1 & deployer=$!
E2E_PIDS+=("$deployer")
for _ in $(seq 1 100); do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "pallet-$env-deploy" 2>/dev/null)" == "true" ] && break; sleep 0.1
done
ssh_stop_server
wait "$deployer"; code=$?
expect_eq "$code" "1" "a dropped connection fails the command"
expect_contains "$(cat "$E2E_CONFIG/drop.out")" "the SSH connection to $alias dropped" "and says so"
expect_eq "$(plugin_ssh_processes | wc -l)" "0" "no ssh process is left after a drop"
ssh_start_server
"$DOCKER" wait "pallet-$env-deploy" >/dev/null
pallet env set "$env" DEPLOY_SECONDS=0
run_docker -H "$remote" pallet release "$env" pallet-conformance:v2
expect_eq "$CODE" "0" "once sshd is back, the next release works (nothing to unlock)"
expect_eq "$(curl -s --max-time 5 "$url")" "v2" "v2 serves"

# A remote host whose docker is not at the default socket (DOCKER_HOST set there): the plugin
# reaches the engine that host's docker would, not /var/run/docker.sock. Missing there first:
# the command fails and changes nothing; then there (a link to the engine's socket): it works.
alt="/run/pallet-e2e-$RUN_ID.sock"
ssh_stop_server
SSH_SET_ENV="DOCKER_HOST=unix://$alt" ssh_start_server
before="$(engine_snapshot)"
run_docker -H "$remote" pallet status "$env"
expect_eq "$CODE" "1" "an engine missing where the remote host's DOCKER_HOST says: status fails"
expect_eq "$(echo "$ERR" | grep -c '^docker-pallet: error')" "1" "in one error"
expect_contains "$ERR" "no Docker engine answers on $alias at $alt" "that says where it looked"
expect_eq "$(engine_snapshot)" "$before" "and changes nothing"
ln -s /var/run/docker.sock "$alt"
run_docker -H "$remote" pallet status "$env" --format json
expect_eq "$CODE" "0" "once the engine is there, status over ssh:// works"
expect_contains "$OUT" "\"Serving\":\"pallet-conformance:v2\"" "and reads the environment"
rm -f "$alt"
ssh_stop_server
ssh_start_server
