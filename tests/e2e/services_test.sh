#!/usr/bin/env bash
# Services: provided ones (real servers from Debian's packages) and external URLs, their
# variables in the standard's formats, used for real by an application; least privilege,
# separation of environments, label-declared services, readiness failures, bad input.
source "$(dirname "$0")/lib.sh"
setup services
volumes_before="$(engine_volumes)"

# A bare `docker pallet test` provides the services the image declares, and removes them.
pallet test pallet-test-svcapp:1
expect_eq "$CODE" "0" "label-declared services are provided to a bare test"
for service in postgres redis memcache rabbitmq smtp syslog; do
    expect_contains "$OUT" "service $service: ok:" "the application used $service"
done
expect_contains "$OUT" "(not superuser)" "the database role is not a superuser"
expect_contains "$ERR" "starting postgres (pallet-test-postgres:15)" "the image override is used"
expect_eq "$(test_run_leftovers | wc -l)" "0" "nothing left after a test with services"
expect_eq "$(engine_volumes)" "$volumes_before" "no service volume left after a test"

# The formats of the variables.
url_re='^postgres://test_[0-9a-f]{8}:[A-Za-z0-9]{24}@pallet-test-[0-9a-f]{8}-postgres:5432/test_[0-9a-f]{8}$'
db_url="$(echo "$OUT" | sed -n 's/^variable DB_DEFAULT_URL=//p')"
if [[ "$db_url" =~ $url_re ]]; then pass "DB_DEFAULT_URL format"; else fail "DB_DEFAULT_URL format: $db_url"; fi
expect_contains "$OUT" "variable MEMCACHE_PREFIX=test_" "MEMCACHE_PREFIX per run"
amqp_re='^amqp://test_[0-9a-f]{8}:[A-Za-z0-9]{24}@pallet-test-[0-9a-f]{8}-rabbitmq:5672/test_[0-9a-f]{8}$'
amqp="$(echo "$OUT" | sed -n 's/^variable AMQP_URLS=//p')"
if [[ "$amqp" =~ $amqp_re ]]; then pass "AMQP_URLS format with a vhost per run"; else fail "AMQP_URLS format: $amqp"; fi

# External servers: injected as given, lists joined with |.
pallet test pallet-conformance:v1 --keep \
    --service "elasticsearch=http://es1:9200|http://es2:9200" --service syslog=udp://logs:514 \
    --service http-proxy=http://proxy:3128 --service "memcache=memcache://m1:11211|memcache://m2" \
    --service "redis=redis://cache:6380/2" --service smtp=smtp://mail:2525
expect_eq "$CODE" "0" "a test with external services"
id="$("$DOCKER" ps -a --filter label=io.pallet.test-run --format '{{.Label "io.pallet.test-run"}}' | head -1)"
rec="$("$DOCKER" run --rm --volumes-from "pallet-test-$id" --entrypoint sh pallet-conformance:v1 -c 'cat /storage/records/*.rec')"
for want in "ELASTICSEARCH_URLS=http://es1:9200|http://es2:9200" "ELASTICSEARCH_INDEX_NAME=test_$id" \
            "SYSLOG_SERVER=logs" "SYSLOG_PORT=514" "SYSLOG_PROTO=udp" "HTTP_PROXY=http://proxy:3128" \
            "MEMCACHE_HOSTS=m1:11211|m2:11211" "REDIS_URL=redis://cache:6380/2" "REDIS_HOSTS=cache:6380" \
            "REDIS_DB_INDEX=2" "EMAIL_HOST=mail" "EMAIL_PORT=2525"; do
    expect_contains "$rec" "env.$want" "external: $want"
done
"$DOCKER" rm -f -v "pallet-test-$id" >/dev/null; "$DOCKER" network rm "pallet-test-$id" >/dev/null

