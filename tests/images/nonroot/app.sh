#!/bin/sh
# Usage: app.sh test|deploy|serve, or any command to run after the check.
phase="${1:-serve}"
for dir in /storage /static; do
    file="$dir/$phase-$(hostname)-$$"
    if echo "written by $(id -u) in $phase" > "$file" 2>/dev/null; then
        echo "$dir: writable by uid $(id -u) in $phase"
    else
        echo "$dir: NOT writable by uid $(id -u) in $phase ($(ls -ld "$dir" 2>&1))" >&2
        exit 1
    fi
done
case "$phase" in
test|deploy) exit 0 ;;
serve)
    mkdir -p /tmp/www && echo "ok uid $(id -u)" > /tmp/www/index.html
    exec httpd -f -p 8000 -h /tmp/www
    ;;
*) exec "$@" ;;
esac
