#!/usr/bin/env bash
# Environments on Docker Swarm, on the end-to-end tests' three-node swarm built on this machine
# (swarm_lib.sh; the lifecycle scenario on it is swarm_lifecycle_test.sh): release with replicas
# spread over the nodes and one /storage; deploys of two clients that never overlap; kill -9 of a
# client mid-deploy; a failed deploy never served; process types; a worker node lost while
# serving; the same state seen from a second client; a non-root image; volumes of a driver; and bad
# input (no manager, a shared path or an image missing on a node), which leaves nothing behind.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/swarm_lib.sh"
setup "${SWARM_IMAGE_SETS[@]}"
trap 'swarm_detach; finish; exit $?' EXIT

# Runs `docker -H MANAGER pallet ARGS...` into OUT, ERR, CODE.
spallet() { run_docker -H "$SWARM_HOST" pallet "$@"; }
# The swarm's services and configs (everything a swarm environment keeps).
swarm_objects() {
    node_docker 1 service ls --format '{{.Name}}' | sort
    node_docker 1 config ls --format '{{.Name}}' | sort
}
lines() { [ -z "$1" ] && echo 0 || echo "$1" | wc -l; }

# 1. --orchestrator swarm against an engine that is not a manager.
if [ "$("$DOCKER" info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    # (The other tests use this engine meanwhile: what is checked is what this one would make.)
    pallet env create "$(env_name plain)" --orchestrator swarm --shared-path /tmp --port 18080
    expect_eq "$CODE" "1" "swarm refused on an engine in no swarm"
    expect_contains "$ERR" "docker swarm init" "the error says how to make a manager"
    expect_eq "$(lines "$ERR")" "1" "in one line"
    expect_eq "$(leftovers "$(env_name plain)"; "$DOCKER" ps -aq --filter "name=$(env_name plain)";
                 "$DOCKER" network ls -q --filter "name=$(env_name plain)"; "$DOCKER" volume ls -q --filter "name=$(env_name plain)")" \
        "" "the engine is as it was"
fi
pallet env create "$(env_name plain)" --shared-path /tmp
expect_eq "$CODE:$(lines "$ERR")" "125:2" "--shared-path without --orchestrator swarm: a usage error"

swarm_attach || exit 1

log "swarm: 2"
# 2. Bad input on the swarm: nothing of it stays.
before="$(swarm_objects)"
spallet env create "$(env_name bad)" --orchestrator swarm --port "$SWARM_PORT"
expect_contains "$CODE:$ERR" "125:" "no --shared-path: a usage error"
expect_contains "$ERR" "--shared-path DIR" "it names the option"
spallet env create "$(env_name bad)" --orchestrator swarm --shared-path "$SWARM_SHARED"
expect_contains "$ERR" "--port" "no --port: the router needs one"
"$DOCKER" exec "${SWARM_NODES[0]}" mkdir -p /srv/only-node1
spallet env create "$(env_name bad)" --orchestrator swarm --shared-path /srv/only-node1 --port "$SWARM_PORT"
expect_eq "$CODE" "1" "a shared path missing on two nodes"
expect_contains "$ERR" "/srv/only-node1 is not usable on node node2" "the error names a node without it"
spallet env create "$(env_name bad)" --orchestrator swarm --shared-path "$SWARM_SHARED" --port "$SWARM_PORT" \
    --service-node node9
expect_contains "$CODE:$ERR" "125:" "a --service-node no node has: refused"
expect_contains "$ERR" "node9" "the error names it"
expect_eq "$(swarm_objects)" "$before" "bad input left nothing on the swarm"

log "swarm: 3"
# 3. release v1 with 3 replicas: spread over nodes, one /storage for all of them.
env="$(env_name web)"
spallet env create "$env" --orchestrator swarm --shared-path "$SWARM_SHARED" --port "$SWARM_PORT" \
    --health-timeout 20s --drain 1s
