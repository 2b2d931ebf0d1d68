#!/usr/bin/env bash
# Builds the plugin and prints the benchmark figures. Needs a running engine (scripts/test.sh
# starts one). Usage: bench/run.sh [--quick]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/lib.sh"
start_engine
build_dir="$repo/build-release"
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" >/dev/null
# The plugin as the .deb installs it (stripped): `docker pallet version` with it, too.
deb_root="$(mktemp -d)"
if command -v dpkg-shlibdeps >/dev/null && (cd "$build_dir" && cpack -G DEB -B "$deb_root/pkg" >/dev/null 2>&1); then
    dpkg-deb -x "$deb_root"/pkg/docker-pallet_*.deb "$deb_root/root"
    mkdir -p "$deb_root/config/cli-plugins"
    cp "$deb_root/root/usr/libexec/docker/cli-plugins/docker-pallet" "$deb_root/config/cli-plugins/"
    export PALLET_DEB_CONFIG="$deb_root/config"
fi
"$repo/tests/images/build-images.sh" conformance nginx services
docker image inspect pallet-conformance:v2 >/dev/null

config="$(mktemp -d)"
mkdir -p "$config/cli-plugins"
cp "$build_dir/docker-pallet" "$config/cli-plugins/"
cleanup() {
    for i in $(seq 1 50) serve proc plain; do
        docker ps -aq --filter "label=io.pallet.env=bench-$i" | xargs -r docker rm -f >/dev/null 2>&1
        docker network ls -q --filter "label=io.pallet.env=bench-$i" | xargs -r docker network rm >/dev/null 2>&1
        docker volume ls -q --filter "label=io.pallet.env=bench-$i" | xargs -r docker volume rm -f >/dev/null 2>&1
    done
    docker ps -aq --filter label=io.pallet.warm=warm-bench | xargs -r docker rm -f -v >/dev/null 2>&1
    docker network ls -q --filter label=io.pallet.warm=warm-bench | xargs -r docker network rm >/dev/null 2>&1
    rm -rf "$config" "$deb_root"
}
trap cleanup EXIT
export DOCKER_CONFIG="$config" PALLET_BINARY="$build_dir/docker-pallet"
docker pallet env create bench-1 >/dev/null 2>&1
# Images built from Debian's packages where no registry answers (override to measure others).
export PALLET_ROUTER_IMAGE="${PALLET_ROUTER_IMAGE:-pallet-test-nginx:1}"
export PALLET_POSTGRES_IMAGE="${PALLET_POSTGRES_IMAGE:-pallet-test-postgres:15}"
python3 "$repo/bench/bench.py" "$@"
echo
python3 "$repo/bench/serve_bench.py" "$@"
echo
python3 "$repo/bench/processes_bench.py" "$@"
echo
python3 "$repo/bench/backup_bench.py" "$@"
echo
export PALLET_REDIS_IMAGE="${PALLET_REDIS_IMAGE:-pallet-test-redis:7}"
python3 "$repo/bench/preview_bench.py" "$@"
echo
bash "$repo/bench/ssh_run.sh" "$@"
echo
bash "$repo/bench/swarm_run.sh" "$@"
