#!/usr/bin/env bash
# Builds the images the end-to-end tests use, without any registry, reusing those that exist.
#   busybox:     pallet-test-busybox:1   (static busybox from Debian's busybox-static, < 1 s)
#   conformance: pallet-conformance:v1, :v2, :v3, :broken-deploy, :unhealthy, :no-deploy,
#                :bad-healthcheck, :headers (the conformance app; :headers shows a request's headers),
#                :proc-v1, :proc-v2, :proc-crash (with a worker process; its worker cannot start)
#   debian:      pallet-test-debian:bookworm (debootstrap, about 30 s, once per machine)
#   nginx:       pallet-test-nginx:1 (Debian's nginx-light, the router in tests) and
#                pallet-test-nginx-debian:1 (nginx-light left as the package installs it)
#   nonroot:     pallet-test-nonroot:numeric, :named (non-root users, no /storage or /static),
#                :own-dirs (a numeric user, root's /storage and /static in the image)
#   acme:        pallet-test-pebble:1, pallet-test-lego:1 (Debian's pebble, Let's Encrypt's test ACME
#                server, and lego, the ACME client)
#   package:     pallet-test-deb-host:1 (bookworm with docker.io: the .deb installed offline)
#   swarm:       pallet-test-swarm-node:1 (Debian's docker.io: an engine in a container)
#   frameworks:  pallet-test-django:1, pallet-test-flask:1 (applications as their frameworks'
#                users write them, from Debian's packages, with their own test runners),
#                pallet-test-django:2 (a second version), :3 (a migration that drops a column)
#                and :broken (its server cannot start),
#                pallet-test-django-celery:1, :2, :crash (with Celery's worker and beat; its worker
#                cannot start)
#   services:    pallet-test-postgres:15, -redis:7, -memcached:1, -rabbitmq:3, -smtp:1, -syslog:1 (from
#                Debian's packages, with the official images' contracts) and pallet-test-svcapp:1,
#                an application that uses every service variable it gets
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
docker_cmd="${DOCKER:-docker}"

have() { "$docker_cmd" image inspect "$1" >/dev/null 2>&1; }
say() { echo "build-images: $*" >&2; }
# docker build, quiet unless it fails.
build() {
    local log; log="$(mktemp)"
    if ! "$docker_cmd" build -q "$@" >"$log" 2>&1; then
        cat "$log" >&2; rm -f "$log"; return 1
    fi
    rm -f "$log"
}

build_busybox() {
    have pallet-test-busybox:1 && return
    local ctx; ctx="$(mktemp -d)"
    cp /bin/busybox "$ctx/busybox"
    cp "$here/busybox/Dockerfile" "$ctx/Dockerfile"
    say "building pallet-test-busybox:1"
    build -t pallet-test-busybox:1 "$ctx"
    rm -rf "$ctx"
}

build_conformance() {
    local tag args
    for spec in "v1:--build-arg VERSION=v1" "v2:--build-arg VERSION=v2" \
                "v3:--build-arg VERSION=v3" \
                "broken-deploy:--build-arg VERSION=broken-deploy --build-arg DEPLOY_EXIT=3" \
                "unhealthy:--build-arg VERSION=unhealthy --build-arg SERVE_MODE=unhealthy" \
                "no-deploy:--build-arg VERSION=no-deploy --build-arg ENTRY=none"; do
        tag="${spec%%:*}"; args="${spec#*:}"
        have "pallet-conformance:$tag" && continue
        say "building pallet-conformance:$tag"
        # shellcheck disable=SC2086
        build $args -t "pallet-conformance:$tag" "$here/conformance"
    done
    # With a process type (io.pallet.processes=worker), and one whose worker cannot start.
    local base
    for spec in "proc-v1:v1" "proc-v2:v2"; do
        tag="${spec%%:*}"; base="${spec#*:}"
        have "pallet-conformance:$tag" && continue
        say "building pallet-conformance:$tag"
        printf 'FROM pallet-conformance:%s\nLABEL io.pallet.processes=worker\n' "$base" |
            "$docker_cmd" build -q -t "pallet-conformance:$tag" - >/dev/null 2>&1
    done
    if ! have pallet-conformance:proc-crash; then
        say "building pallet-conformance:proc-crash"
        build --build-arg VERSION=proc-crash --build-arg WORKER_MODE=crash \
            --label io.pallet.processes=worker -t pallet-conformance:proc-crash "$here/conformance"
    fi
    have pallet-conformance:headers || { say "building pallet-conformance:headers"; build -t pallet-conformance:headers "$here/headers"; }
    if ! have pallet-conformance:bad-healthcheck; then
        # v2 with a HEALTHCHECK that always fails: answers HTTP, yet is never healthy.
        say "building pallet-conformance:bad-healthcheck"
        printf 'FROM pallet-conformance:v2\nHEALTHCHECK --interval=1s --retries=1 CMD ["false"]\n' |
            "$docker_cmd" build -q -t pallet-conformance:bad-healthcheck - >/dev/null 2>&1
    fi
}