expect_eq "$CODE" "0" "env create --orchestrator swarm"
spallet env show "$env"
expect_contains "$OUT" "Orchestrator:  swarm" "env show says it is a swarm environment"
expect_contains "$(DOCKER_HOST="$SWARM_HOST" "$DOCKER" __complete pallet env show "$RUN_ID" 2>/dev/null)" "$env" \
    "completion offers the swarm's environments too"
spallet release "$env" pallet-conformance:v1 --replicas 3
expect_eq "$CODE" "0" "release v1 with 3 replicas"
url="$OUT"
expect_eq "$url" "http://127.0.0.1:$SWARM_PORT/" "release prints the URL"
expect_eq "$(curl -s --max-time 5 "$url")" "v1" "v1 answers through the router"
expect_eq "$(curl -s --max-time 5 "${url}static/deployed-v1.txt")" "v1" "the router serves what deploy wrote to /static"
serve_service() { node_docker 1 service ls --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve --format '{{.Name}}'; }
running_nodes() { node_docker 1 service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' "$(serve_service)" | awk '$2 == "Running" { print $1 }'; }
nodes="$(running_nodes | sort -u | wc -l)"
[ "$nodes" -ge 2 ] && pass "3 replicas on $nodes nodes" || fail "3 replicas on $nodes node(s): $(running_nodes | tr '\n' ' ')"
seen=0
for i in 1 2 3; do
    for c in $(node_docker "$i" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=serve); do
        node_docker "$i" exec "$c" sh -c 'ls /storage/records | grep -q "^deploy-v1-"' && seen=$((seen + 1))
    done
done
expect_eq "$seen" "3" "every replica, on its node, sees the record deploy wrote to /storage"
record="$(grep -l '^phase=serve' "$SWARM_SHARED/$env/storage/records/"*.rec | head -1)"
expect_contains "$(cat "$record")" "env.SITE_DOMAIN=localhost" "serve tasks get the environment's variables"
expect_eq "$(node_docker 1 service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "$(serve_service)")" \
    "$(node_docker 1 image inspect -f '{{.Id}}' pallet-conformance:v1)" \
    "the service runs the image the manager resolved, by ID (no registry here)"

log "swarm: 4"
# 4. An image missing on a node, or another build under its name on another: found before
# anything runs, the nodes named.
printf 'FROM pallet-conformance:v1\nLABEL io.pallet.test=only-node1\n' |
    DOCKER_BUILDKIT=0 node_docker 1 build -q -t pallet-conformance:only-node1 - >/dev/null
node_docker 2 tag pallet-conformance:v2 pallet-conformance:only-node1
before="$(swarm_objects)"
spallet deploy "$env" pallet-conformance:only-node1
expect_eq "$CODE" "1" "a deploy of an image two nodes lack fails"
expect_contains "$ERR" "is not on node(s) node2, node3" "the nodes without it, or with another build, are named"
expect_eq "$(swarm_objects)" "$before" "and nothing is left of it"

log "swarm: 5"
# 5. Two clients deploy two versions at once: one waits, both succeed, never overlapping (the
# app records start and end on the host's one clock). No secret reaches a command line.
secret="planted-swarm-$RUN_ID"
spallet env set "$env" DEPLOY_SECONDS=3 "SECRET_KEY=$secret"
work="$(mktemp -d)"
( while [ ! -f "$work/stop" ]; do
      for f in /proc/[0-9]*/cmdline; do { tr '\0' ' ' <"$f"; } 2>/dev/null; echo; done
      sleep 0.01
  done | grep -a 'docker' | sort -u >"$work/cmdlines" ) & sampler=$!
E2E_PIDS+=("$sampler")
second="$(mktemp -d)"; mkdir -p "$second/cli-plugins"; cp "$PALLET_BINARY" "$second/cli-plugins/docker-pallet"
"$DOCKER" -H "$SWARM_HOST" pallet deploy "$env" pallet-conformance:v2 --wait >"$work/a" 2>&1 & a=$!
DOCKER_CONFIG="$second" "$DOCKER" -H "$SWARM_HOST" pallet deploy "$env" pallet-conformance:v3 --wait >"$work/b" 2>&1 & b=$!
wait $a; ca=$?; wait $b; cb=$?
touch "$work/stop"; wait "$sampler"
expect_eq "$ca:$cb" "0:0" "two concurrent deploys with --wait both succeed"
expect_contains "$(cat "$work/a" "$work/b")" "waiting for the deploy of" "one waited for the other"
interval() { awk -F= '/^start=/ { s = $2 } /^end=/ { e = $2 } END { print s, e }' "$SWARM_SHARED/$env/storage/records/"deploy-"$1"-*.rec; }
read -r s2 e2 <<<"$(interval v2)"; read -r s3 e3 <<<"$(interval v3)"
if awk -v s2="$s2" -v e2="$e2" -v s3="$s3" -v e3="$e3" 'BEGIN { exit !(e2 != "" && e3 != "" && (e2 <= s3 || e3 <= s2)) }'; then
    pass "the two deploys did not overlap (v2 $s2-$e2, v3 $s3-$e3)"
else
    fail "the two deploys overlapped or did not finish: v2 $s2-$e2, v3 $s3-$e3"
fi
expect_eq "$(grep -acF -- "$secret" "$work/cmdlines")" "0" "no command line held the secret"

log "swarm: 6"
# 6. kill -9 of a client mid-deploy: the deploy goes on, the next one waits for it and proceeds.
"$DOCKER" -H "$SWARM_HOST" pallet deploy "$env" pallet-conformance:v1 >/dev/null 2>&1 &
for _ in $(seq 1 100); do
    [ -n "$(node_docker 1 service ls -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=deploy)" ] && break
    sleep 0.1
done
pkill -9 -f "pallet deploy $env pallet-conformance:v1"
spallet deploy "$env" pallet-conformance:v2 --wait
expect_eq "$CODE" "0" "after kill -9 of a deploying client, the next deploy proceeds"
spallet history "$env" --format json
expect_eq "$(echo "$OUT" | grep -cE '"Phase":"deploy","Version":"pallet-conformance:v1",.*"Result":"succeeded"')" "2" \
    "the killed client's deploy ran to its end and is in history"
expect_eq "$(node_docker 1 service ls -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=deploy)" "" \
    "no deploy service is left for the swarm to run again"
spallet env unset "$env" DEPLOY_SECONDS SECRET_KEY

log "swarm: 7"
# 7. A failed deploy is never served; its output stays readable.
spallet release "$env" pallet-conformance:broken-deploy
expect_eq "$CODE" "3" "a broken deploy fails the release with the deploy's exit code"
expect_eq "$(curl -s --max-time 5 "$url")" "v1" "v1 still serves"
spallet logs "$env" --phase deploy
expect_contains "$OUT" "deploy of broken-deploy" "logs --phase deploy shows what the failed deploy printed"

log "swarm: 7b"
# 7b. Process types on the swarm: a service per type, spread; an upgrade stops the old version's
# workers before the new ones start; a version whose worker cannot start changes nothing.
penv="$(env_name proc)"
spallet env create "$penv" --orchestrator swarm --shared-path "$SWARM_SHARED" --port 18085 \
    --health-timeout 20s --drain 1s --process-stop-timeout 5s --process-settle 2s
spallet release "$penv" pallet-conformance:proc-v1
expect_eq "$CODE" "0" "release of an image with a worker process on the swarm"
workers() { "$DOCKER" -H "$SWARM_HOST" pallet status "$penv" --format json |
    python3 -c 'import json,sys; w=json.load(sys.stdin)["Processes"]["worker"]; print(w["Running"], w["Wanted"], sep="/")'; }
expect_eq "$(workers)" "1/1" "one worker runs"
spallet scale "$penv" worker=3
expect_eq "$CODE:$(workers)" "0:3/3" "scale worker=3"
worker_service() { node_docker 1 service ls --filter "label=io.pallet.env=$penv" --filter label=io.pallet.phase=process --format '{{.Name}}'; }
worker_nodes() { node_docker 1 service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' "$(worker_service)" |
    awk '$2 == "Running" { print $1 }' | sort -u | wc -l; }
[ "$(worker_nodes)" -ge 2 ] && pass "its 3 workers run on $(worker_nodes) nodes" || fail "3 workers on $(worker_nodes) node(s)"
spallet release "$penv" pallet-conformance:proc-v2
expect_eq "$CODE:$(workers)" "0:3/3" "upgrade: three workers of v2, the count kept"
# From the workers' own records (uptime of the host, one clock): v1's all ended before v2's began.
read -r v1_end v2_start <<<"$(awk -F= '
    FILENAME ~ /worker-v1-/ && /^end=/ { if ($2 > e) e = $2 }
    FILENAME ~ /worker-v2-/ && /^start=/ { if (s == "" || $2 < s) s = $2 }
    END { print e, s }' "$SWARM_SHARED/$penv/storage/records/"worker-*.rec)"
if awk -v e="$v1_end" -v s="$v2_start" 'BEGIN { exit !(e != "" && s != "" && e <= s) }'; then
    pass "the v1 workers all stopped (SIGTERM recorded at $v1_end) before a v2 worker started ($v2_start)"
else
    fail "v1 and v2 workers overlapped: v1 ended $v1_end, v2 started $v2_start"
fi
expect_eq "$(grep -l '^signal=TERM' "$SWARM_SHARED/$penv/storage/records/"worker-v1-*.rec | wc -l)" "3" \
    "each v1 worker got SIGTERM"
spallet release "$penv" pallet-conformance:proc-crash
expect_eq "$CODE" "1" "a version whose worker cannot start: the release fails"
expect_contains "$ERR" "the worker process of pallet-conformance:proc-crash" "the error names the process"
expect_eq "$(workers)" "3/3" "the v2 workers run again"
expect_eq "$("$DOCKER" -H "$SWARM_HOST" pallet status "$penv" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Serving"])')" \
    "pallet-conformance:proc-v2" "v2 still serves"

