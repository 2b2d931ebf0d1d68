#!/bin/sh
# The page: version, environment, a visit counter kept in /storage.
version="$(cat /app/VERSION)"
storage="${STORAGE_DIR:-/storage}"
visits=0
if [ -d "$storage/db" ]; then
    visits=$(( $(cat "$storage/db/visits" 2>/dev/null || echo 0) + 1 ))
    echo "$visits" > "$storage/db/visits"
fi
css="$(awk '$1 == "style.css" { print $2 }' "/static/manifest-$version" 2>/dev/null)"
printf 'Content-Type: text/html\r\n\r\n'
cat <<HTML
<!doctype html>
<html><head><title>hello</title><link rel="stylesheet" href="/static/${css:-style.css}"></head>
<body><h1>Hello from version $version</h1>
<p>Environment: ${ENVIRONMENT:-?} &middot; Site: ${SITE_PROTOCOL:-http}://${SITE_DOMAIN:-localhost}</p>
<p>Visits: $visits</p></body></html>
HTML
