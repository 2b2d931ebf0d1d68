# A swarm of real Docker engines on one machine, for the Swarm tests: N engines in containers
# (tests/images/swarm-node), joined into one swarm over a network of their own, a directory of the
# host bind-mounted at the same path into every node (the shared filesystem an NFS mount would
# be), the manager reached from the test through a bind-mounted socket, images loaded into every
# node. Source after lib.sh; swarm_up N IMAGES...; swarm_down at the end (EXIT trap).
# The end-to-end tests share one swarm (ctest's fixture e2e_swarm_up, swarm_fixture.sh):
# swarm_attach joins it, or makes one of its own for a test run alone; swarm_detach at the end.
#   SWARM_ID     the swarm's own name (its nodes are pallet-swarm-ID-nodeI)
#   SWARM_HOST   -H value that reaches the manager (node 1)
#   SWARM_NODES  the node container names
#   SWARM_SHARED the shared directory (same path on the host and in every node)
#   SWARM_PORT   a port of 127.0.0.1 that reaches the same port of the manager node
#   SWARM_EDGE_HTTP, SWARM_EDGE_HTTPS  two more such ports, for an edge on the manager

SWARM_NODE_CAPS=(--cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add SYS_PTRACE --cap-add MKNOD
                 --cap-add NET_RAW --cap-add SYS_MODULE --security-opt seccomp=unconfined
                 --security-opt apparmor=unconfined --security-opt systempaths=unconfined)

# node_docker I ARGS...: docker against node I's engine.
node_docker() { local i="$1"; shift; "$DOCKER" -H "unix://$SWARM_DIR/node$i/docker.sock" "$@"; }

