# Shared setup of the end-to-end tests: a real engine, the built plugin installed into a
# temporary DOCKER_CONFIG, the test images, unique names, and cleanup that always runs.
# Source it; then call `setup [more image sets]`. Assertions count into a summary printed at the end.
set -uo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$E2E_DIR/../.." && pwd)"
: "${PALLET_BINARY:?set PALLET_BINARY to the built docker-pallet}"
DOCKER="${DOCKER:-docker}"
RUN_ID="e$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
E2E_PIDS=()
PASSED=0
FAILED=0

log() { echo "[$(date +%T)] $*" >&2; }

pass() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
    if [ "$1" == "$2" ]; then pass "$3"; else fail "$3: expected [$2], got [$1]"; fi
}
# expect_contains HAYSTACK NEEDLE WHAT
expect_contains() {
    if [[ "$1" == *"$2"* ]]; then pass "$3"; else fail "$3: [$2] not in: $1"; fi
}
expect_not_contains() {
    if [[ "$1" != *"$2"* ]]; then pass "$3"; else fail "$3: [$2] unexpectedly in: $1"; fi
}

# A unique environment name for this run (its objects are removed at the end).
env_name() { echo "$RUN_ID-$1"; }

# "TYPE ID" of every container, network and volume whose environment label matches the awk
# condition on `env` (the label's value).
labelled_objects() {
    local condition="$1"
    "$DOCKER" ps -a --filter label=io.pallet.env --format '{{.ID}} {{.Label "io.pallet.env"}}' |
        awk -v run="$RUN_ID" "{ env = \$2 } $condition { print \"container\", \$1 }"
    "$DOCKER" network ls --filter label=io.pallet.env --format '{{.ID}} {{.Label "io.pallet.env"}}' |
        awk -v run="$RUN_ID" "{ env = \$2 } $condition { print \"network\", \$1 }"
    "$DOCKER" volume ls --filter label=io.pallet.env --format '{{.Name}} {{.Label "io.pallet.env"}}' |
        awk -v run="$RUN_ID" "{ env = \$2 } $condition { print \"volume\", \$1 }"
}

# The shared swarm's nodes are containers on this engine, with a network and a volume each, all
# named pallet-swarm-*: ctest runs the swarm tests beside the others, so what one engine test
# sees of the engine leaves them out.
not_swarm_nodes() { grep -v -E '(^| )pallet-swarm-' || true; }

# Every volume on the engine but the swarm nodes'.
engine_volumes() { "$DOCKER" volume ls -q | not_swarm_nodes | sort; }

# Everything on the engine a command could change: containers with their state, networks,
# volumes, images.
engine_snapshot() {
    "$DOCKER" ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.State}}' | not_swarm_nodes | sort
    "$DOCKER" network ls --no-trunc --format '{{.ID}} {{.Name}}' | not_swarm_nodes | sort
    engine_volumes
    "$DOCKER" images --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort
}

# What is left of one environment on the engine.
leftovers() { labelled_objects "env == \"$1\""; }

# Warm services (--reuse-services) are per user; tests run them as a user of their own.
WARM_USER="e2e$RUN_ID"

remove_env_objects() {
    local type id
    "$DOCKER" ps -aq --filter "label=io.pallet.warm=warm-$WARM_USER" | xargs -r "$DOCKER" rm -f -v >/dev/null 2>&1
    "$DOCKER" network ls -q --filter "label=io.pallet.warm=warm-$WARM_USER" | xargs -r "$DOCKER" network rm >/dev/null 2>&1
    labelled_objects 'index(env, run "-") == 1' | sort -k1,1 | while read -r type id; do
        case "$type" in
            container) "$DOCKER" rm -f -v "$id" ;;
            network) "$DOCKER" network rm "$id" ;;
            volume) "$DOCKER" volume rm -f "$id" ;;
        esac >/dev/null 2>&1
    done
}

# Every test run's container, network and volume on the engine.
all_test_run_objects() {
    "$DOCKER" ps -aq --filter label=io.pallet.test-run
    "$DOCKER" network ls -q --filter label=io.pallet.test-run
    "$DOCKER" volume ls -q --filter label=io.pallet.test-run
}

# Test runs leave nothing: a leftover test container, network or volume is a failure. Objects
# that were there before this suite started are not this suite's to answer for.
test_run_leftovers() {
    all_test_run_objects | sort | comm -23 - <(echo "$TEST_RUN_OBJECTS_BEFORE")
}

