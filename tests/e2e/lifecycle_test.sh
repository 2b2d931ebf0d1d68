#!/usr/bin/env bash
# The lifecycle scenario (lifecycle.sh) on one engine; swarm_test.sh runs the same scenario on a
# three-node swarm.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/lifecycle.sh"
setup services frameworks
skip_if_edge_runs
trap '"$DOCKER" pallet edge down >/dev/null 2>&1; finish; exit $?' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

LC_ORCH=engine
LC_HOST=""
LC_CREATE=()
LC_EDGE_HTTP="$(free_port)"
LC_EDGE_HTTPS="$(free_port)"
lc_docker() { "$DOCKER" "$@"; }
lc_spread() { echo 1; }
lifecycle_scenario