swarm_up() {
    local count="$1"; shift
    local images=("$@") i ip token
    "$REPO_DIR/tests/images/build-images.sh" swarm
    SWARM_DIR="$(mktemp -d /tmp/pallet-swarm.XXXXXX)"
    SWARM_SHARED="$SWARM_DIR/shared"
    mkdir -p "$SWARM_SHARED"
    SWARM_ID="$RUN_ID"
    SWARM_NET="pallet-swarm-$SWARM_ID"
    local free='import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
    SWARM_PORT="$(python3 -c "$free")"
    SWARM_EDGE_HTTP="$(python3 -c "$free")"
    SWARM_EDGE_HTTPS="$(python3 -c "$free")"
    "$DOCKER" network create "$SWARM_NET" >/dev/null
    SWARM_NODES=()
    for i in $(seq 1 "$count"); do
        mkdir -p "$SWARM_DIR/node$i"
        local publish=()
        [ "$i" -eq 1 ] && publish=(-p "127.0.0.1:$SWARM_PORT:$SWARM_PORT"
                                   -p "127.0.0.1:$SWARM_EDGE_HTTP:$SWARM_EDGE_HTTP"
                                   -p "127.0.0.1:$SWARM_EDGE_HTTPS:$SWARM_EDGE_HTTPS")
        "$DOCKER" run -d --name "pallet-swarm-$SWARM_ID-node$i" --hostname "node$i" \
            --network "$SWARM_NET" "${SWARM_NODE_CAPS[@]}" "${publish[@]}" \
            -e "NODE_NAME=pallet-swarm-$SWARM_ID-node$i" \
            -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v "$SWARM_DIR/node$i:/var/run/node" \
            -v "$SWARM_SHARED:$SWARM_SHARED" -v "pallet-swarm-$SWARM_ID-node$i:/var/lib/docker" \
            --label "io.pallet.test-swarm=$SWARM_ID" pallet-test-swarm-node:1 >/dev/null
        SWARM_NODES+=("pallet-swarm-$SWARM_ID-node$i")
    done
    for i in $(seq 1 "$count"); do
        local _
        for _ in $(seq 1 120); do node_docker "$i" info >/dev/null 2>&1 && break; sleep 0.5; done
        node_docker "$i" info >/dev/null 2>&1 || { echo "node $i's engine did not start" >&2; "$DOCKER" logs --tail 20 "${SWARM_NODES[$((i - 1))]}" >&2; return 1; }
    done
    ip="$("$DOCKER" inspect -f "{{(index .NetworkSettings.Networks \"$SWARM_NET\").IPAddress}}" "${SWARM_NODES[0]}")"
    node_docker 1 swarm init --advertise-addr "$ip" >/dev/null
    token="$(node_docker 1 swarm join-token -q worker)"
    for i in $(seq 2 "$count"); do
        node_docker "$i" swarm join --token "$token" "$ip:2377" >/dev/null
    done
    # No registry: every node gets the images from the host's engine.
    if [ ${#images[@]} -gt 0 ]; then
        "$DOCKER" save "${images[@]}" >"$SWARM_DIR/images.tar"
        for i in $(seq 1 "$count"); do node_docker "$i" load -q <"$SWARM_DIR/images.tar" >/dev/null & done
        wait
        rm -f "$SWARM_DIR/images.tar"
    fi
    SWARM_HOST="unix://$SWARM_DIR/node1/docker.sock"
}

swarm_down() {
    [ -n "${SWARM_DIR:-}" ] || return 0
    "$DOCKER" ps -aq --filter "label=io.pallet.test-swarm=$SWARM_ID" | xargs -r "$DOCKER" rm -f -v >/dev/null 2>&1
    "$DOCKER" volume ls -q --filter "name=^pallet-swarm-$SWARM_ID-node" | xargs -r "$DOCKER" volume rm -f >/dev/null 2>&1
    "$DOCKER" network rm "$SWARM_NET" >/dev/null 2>&1
    rm -rf "$SWARM_DIR"
    SWARM_DIR=""
}

# The end-to-end tests' swarm: three nodes holding the images the swarm tests use (after setup).
swarm_up_for_tests() {
    swarm_up 3 pallet-conformance:v1 pallet-conformance:v2 pallet-conformance:v3 pallet-conformance:unhealthy \
        pallet-conformance:broken-deploy pallet-conformance:proc-v1 pallet-conformance:proc-v2 \
        pallet-conformance:proc-crash pallet-test-nonroot:numeric pallet-test-django:1 pallet-test-django:2 \
        pallet-test-django:3 pallet-test-django:broken "$PALLET_ROUTER_IMAGE" "$PALLET_POSTGRES_IMAGE" \
        "$PALLET_REDIS_IMAGE"
}
# The image sets of build-images.sh those images come from (after setup's conformance and nginx).
SWARM_IMAGE_SETS=(nonroot swarm services frameworks)

# swarm_save FILE: what swarm_load needs to reach this swarm from another test.
swarm_save() {
    local v
    { for v in SWARM_ID SWARM_DIR SWARM_SHARED SWARM_NET SWARM_PORT SWARM_EDGE_HTTP SWARM_EDGE_HTTPS SWARM_HOST; do
          printf '%s=%q\n' "$v" "${!v}"
      done
      printf 'SWARM_NODES=(%s)\n' "$(printf '%q ' "${SWARM_NODES[@]}")"; } >"$1"
}
swarm_load() { source "$1"; }

# The shared swarm of $PALLET_SWARM_STATE if it is up, or a swarm of this test's own.
swarm_attach() {
    SWARM_OWN=0
    if [ -n "${PALLET_SWARM_STATE:-}" ] && [ -f "$PALLET_SWARM_STATE" ]; then
        swarm_load "$PALLET_SWARM_STATE"
        if [ "$(node_docker 1 info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" == true ]; then
            log "the shared swarm $SWARM_ID"
            return 0
        fi
        echo "the shared swarm of $PALLET_SWARM_STATE does not answer: making one of this test's own" >&2
    fi
    SWARM_OWN=1
    log "starting a three-node swarm"
    swarm_up_for_tests || return 1
    log "swarm up"
}
swarm_detach() { [ "${SWARM_OWN:-0}" -eq 1 ] && swarm_down; return 0; }