finish() {
    local pid
    for pid in "${E2E_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    remove_env_objects
    local left
    left="$(labelled_objects 'index(env, run "-") == 1')"
    [ -z "$left" ] || fail "cleanup could not remove: $left"
    rm -rf "$E2E_CONFIG"
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

setup() {
    if ! "$DOCKER" info >/dev/null 2>&1; then
        echo "SKIP: no Docker engine answers (scripts/test.sh starts one)" >&2
        exit 77
    fi
    TEST_RUN_OBJECTS_BEFORE="$(all_test_run_objects | sort)"
    E2E_CONFIG="$(mktemp -d /tmp/pallet-e2e.XXXXXX)"
    mkdir -p "$E2E_CONFIG/cli-plugins"
    cp "$PALLET_BINARY" "$E2E_CONFIG/cli-plugins/docker-pallet"
    export DOCKER_CONFIG="$E2E_CONFIG"
    # Service images built from Debian's packages, with the official images' contracts.
    export PALLET_ROUTER_IMAGE=pallet-test-nginx:1
    export PALLET_POSTGRES_IMAGE=pallet-test-postgres:15 PALLET_REDIS_IMAGE=pallet-test-redis:7
    export PALLET_MEMCACHE_IMAGE=pallet-test-memcached:1 PALLET_RABBITMQ_IMAGE=pallet-test-rabbitmq:3
    export PALLET_SMTP_IMAGE=pallet-test-smtp:1 PALLET_SYSLOG_IMAGE=pallet-test-syslog:1
    trap 'finish; exit $?' EXIT
    trap 'exit 130' INT TERM
    "$REPO_DIR/tests/images/build-images.sh" conformance nginx "$@"
}

# A test that starts the edge skips (exit 77) where one runs already: it would replace it.
skip_if_edge_runs() {
    if [ -n "$("$DOCKER" ps -aq --filter name=^pallet-edge$)" ]; then
        echo "SKIP: an edge already runs on this engine; the test would replace it" >&2
        exit 77
    fi
}

# Runs `docker ARGS...`, capturing stdout, stderr and the exit code into OUT, ERR, CODE.
run_docker() {
    local out err
    out="$(mktemp)"; err="$(mktemp)"
    "$DOCKER" "$@" >"$out" 2>"$err"
    CODE=$?
    OUT="$(cat "$out")"; ERR="$(cat "$err")"
    rm -f "$out" "$err"
}

# Runs `docker pallet ARGS...`, capturing as run_docker does.
pallet() { run_docker pallet "$@"; }

# Load during a command: `under_load ARGS...` runs `$LOAD_RUN ARGS...` (default: pallet) while
# tests/load.py sends requests to $url (with Host: $LOAD_HOST when set, which is also the TLS name
# of an https $url, verified against $LOAD_CACERT) from 4 clients;
# LOAD_RESULT holds load.py's JSON, and
# `field '["failures"]'` reads from it.
LOAD="$REPO_DIR/tests/load.py"
LOAD_RUN=pallet
under_load() {
    local stop; stop="$(mktemp -u)"
    python3 "$LOAD" "$url" --requests 40000 --clients 4 --until-file "$stop" ${LOAD_HOST:+--host "$LOAD_HOST"} \
        ${LOAD_CACERT:+--cacert "$LOAD_CACERT"} --json >"$stop.json" &
    local loader=$!
    E2E_PIDS+=("$loader")
    sleep 0.5
    "$LOAD_RUN" "$@"
    sleep 0.5
    touch "$stop"; wait "$loader"
    LOAD_RESULT="$(cat "$stop.json")"; rm -f "$stop" "$stop.json"
    echo "$* under load: $LOAD_RESULT" | cut -c1-300
}
field() { echo "$LOAD_RESULT" | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# The records the conformance application wrote into an environment's /storage.
records() {
    "$DOCKER" run --rm -v "pallet-$1-storage:/storage:ro" --entrypoint sh pallet-conformance:v1 \
        -c 'for f in /storage/records/*.rec; do [ -f "$f" ] && { echo "== $f"; cat "$f"; }; done; true'
}

# The value of KEY in the records of PHASE (one line per record).
record_values() {  # ENV PHASE KEY
    records "$1" | awk -v phase="$2" -v key="$3" '
        /^== / { p = "" } /^phase=/ { p = substr($0, 7) }
        p == phase && index($0, key "=") == 1 { print substr($0, length(key) + 2) }'
}

# The environment's URL from docker pallet status.
env_url() {
    "$DOCKER" pallet status "$1" --format json | sed -n 's/.*"URL":"\([^"]*\)".*/\1/p'
}

# Waits up to $2 seconds for a process to end; true when it did.
wait_gone() {
    local i
    for i in $(seq 1 $(( $2 * 10 ))); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# The plugin as users have it installed before this line of work (docker-pallet 0.1: routers
# with a conf.d snippet, settings in labels): upgrade tests serve with it, then with the new one.
PALLET_PREVIOUS_COMMIT=0c985e03ab4842d4064b9a1cb5de5828796b71af

# Builds docker-pallet of a commit from this clone's history, once per machine (cached under
# build-previous/); prints the binary's path.
previous_binary() {
    local commit="${1:-$PALLET_PREVIOUS_COMMIT}"
    local dir="${PALLET_PREVIOUS_BUILD_DIR:-$REPO_DIR/build-previous}/$commit"
    if [ ! -x "$dir/build/docker-pallet" ]; then
        if ! git -C "$REPO_DIR" cat-file -e "$commit^{commit}" 2>/dev/null; then
            git -C "$REPO_DIR" fetch -q --unshallow >/dev/null 2>&1 || git -C "$REPO_DIR" fetch -q origin "$commit" >/dev/null 2>&1
        fi
        if ! git -C "$REPO_DIR" cat-file -e "$commit^{commit}" 2>/dev/null; then
            echo "commit $commit is not in this clone's history (a shallow clone?); clone the whole history" >&2
            return 1
        fi
        log "building docker-pallet of ${commit:0:7} from git history (once per machine)"
        rm -rf "$dir"; mkdir -p "$dir/src"
        git -C "$REPO_DIR" archive "$commit" | tar -x -C "$dir/src"
        cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null &&
            cmake --build "$dir/build" -j "$(nproc)" --target docker-pallet >"$dir/build.log" 2>&1 ||
            { tail -20 "$dir/build.log" >&2; return 1; }
    fi
    echo "$dir/build/docker-pallet"
}

# Makes `docker pallet` run BINARY from now on (the plugin directory of this test's config).
use_plugin() { cp "$1" "$E2E_CONFIG/cli-plugins/docker-pallet.new" && mv "$E2E_CONFIG/cli-plugins/docker-pallet.new" "$E2E_CONFIG/cli-plugins/docker-pallet"; }
