#!/usr/bin/env bash
# Shows docker pallet on the bundled example: starts an engine if none answers, builds the
# example image (its base from Debian's busybox-static, no registry needed), tests it, releases
# it to the environment "demo" and prints the URL to open. Run after scripts/install.sh.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/lib.sh"
install_packages busybox-static docker.io
start_engine

if ! docker image inspect pallet-example-base:1 >/dev/null 2>&1; then
    ctx="$(mktemp -d)"; cp /bin/busybox "$ctx/"
    printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\n' > "$ctx/Dockerfile"
    docker build -q -t pallet-example-base:1 "$ctx" >/dev/null 2>&1
    rm -rf "$ctx"
fi
docker build -q -t hello:1.0 --build-arg VERSION=1.0 "$repo/examples/hello" >/dev/null 2>&1

# The router: the official nginx image where a registry answers, else one built from Debian.
if [ -z "${PALLET_ROUTER_IMAGE:-}" ] && ! docker image inspect nginx:stable-alpine >/dev/null 2>&1 \
    && ! docker pull -q nginx:stable-alpine >/dev/null 2>&1; then
    install_packages debootstrap
    echo "no registry: building a router image from Debian's nginx-light (about a minute, once)" >&2
    "$repo/tests/images/build-images.sh" nginx
    export PALLET_ROUTER_IMAGE=pallet-test-nginx:1
    echo "(to keep using it: add \"plugins\": {\"pallet\": {\"router-image\": \"pallet-test-nginx:1\"}} to ~/.docker/config.json)" >&2
fi

set -x
docker pallet test hello:1.0
docker pallet release demo hello:1.0
docker pallet status demo
{ set +x; } 2>/dev/null
url="$(docker pallet status demo --format json | sed -n 's/.*"URL":"\([^"]*\)".*/\1/p')"
echo
echo "Open ${url}cgi-bin/index.cgi"
echo "Then try: docker pallet history demo; docker pallet logs demo --phase deploy; docker pallet rm demo --volumes"
