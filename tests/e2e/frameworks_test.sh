#!/usr/bin/env bash
# Applications nobody on the team wrote, as their frameworks' users write them (Debian's
# packages, unmodified test runners), through the whole lifecycle: a Django project (its test
# runner creates its own database; ALLOWED_HOSTS, CSRF, collectstatic, a named non-root user)
# and a Flask application (a test database its suite keeps, Redis flushed by its tests, / a
# redirect, SERVER_NAME, a numeric non-root user), cold and on warm services.
source "$(dirname "$0")/lib.sh"
setup services frameworks
warm_db="pallet-warm-$WARM_USER-postgres"
# Databases on the warm server besides the system's and the spares made for the next run.
warm_databases() {
    "$DOCKER" exec "$warm_db" psql -U pallet -d postgres -Atc \
        "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1') AND datname NOT LIKE 'pallet_spare_%'"
}
# Waits up to 10 s for the detached drop of a run's databases to finish.
warm_databases_settle() {
    local i left
    for i in $(seq 1 40); do
        left="$(warm_databases)"; [ -z "$left" ] && break; sleep 0.25
    done
    echo "$left"
}

# --- Django ------------------------------------------------------------------------------
pallet test pallet-test-django:1
expect_eq "$CODE" "0" "django: manage.py test passes with a provided PostgreSQL (cold)"
expect_contains "$ERR$OUT" "Ran 2 tests" "django: its own test runner ran both tests"
expect_contains "$ERR$OUT" "Creating test database" "django: the runner made its own test database"
expect_eq "$(test_run_leftovers | wc -l)" "0" "django: nothing left after a cold run"
for run in 1 2; do
    USER="$WARM_USER" pallet test pallet-test-django:1 --reuse-services -- --keepdb
    expect_eq "$CODE" "0" "django: warm run $run passes (with --keepdb: the runner keeps its database)"
done
expect_eq "$(warm_databases_settle)" "" "django: the warm server keeps no test database"
expect_eq "$("$DOCKER" exec "$warm_db" psql -U pallet -d postgres -Atc "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'test_%'")" "0" \
    "django: nor a test run's role"

dj="$(env_name django)"
pallet env create "$dj" --site-domain django.test --site-protocol https --service postgres
pallet release "$dj" pallet-test-django:1
expect_eq "$CODE" "0" "django: release (health check with Host: SITE_DOMAIN passes ALLOWED_HOSTS)"
url="$OUT"
page="$(curl -s --max-time 5 -H 'Host: django.test' "$url")"
expect_contains "$page" "secure=True" "django: X-Forwarded-Proto https reaches SECURE_PROXY_SSL_HEADER"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url")" "400" \
    "django: another Host is refused by the application, as configured"
# A POST as a browser sends it: CSRF cookie and token from the form, Referer on the site.
headers="$(mktemp)"
page="$(curl -s --max-time 5 -D "$headers" -H 'Host: django.test' "$url")"
token="$(echo "$page" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p')"
cookie="$(sed -n 's/^Set-Cookie: csrftoken=\([^;]*\);.*/\1/p' "$headers")"; rm -f "$headers"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: django.test' -H "Cookie: csrftoken=$cookie" \
    -e https://django.test/ --data-urlencode "csrfmiddlewaretoken=$token" --data-urlencode "text=posted $RUN_ID" "$url")"
expect_eq "$code" "302" "django: a POST through the router is accepted"
expect_contains "$(curl -s --max-time 5 -H 'Host: django.test' "$url")" "<li>posted $RUN_ID</li>" \
    "django: the POST was written to the database"
static="$(curl -s -D - -o /dev/null --max-time 5 "${url}static/admin/css/base.css")"
expect_contains "$static" "200 OK" "django: collectstatic's files are served from /static"
expect_contains "$static" "Content-Type: text/css" "django: with their type"
expect_contains "$static" "max-age=31536000, immutable" "django: and caching headers"
pallet run "$dj" python3 manage.py showmigrations notes
expect_eq "$CODE" "0" "django: run manage.py showmigrations"
expect_contains "$OUT" "[X] 0001_initial" "django: run lists the applied migration"
pallet run "$dj" sh -c 'ls /storage/media/notes'
expect_contains "$OUT" "1.txt" "django: the view wrote its file to /storage as the image's user"

# --- Flask -------------------------------------------------------------------------------
pallet test pallet-test-flask:1
expect_eq "$CODE" "0" "flask: pytest passes with provided PostgreSQL and Redis (cold)"
expect_contains "$OUT" "3 passed" "flask: all three tests ran"
for run in 1 2; do
    USER="$WARM_USER" pallet test pallet-test-flask:1 --reuse-services
    expect_eq "$CODE" "0" "flask: warm run $run passes"
done
expect_eq "$(warm_databases_settle)" "" "flask: the database its suite kept is dropped when the run ends"

# Eight concurrent warm runs: each flushes its Redis database and counts visits from zero, and
# orders in a database of its own; any sharing makes one fail.
pids=(); outs=()
for i in $(seq 1 8); do
    outs+=("$(mktemp)")
    USER="$WARM_USER" "$DOCKER" pallet test pallet-test-flask:1 --reuse-services >"${outs[-1]}" 2>&1 & pids+=($!)
done
E2E_PIDS+=("${pids[@]}")
failed=0
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { failed=$((failed + 1)); tail -5 "${outs[$i]}"; }
done
expect_eq "$failed" "0" "flask: 8 concurrent warm runs all pass (no shared Redis database or key space)"
rm -f "${outs[@]}"
expect_eq "$(warm_databases_settle)" "" "flask: and each run's databases are dropped"
expect_eq "$("$DOCKER" exec "pallet-warm-$WARM_USER-redis" redis-cli -n 0 --scan --pattern 'pallet:lease:*' | wc -l)" "0" \
    "flask: every Redis lease is given back"

fl="$(env_name flask)"
pallet env create "$fl" --site-domain shop.test --service postgres --service redis
pallet release "$fl" pallet-test-flask:1
expect_eq "$CODE" "0" "flask: release (a redirect on / is a healthy answer)"
url="$OUT"
expect_contains "$(curl -s -D - -o /dev/null --max-time 5 -H 'Host: shop.test' "$url")" "Location: /login" \
    "flask: / redirects to the login page"
expect_contains "$(curl -s --max-time 5 -H 'Host: shop.test' "${url}login")" "login at http://shop.test/login" \
    "flask: the external URL is built from the site's domain"
expect_eq "$(curl -s --max-time 5 -H 'Host: shop.test' "${url}healthz")" "ok" "flask: its own health path"
expect_eq "$(curl -s --max-time 5 -H 'Host: shop.test' -d item=tea "${url}orders")" "1" "flask: a POST stores an order"
expect_eq "$(curl -s --max-time 5 -H 'Host: shop.test' "${url}orders")" "1" "flask: and it is there"
pallet run "$fl" ls /storage
expect_contains "$OUT" "order-1.txt" "flask: the receipt was written to /storage by uid 1000"
pallet env update "$fl" --health-path /healthz
pallet release "$fl" pallet-test-flask:1
expect_eq "$CODE" "0" "flask: released again with its own health path"
