#!/usr/bin/env bash
# The swarm benchmark: a three-node swarm on this machine (tests/e2e/swarm_lib.sh; removed at the
# end), then bench/swarm_bench.py, which runs the same scenarios on one engine and on the swarm.
# Run by bench/run.sh, which installs the plugin into DOCKER_CONFIG and sets PALLET_BINARY.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKER="${DOCKER:-docker}"
RUN_ID="bench$$"
REPO_DIR="$repo"
source "$repo/tests/e2e/swarm_lib.sh"
trap swarm_down EXIT
export PALLET_ROUTER_IMAGE="${PALLET_ROUTER_IMAGE:-pallet-test-nginx:1}"
swarm_up 3 pallet-conformance:v1 pallet-conformance:v2 pallet-conformance:unhealthy "$PALLET_ROUTER_IMAGE" >&2
SWARM_HOST="$SWARM_HOST" SWARM_SHARED="$SWARM_SHARED" SWARM_PORT="$SWARM_PORT" \
    python3 "$repo/bench/swarm_bench.py" "$@"
