#!/usr/bin/env bash
# Builds the Debian package: docker-pallet_VERSION_ARCH.deb in build-package/ (Release, stripped),
# installing the plugin at /usr/libexec/docker/cli-plugins/docker-pallet with its man page.
#   scripts/package.sh && sudo apt install ./build-package/docker-pallet_*.deb
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/lib.sh"
install_packages "${BUILD_PACKAGES[@]}" dpkg-dev file
build_dir="${PALLET_PACKAGE_BUILD_DIR:-$repo/build-package}"
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target package >/dev/null
ls "$build_dir"/docker-pallet_*.deb