log "swarm: 8"
# 8. A worker node lost while serving: the site keeps answering, the swarm puts its replicas on
# the other nodes, and the router sends them requests (the swarm's DNS, no command of ours).
spallet scale "$env" 3
victim=""
for n in $(running_nodes); do [ "$n" != node1 ] && victim="$n" && break; done
stop="$(mktemp -u)"
python3 "$LOAD" "$url" --requests 200000 --clients 4 --until-file "$stop" --json >"$stop.json" & loader=$!
E2E_PIDS+=("$loader")
sleep 1
log "stopping $victim"
"$DOCKER" stop -t 1 "pallet-swarm-$SWARM_ID-$victim" >/dev/null
back=0
for _ in $(seq 1 90); do
    current="$(running_nodes)"
    if [ "$(lines "$current")" -eq 3 ] && ! grep -qx "$victim" <<<"$current"; then back=1; break; fi
    sleep 1
done
sleep 3  # requests reach the replacement
touch "$stop"; wait "$loader"; LOAD_RESULT="$(cat "$stop.json")"; rm -f "$stop" "$stop.json"
echo "node $victim lost under load: $LOAD_RESULT" | cut -c1-300
expect_eq "$back" "1" "the replicas of $victim run again on the other nodes"
for _ in $(seq 1 60); do [ "$(workers)" == 3/3 ] && break; sleep 1; done
expect_eq "$(workers)" "3/3" "the worker processes of $victim run again on the other nodes too"
failures="$(field '["failures"]')"; requests="$(field '["requests"]')"
[ "$failures" -le $((requests / 100)) ] && pass "node loss: $failures failed of $requests requests" ||
    fail "node loss: $failures failed of $requests requests"