build_debian() {
    have pallet-test-debian:bookworm && return
    command -v debootstrap >/dev/null || { say "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
    local root; root="$(mktemp -d)"
    say "debootstrap bookworm (about 30 s)"
    debootstrap --variant=minbase bookworm "$root" >/tmp/pallet-debootstrap.log 2>&1 \
        || { tail -20 /tmp/pallet-debootstrap.log >&2; exit 1; }
    tar -C "$root" -c . | "$docker_cmd" import - pallet-test-debian:bookworm >/dev/null
    rm -rf "$root"
}

build_nginx() {
    local tag dir
    for tag in nginx:nginx nginx-debian:nginx-debian; do
        dir="${tag#*:}"; tag="pallet-test-${tag%%:*}:1"
        have "$tag" && continue
        build_debian
        say "building $tag"
        build -t "$tag" "$here/$dir"
    done
}

build_nonroot() {
    have pallet-test-nonroot:numeric || { say "building pallet-test-nonroot:numeric"; build -t pallet-test-nonroot:numeric "$here/nonroot"; }
    have pallet-test-nonroot:named || { say "building pallet-test-nonroot:named"; build --build-arg RUN_AS=webapp -t pallet-test-nonroot:named "$here/nonroot"; }
    have pallet-test-nonroot:own-dirs || { say "building pallet-test-nonroot:own-dirs"; build --build-arg OWN_DIRS=1 -t pallet-test-nonroot:own-dirs "$here/nonroot"; }
}

build_services() {
    local kind tag
    for kind in postgres:15 redis:7 memcached:1 rabbitmq:3 smtp:1 syslog:1; do
        tag="pallet-test-${kind}"
        have "$tag" && continue
        build_debian
        say "building $tag"
        build -t "$tag" "$here/services/${kind%%:*}"
    done
    if ! have pallet-test-svcapp:1; then
        say "building pallet-test-svcapp:1"
        build -t pallet-test-svcapp:1 "$here/svcapp"
    fi
}

build_frameworks() {
    local name
    for name in django flask; do
        have "pallet-test-$name:1" && continue
        build_debian
        say "building pallet-test-$name:1"
        build -t "pallet-test-$name:1" "$here/$name"
    done
    # The same project as a second version, and as a version whose server cannot start (its
    # gunicorn is given a worker count it refuses): an upgrade, and one that fails.
    have pallet-test-django:2 ||
        printf 'FROM pallet-test-django:1\nLABEL io.pallet.test.version=2\n' |
        "$docker_cmd" build -q -t pallet-test-django:2 - >/dev/null 2>&1
    # A third version whose migration drops a column with data in it (Note.created): the
    # migration rollback --data undoes.
    have pallet-test-django:3 || {
        say "building pallet-test-django:3"
        printf '%s\n' 'FROM pallet-test-django:1' 'USER root' \
            "RUN sed -i '/created = /d' /app/notes/models.py && cd /app \\" \
            ' && DB_DEFAULT_URL=sqlite:////tmp/build.db python3 manage.py makemigrations notes \' \
            ' && rm -f /tmp/build.db && find /app -name __pycache__ -prune -exec rm -rf {} +' \
            'USER django' 'LABEL io.pallet.test.version=3' |
            "$docker_cmd" build -q -t pallet-test-django:3 - >/dev/null
    }
    have pallet-test-django-celery:1 || { say "building pallet-test-django-celery:1"; build -t pallet-test-django-celery:1 "$here/django-celery"; }
    have pallet-test-django-celery:2 ||
        printf 'FROM pallet-test-django-celery:1\nLABEL io.pallet.test.version=2\n' |
        "$docker_cmd" build -q -t pallet-test-django-celery:2 - >/dev/null 2>&1
    # Its worker cannot start: Celery refuses the concurrency it is given.
    have pallet-test-django-celery:crash ||
        printf 'FROM pallet-test-django-celery:1\nENV WORKER_CONCURRENCY=none\n' |
        "$docker_cmd" build -q -t pallet-test-django-celery:crash - >/dev/null 2>&1
    have pallet-test-django:broken ||
        printf 'FROM pallet-test-django:1\nENV WEB_CONCURRENCY=none\n' |
        "$docker_cmd" build -q -t pallet-test-django:broken - >/dev/null 2>&1
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(busybox conformance nginx)
# One build at a time (per user): ctest runs two tests at once, and two of them asking for
# the same image (or the same debootstrap) would build it twice over each other.
exec 9>"${TMPDIR:-/tmp}/pallet-build-images-$(id -u).lock"
flock 9
for target in "${targets[@]}"; do
    case "$target" in
        busybox) build_busybox ;;
        conformance) build_busybox; build_conformance ;;
        debian) build_debian ;;
        nginx) build_nginx ;;
        nonroot) build_busybox; build_nonroot ;;
        frameworks) build_frameworks ;;
        package) have pallet-test-deb-host:1 || { build_debian; say "building pallet-test-deb-host:1"; build -t pallet-test-deb-host:1 "$here/deb-host"; } ;;
        acme) for name in pebble lego; do
                  have "pallet-test-$name:1" && continue
                  build_debian; say "building pallet-test-$name:1"; build -t "pallet-test-$name:1" "$here/acme/$name"
              done ;;
        swarm) have pallet-test-swarm-node:1 || { build_debian; say "building pallet-test-swarm-node:1"; build -t pallet-test-swarm-node:1 "$here/swarm-node"; } ;;
        services) build_services ;;
        *) say "unknown image set: $target"; exit 2 ;;
    esac
done
