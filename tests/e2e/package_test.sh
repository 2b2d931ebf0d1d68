#!/usr/bin/env bash
# The Debian package, made by CPack from this build: installed with apt on a fresh bookworm that
# has only docker.io (offline: its libraries were fetched when the image was built), where
# `docker pallet version` works through Debian's docker client; removed, it leaves no file. The
# version of the package, of `version` and of the metadata is one.
source "$(dirname "$0")/lib.sh"
setup package
build_dir="$(dirname "$PALLET_BINARY")"
pkg="$(mktemp -d)"
trap 'rm -rf "$pkg"; finish; exit $?' EXIT
cpack -G DEB -B "$pkg" --config "$build_dir/CPackConfig.cmake" >"$pkg/cpack.log" 2>&1
expect_eq "$?" "0" "cpack makes the package"
deb="$(ls "$pkg"/docker-pallet_*.deb 2>/dev/null)"
expect_contains "$deb" "_amd64.deb" "docker-pallet_VERSION_ARCH.deb"
version="$("$PALLET_BINARY" version --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Version"])')"
meta="$("$PALLET_BINARY" docker-cli-plugin-metadata | python3 -c 'import json,sys; print(json.load(sys.stdin)["Version"])')"
expect_eq "$meta" "$version" "metadata and version say the same version"
expect_eq "$(dpkg-deb -f "$deb" Version)" "$(sed 's/-dev/~dev/; s/-/+/g' <<<"$version")" "and so does the package (Debian's form)"
expect_contains "$(dpkg-deb -f "$deb" Depends)" "libfmt9" "Depends on Debian's runtime libraries"
expect_contains "$(dpkg-deb -f "$deb" Depends)" "docker.io | docker-ce-cli" "and on a docker client"

out="$("$DOCKER" run --rm --network none -v "$pkg:/pkg:ro" pallet-test-deb-host:1 bash -c '
    set -e
    apt-get install -y /pkg/docker-pallet_*.deb >/tmp/install.log 2>&1 || { cat /tmp/install.log; exit 1; }
    echo "version: $(docker pallet version)"
    docker --help | grep -q "pallet\*" && echo "listed by docker --help"
    zcat /usr/share/man/man1/docker-pallet.1.gz | grep -q "^\.SS docker pallet env create" && echo "man page"
    grep -q "__complete" /usr/share/fish/vendor_conf.d/docker-pallet.fish && echo "fish completion"
    dpkg -L docker-pallet >/tmp/files
    echo "files: $(wc -l </tmp/files)"
    apt-get remove -y docker-pallet >/dev/null 2>&1
    while read -r f; do [ -f "$f" ] && echo "left: $f"; done </tmp/files
    docker pallet version >/dev/null 2>&1 || echo "removed"' 2>&1)"
expect_contains "$out" "version: docker-pallet version $version" "apt install, then docker pallet version through Debian's docker"
expect_contains "$out" "listed by docker --help" "docker finds it at /usr/libexec/docker/cli-plugins"
expect_contains "$out" "man page" "docker-pallet(1) has every command's help"
expect_contains "$out" "fish completion" "and fish's completion of docker pallet"
expect_not_contains "$out" "left:" "apt remove leaves no file"
expect_contains "$out" "removed" "and the plugin is gone"