router="$(node_docker 1 ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=router)"
tasks="$(node_docker 1 service ps -q --filter desired-state=running "$(serve_service)" |
    xargs "$DOCKER" -H "$SWARM_HOST" inspect -f '{{range .NetworksAttachments}}{{range .Addresses}}{{println .}}{{end}}{{end}}' |
    cut -d/ -f1 | grep -v '^$' | sort)"
resolved="$(node_docker 1 exec "$router" getent ahostsv4 "$(serve_service)" | cut -d' ' -f1 | sort -u)"
expect_eq "$resolved" "$tasks" "the router's DNS lists the replacement task"

log "swarm: 10"
# 10. A second client sees the same state: no state is kept off the swarm.
for args in "status $env --format json" "history $env --format json" "logs $env --phase deploy"; do
    # shellcheck disable=SC2086
    one="$("$DOCKER" -H "$SWARM_HOST" pallet $args 2>&1)"
    # shellcheck disable=SC2086
    two="$(DOCKER_CONFIG="$second" "$DOCKER" -H "$SWARM_HOST" pallet $args 2>&1)"
    expect_eq "$two" "$one" "a second client's $args"
done
expect_contains "$("$DOCKER" -H "$SWARM_HOST" pallet status "$env")" "3/3" "status shows the replicas"

