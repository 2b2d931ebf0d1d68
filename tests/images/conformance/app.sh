#!/bin/sh
# Conformance application. Usage: app.sh test|deploy|serve|worker [ARGS...]
# Controls: TEST_EXIT, TEST_SLEEP (test); DEPLOY_SECONDS (deploy); the image's build args.
phase="$1"
[ $# -gt 0 ] && shift
version="$(cat /app/version)"
records=/storage/records
mkdir -p "$records"

# Seconds since the host booted: one clock for every container on the engine.
now() { cut -d" " -f1 /proc/uptime; }

# Writes what this phase received into a new record file and prints its path.
record() {
    file="$records/$phase-$version-$(hostname)-$$.rec"
    {
        echo "phase=$phase"
        echo "version=$version"
        echo "uid=$(id -u)"
        echo "args=$*"
        echo "start=$(now)"
        [ -w /storage ] && echo "storage=writable"
        grep -q ' /static ' /proc/mounts && echo "static=mounted"
        env | sort | sed 's/^/env./'
    } > "$file"
    echo "$file"
}

case "$phase" in
test)
    file="$(record "$@")"
    echo "conformance tests of $version: running"
    [ -n "$TEST_SLEEP" ] && sleep "$TEST_SLEEP"
    echo "end=$(now)" >> "$file"
    echo "conformance tests of $version: exit ${TEST_EXIT:-0}"
    exit "${TEST_EXIT:-0}"
    ;;
deploy)
    file="$(record)"
    trap 'echo "signal=TERM" >> "$file"; exit 143' TERM
    echo "deploying $version"
    [ -n "$DEPLOY_SECONDS" ] && sleep "$DEPLOY_SECONDS"
    echo "$version" > "/static/deployed-$version.txt"
    echo "end=$(now)" >> "$file"
    echo "deploy of $version: exit $(cat /app/deploy_exit)"
    exit "$(cat /app/deploy_exit)"
    ;;
serve)
    file="$(record)"
    echo "serving $version on port 8000"
    trap 'echo "signal=TERM" >> "$file"; echo "end=$(now)" >> "$file"; kill $pid 2>/dev/null; exit 0' TERM
    trap 'echo "signal=INT" >> "$file"; echo "end=$(now)" >> "$file"; kill $pid 2>/dev/null; exit 0' INT
    if [ "$(cat /app/serve_mode)" = unhealthy ]; then
        sleep 100000 & pid=$!
    else
        httpd -f -p 8000 -h /www & pid=$!
    fi
    wait $pid
    ;;
worker | clock)
    # A process type (images labelled io.pallet.processes=worker[,clock]): works until SIGTERM.
    file="$(record)"
    if [ "$(cat /app/worker_mode)" = crash ]; then
        echo "worker of $version: cannot start" >&2
        exit 3
    fi
    echo "worker of $version working"
    trap 'echo "signal=TERM" >> "$file"; echo "end=$(now)" >> "$file"; exit 0' TERM
    while :; do sleep 1 & wait $!; done
    ;;
*)
    echo "unknown command: $phase (expected test, deploy, serve or worker)" >&2
    exit 64
    ;;
esac
