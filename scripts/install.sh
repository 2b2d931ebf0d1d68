#!/usr/bin/env bash
# Builds docker-pallet (Release) and installs it as a docker CLI plugin.
#   scripts/install.sh            -> ${DOCKER_CONFIG:-~/.docker}/cli-plugins/docker-pallet
#   scripts/install.sh --system   -> /usr/local/lib/docker/cli-plugins/docker-pallet
#   scripts/install.sh --uninstall [--system]
# Idempotent: run it again to rebuild and reinstall.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/lib.sh"

system=no
uninstall=no
for arg in "$@"; do
    case "$arg" in
        --system) system=yes ;;
        --uninstall) uninstall=yes ;;
        -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done

if [ "$system" == yes ]; then
    dest=/usr/local/lib/docker/cli-plugins
else
    dest="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
fi

if [ "$uninstall" == yes ]; then
    as_root rm -f "$dest/docker-pallet"
    echo "removed $dest/docker-pallet"
    exit 0
fi

install_packages "${BUILD_PACKAGES[@]}"
command -v docker >/dev/null || install_packages docker.io

build_dir="$repo/build-release"
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" >/dev/null

if [ "$system" == yes ]; then
    as_root install -D -m 0755 "$build_dir/docker-pallet" "$dest/docker-pallet"
else
    install -D -m 0755 "$build_dir/docker-pallet" "$dest/docker-pallet"
fi
echo "installed $dest/docker-pallet" >&2
docker pallet version