log "swarm: 11"
# 11. An image that runs as a non-root user writes the shared /storage. (Its router listens on
# a port of the manager node that the test does not publish: the plugin checks health from there.)
nonroot="$(env_name nonroot)"
spallet env create "$nonroot" --orchestrator swarm --shared-path "$SWARM_SHARED" --port 18081 --health-timeout 20s
spallet release "$nonroot" pallet-test-nonroot:numeric --replicas 2
expect_eq "$CODE" "0" "release of an image running as uid 1000 on the swarm"
expect_eq "$(stat -c %u "$SWARM_SHARED/$nonroot/storage")" "1000" "its /storage belongs to its user"
expect_eq "$(find "$SWARM_SHARED/$nonroot/storage" -name 'serve-*' | wc -l)" "2" "both replicas wrote /storage"

log "swarm: 11b"
# 11b. /storage and /static as volumes of a driver instead of a shared path: the local driver
# binding a directory that every node has from the shared filesystem (as an NFS export would).
mkdir -p "$SWARM_SHARED/vols/storage" "$SWARM_SHARED/vols/static"
before="$(swarm_objects)"
bad="$(env_name badvol)"
spallet env create "$bad" --orchestrator swarm --port 18084 --volume-driver local --volume-opt type=none
expect_eq "$CODE" "125" "the local driver without {volume}: a usage error"
expect_contains "$ERR" "{volume}" "the error says how to tell storage from static"
spallet env create "$bad" --orchestrator swarm --port 18084 --volume-driver local --volume-opt type=cifs \
    --volume-opt "o=username=u,password=planted-$RUN_ID" --volume-opt "device=//h/{volume}"
expect_eq "$CODE" "125" "a password in --volume-opt: refused (it would be on docker's command line)"
expect_not_contains "$ERR" "planted-$RUN_ID" "the error does not repeat it"
spallet env create "$bad" --orchestrator swarm --port 18084 --volume-driver no-such-driver \
    --volume-opt "path={volume}"
expect_eq "$CODE" "1" "a volume driver no node has: refused"
expect_contains "$ERR" "the volumes of driver no-such-driver cannot be used" "the error names the driver"
# The node section 8 stopped counts as missing the plugin or as "not available", by timing.
expect_contains "$ERR" "no suitable node (missing plugin on " "and says why, at once (the scheduler's word, not a timeout)"
for node in "${SWARM_NODES[@]}"; do "$DOCKER" exec "$node" mkdir -p /srv/own-storage /srv/own-static 2>/dev/null; done
spallet env create "$bad" --orchestrator swarm --port 18084 --volume-driver local --volume-opt type=none \
    --volume-opt o=bind --volume-opt "device=/srv/own-{volume}"
expect_eq "$CODE" "1" "volumes that are each node's own directory: refused"
expect_contains "$ERR" "not the same storage on every node" "the error says they are not shared"
expect_eq "$(swarm_objects)" "$before" "bad volume settings left nothing on the swarm"
vols="$(env_name vols)"
spallet env create "$vols" --orchestrator swarm --port 18084 --health-timeout 20s --volume-driver local \
    --volume-opt type=none --volume-opt o=bind --volume-opt "device=$SWARM_SHARED/vols/{volume}"