# Environments: separate databases, data that survives deploys, least privilege.
a="$(env_name a)"; b="$(env_name b)"
for e in "$a" "$b"; do
    pallet env create "$e" --service postgres --service redis
    pallet deploy "$e" pallet-test-svcapp:1
    expect_eq "$CODE" "0" "deploy with services to $e"
    expect_contains "$ERR" "service postgres: ok: database ${e//-/_} as ${e//-/_} (not superuser), 1 row(s)" "$e has its own database"
done
pallet deploy "$a" pallet-test-svcapp:1
expect_eq "$CODE" "0" "a second deploy"
expect_contains "$ERR" "2 row(s)" "the database keeps its data across deploys"
url_a="$("$DOCKER" inspect "pallet-$a-deploy" --format '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^DB_DEFAULT_URL=//p')"
url_b="$("$DOCKER" inspect "pallet-$b-deploy" --format '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^DB_DEFAULT_URL=//p')"
expect_not_contains "$url_b" "${url_a#*:*:}" "environments get different passwords"
# B's application cannot reach A's database, nor use A's role on B's server.
probe() {  # NETWORK URL
    "$DOCKER" run --rm --network "$1" --entrypoint python3 pallet-test-svcapp:1 \
        -c "import psycopg2,sys; psycopg2.connect(sys.argv[1], connect_timeout=3)" "$2" >/dev/null 2>&1
}
if probe "pallet-$b" "$url_a"; then fail "B reached A's database"; else pass "B cannot reach A's database"; fi
crossed="${url_a/pallet-$a-postgres/pallet-$b-postgres}"
if probe "pallet-$b" "$crossed"; then fail "A's role works on B's server"; else pass "A's credentials do not work on B's server"; fi
if probe "pallet-$b" "$url_b"; then pass "B's own URL works (the probe can succeed)"; else fail "B's own URL failed"; fi

pallet env show "$a"
expect_contains "$OUT" "postgres: provided (container pallet-$a-postgres)" "env show lists services"
pallet status "$a" --format json
expect_contains "$OUT" '"Services":{"postgres":"running","redis":"running"}' "status shows the services"
# Mail and syslog reach the provided servers.
pallet env service "$b" add smtp syslog
pallet deploy "$b" pallet-test-svcapp:1 
expect_eq "$CODE" "0" "deploy with smtp and syslog"
expect_contains "$("$DOCKER" logs "pallet-$b-smtp" 2>&1)" "Subject: pallet check" "the SMTP server received the mail"
pallet env show "$b"
expect_contains "$OUT" "smtp: provided (container pallet-$b-smtp), web view http://127.0.0.1:" "the mail web view is published on 127.0.0.1"
expect_contains "$("$DOCKER" logs "pallet-$b-syslog" 2>&1)" "pallet-check: hello" "the syslog sink received the message"
pallet env service "$a" add "redis=redis://user:s3cret@cache:6379/0"
pallet env show "$a"
expect_contains "$OUT" "redis://user:****@cache:6379/0" "external URLs are shown masked"
expect_eq "$("$DOCKER" ps -aq --filter name="pallet-$a-redis" | wc -l)" "0" "switching to an external server removes the provided one"

