#!/usr/bin/env bash
# The one swarm of the end-to-end tests (ctest's fixture around e2e_swarm_lifecycle and
# e2e_swarm): `up` builds the images, starts a three-node swarm with them and writes where it is to
# $PALLET_SWARM_STATE; `down` removes it. ctest runs `down` even when a test between failed or
# was killed at its timeout, so no swarm outlives the suite.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/swarm_lib.sh"
: "${PALLET_SWARM_STATE:?set PALLET_SWARM_STATE to the file that says where the shared swarm is}"

down() {
    [ -f "$PALLET_SWARM_STATE" ] || return 0
    swarm_load "$PALLET_SWARM_STATE"
    swarm_down
    rm -f "$PALLET_SWARM_STATE"
}

case "${1:-}" in
up)
    setup "${SWARM_IMAGE_SETS[@]}"
    down  # a swarm an earlier run could not remove (the machine stopped mid-suite)
    log "starting a three-node swarm"
    if swarm_up_for_tests; then
        swarm_save "$PALLET_SWARM_STATE"
        expect_eq "$(node_docker 1 node ls --format '{{.Status}}' | sort | uniq -c | tr -s ' ')" " 3 Ready" \
            "a swarm of three ready nodes"
    else
        fail "the swarm did not start"
        swarm_down
    fi
    log "swarm up"
    ;;
down)
    setup
    if [ -f "$PALLET_SWARM_STATE" ]; then
        down
        expect_eq "$("$DOCKER" ps -aq --filter "label=io.pallet.test-swarm=$SWARM_ID")" "" "the shared swarm is gone"
        expect_eq "$("$DOCKER" volume ls -q --filter "name=^pallet-swarm-$SWARM_ID-node")" "" "with its nodes' volumes"
    else
        log "no shared swarm to remove"
    fi
    ;;
*)
    echo "usage: swarm_fixture.sh up|down" >&2
    exit 2
    ;;
esac