expect_eq "$CODE" "0" "env create with --volume-driver local and a shared device"
spallet env show "$vols"
expect_contains "$OUT" "Volumes:       driver local" "env show names the driver"
spallet release "$vols" pallet-conformance:v1 --replicas 2
expect_eq "$CODE" "0" "release v1 with 2 replicas on volumes"
expect_contains "$(ls "$SWARM_SHARED/vols/static")" "deployed-v1.txt" "deploy wrote /static into its volume"
expect_eq "$(grep -l '^phase=serve' "$SWARM_SHARED/vols/storage/records/"*.rec | wc -l)" "2" \
    "both replicas wrote the one /storage"
spallet rm "$vols" --volumes
expect_eq "$CODE" "0" "rm --volumes of an environment on volumes"
expect_eq "$(find "$SWARM_SHARED/vols" -mindepth 2 | wc -l)" "0" "its files are gone"
expect_eq "$(node_docker 1 volume ls -q --filter "name=pallet-$vols-")" "" "its volumes on the manager are gone"

log "swarm: 12"
# 12. A router whose port something else holds on the node: a clear error, no router left.
taken="$(env_name taken)"
node_docker 1 run -d --name "pallet-swarm-blocker-$RUN_ID" -p 18083:80 "$PALLET_ROUTER_IMAGE" sleep 600 >/dev/null
spallet env create "$taken" --orchestrator swarm --shared-path "$SWARM_SHARED" --port 18083
spallet release "$taken" pallet-conformance:v1
expect_eq "$CODE" "1" "release while another program holds the router's port: refused"
expect_contains "$ERR" "port 18083 of its node is in use" "the error says the port is in use"
expect_eq "$(node_docker 1 service ls -q --filter "name=pallet-$taken-router")" "" "no router is left behind"
node_docker 1 rm -f "pallet-swarm-blocker-$RUN_ID" >/dev/null

log "swarm: 13"
# 13. rm removes everything of an environment from the swarm; --volumes its shared directory too.
for e in "$env" "$taken" "$penv"; do
    spallet rm "$e"
    expect_eq "$CODE" "0" "rm $e"
    expect_eq "$(swarm_objects | grep -c -- "-$e-")" "0" "nothing of $e is left on the swarm"
done
spallet rm "$nonroot" --volumes
expect_eq "$CODE" "0" "rm --volumes $nonroot"
expect_eq "$(swarm_objects | grep -c -- "-$nonroot-")" "0" "nothing of $nonroot is left on the swarm"
[ ! -e "$SWARM_SHARED/$nonroot" ] && pass "rm --volumes removed $nonroot's shared directory" ||
    fail "rm --volumes left $SWARM_SHARED/$nonroot: $(ls -la "$SWARM_SHARED/$nonroot" 2>&1 | head -3)"
[ -d "$SWARM_SHARED/$env" ] && pass "rm without --volumes kept $env's shared directory" ||
    fail "rm without --volumes removed $SWARM_SHARED/$env"
# Nor on the nodes: no container of a deploy, a check or a replica stays (the tasks of swarm jobs
# would: moby/moby#42789). The node stopped in 8 is left out.
left=""
for _ in $(seq 1 30); do
    left=""
    for i in $(seq 1 ${#SWARM_NODES[@]}); do
        [ "$("$DOCKER" inspect -f '{{.State.Running}}' "${SWARM_NODES[$((i - 1))]}")" == true ] || continue
        left+="$(node_docker "$i" ps -a --format '{{.Names}}' | grep -E -- "-($env|$nonroot|$taken|$vols|$bad|$penv)-")"
    done
    # The manager's volumes too (the routers' configurations, the checks').
    left+="$(node_docker 1 volume ls -q | grep -E -- "-($env|$nonroot|$taken|$vols|$bad|$penv)-")"
    [ -z "$left" ] && break
    sleep 1
done
expect_eq "$left" "" "no container of these environments is left on a node, no volume on the manager"
rm -rf "$work" "$second"