# --check: an external server must accept connections (a server this test started).
ext="pallet-$RUN_ID-extredis"
"$DOCKER" run -d --name "$ext" --label "io.pallet.env=$RUN_ID-ext" --network "pallet-$a" pallet-test-redis:7 >/dev/null
ext_ip="$("$DOCKER" inspect -f "{{(index .NetworkSettings.Networks \"pallet-$a\").IPAddress}}" "$ext")"
pallet env service "$a" add "redis=redis://$ext_ip:6379/0" --check
expect_eq "$CODE" "0" "--check passes for a server that answers"
pallet env service "$a" add "postgres=postgres://u:p@$ext_ip:5432/x" --check
expect_eq "$CODE" "1" "--check fails for a server that does not answer"
expect_contains "$ERR" "the postgres server $ext_ip:5432 does not accept connections" "--check names the server"
pallet env show "$a"
expect_contains "$OUT" "postgres: provided" "a failed --check changes nothing"
"$DOCKER" rm -f -v "$ext" >/dev/null

pallet rm "$b" --volumes
expect_eq "$CODE:$(leftovers "$b" | wc -l)" "0:0" "rm --volumes removes the services and their data"

# A required service the environment lacks stops the deploy before anything runs.
c="$(env_name c)"
pallet env create "$c"
pallet deploy "$c" pallet-test-svcapp:1
expect_eq "$CODE" "1" "a missing required service fails the deploy"
expect_contains "$ERR" "requires the service postgres, which $c does not have; add it: docker pallet env service $c add postgres" "the missing service and the command are named"
expect_eq "$("$DOCKER" ps -aq --filter "label=io.pallet.env=$c" --filter label=io.pallet.phase=deploy | wc -l)" "0" "nothing ran"

# Readiness failure: named, with the service's output; nothing left.
pallet test pallet-conformance:v1 --service postgres --service-image postgres=pallet-test-redis:7 --service-timeout 4s
expect_eq "$CODE" "1" "a service that never gets ready fails the test"
expect_contains "$ERR" "the service postgres did not get ready within 4s" "the service is named"
expect_contains "$ERR" "Ready to accept connections" "with its last output"
expect_eq "$(test_run_leftovers | wc -l)" "0" "nothing left after a readiness failure"

# Bad input.
pallet test pallet-conformance:v1 --service mongodb
expect_eq "$CODE" "125" "unknown service"
expect_contains "$ERR" "known services: postgres, redis, memcache, rabbitmq, smtp, elasticsearch, syslog, http-proxy" "known services listed"
pallet env service "$c" add "postgres=not a url"
expect_contains "$ERR" "malformed URL for postgres" "malformed URL"
pallet env service "$c" add "postgres=redis://cache:6379"
expect_contains "$ERR" "redis:// is not a URL for postgres" "URL of another kind"
pallet test pallet-conformance:v1 --service postgres --service-image postgres=pallet-no-such:1
expect_eq "$CODE" "1" "a missing override image fails"
expect_contains "$ERR" "pallet-no-such:1 is not on the engine and could not be pulled" "a missing override image is named"
expect_eq "$(test_run_leftovers | wc -l)" "0" "nothing left after a missing service image"
expect_eq "$(engine_volumes | grep -v "^pallet-$RUN_ID-")" "$volumes_before" "no volume left by test runs"

# --reuse-services: warm services kept per user; every run gets a database of its own, dropped
# when it ends.
warm="pallet-warm-$WARM_USER-postgres"
USER="$WARM_USER" pallet test pallet-conformance:v1 --service postgres --reuse-services
expect_eq "$CODE" "0" "a first run with --reuse-services"
first="$("$DOCKER" ps -q --filter "name=^$warm\$")"
expect_eq "$(echo "$first" | grep -c .)" "1" "the warm postgres stays after the run"
USER="$WARM_USER" pallet test pallet-test-svcapp:1 --reuse-services
expect_eq "$CODE" "0" "a second run reuses the warm services"
expect_eq "$("$DOCKER" ps -q --filter "name=^$warm\$")" "$first" "the same postgres container served it"
expect_contains "$OUT" "service rabbitmq: ok: publish/get ok on vhost test_" "a vhost of its own"
expect_not_contains "$ERR" "starting postgres" "postgres was not started again"
dbs=""
for _ in $(seq 1 50); do
    dbs="$("$DOCKER" exec "$warm" sh -c 'psql -U "$POSTGRES_USER" -d postgres -Atc "select datname from pg_database where datname like '"'"'test_%'"'"'"')"
    [ -z "$dbs" ] && break
    sleep 0.1
done
expect_eq "$dbs" "" "each run's database is dropped at its end"
expect_eq "$(test_run_leftovers | wc -l)" "0" "nothing of the runs is left but the warm services"
