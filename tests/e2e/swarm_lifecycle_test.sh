#!/usr/bin/env bash
# The lifecycle scenario (lifecycle.sh), as on one engine (lifecycle_test.sh), on the end-to-end
# tests' three-node swarm (swarm_lib.sh): a Django project with a provided PostgreSQL, run,
# backups and restores, upgrades under load, the edge.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/swarm_lib.sh"
source "$E2E_DIR/lifecycle.sh"
setup "${SWARM_IMAGE_SETS[@]}"
trap 'swarm_detach; finish; exit $?' EXIT
swarm_attach || exit 1

LC_ORCH=swarm
LC_HOST="$SWARM_HOST"
LC_CREATE=(--orchestrator swarm --shared-path "$SWARM_SHARED" --port "$SWARM_PORT")
LC_EDGE_HTTP="$SWARM_EDGE_HTTP"
LC_EDGE_HTTPS="$SWARM_EDGE_HTTPS"
lc_docker() { node_docker 1 "$@"; }
lc_spread() {
    local service
    service="$(node_docker 1 service ls --filter "label=io.pallet.env=$1" --filter label=io.pallet.phase=serve --format '{{.Name}}' | head -1)"
    node_docker 1 service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' "$service" |
        awk '$2 == "Running" { print $1 }' | sort -u | wc -l
}
lifecycle_scenario
