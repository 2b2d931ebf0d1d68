#!/usr/bin/env bash
# Bad input, table-driven, through the real binary: each case gets one line that says what is
# wrong and what to do, the exit status it should (125 for usage), no secret in the output, and
# leaves the engine exactly as it was. Then what the services' clients accept is accepted.
source "$(dirname "$0")/lib.sh"
setup

env="$(env_name bad)"
pallet env create "$env"
expect_eq "$CODE" "0" "a valid environment to try bad input on"
secret="planted-bad-$RUN_ID"
files="$(mktemp -d)"
printf 'GOOD=1\nBAD=\xff\xfe\n' >"$files/latin1.env"
printf 'GOOD=1\nA B=1\n' >"$files/space.env"
head -c 70000 /dev/zero | tr '\0' x >"$files/huge"
mkdir -p "$files/config/cli-plugins"; cp "$PALLET_BINARY" "$files/config/cli-plugins/docker-pallet"
printf '{"auths": {"r": {"auth": "%s' "$secret" >"$files/config/config.json"

# case EXIT "FRAGMENT" ARGS...: the command fails with EXIT and FRAGMENT, changes nothing.
case_() {
    local want_code="$1" fragment="$2"; shift 2
    local before after errors
    before="$(engine_snapshot)"
    pallet "$@"
    after="$(engine_snapshot)"
    local what="$*"; what="${what:0:80}"
    expect_eq "$CODE" "$want_code" "[$what]: exit $want_code"
    expect_contains "$ERR" "$fragment" "[$what]: says what is wrong"
    errors="$(echo "$ERR" | grep -c '^docker-pallet: ')"
    expect_eq "$errors" "1" "[$what]: in one line"
    expect_not_contains "$OUT$ERR" "$secret" "[$what]: no secret in the output"
    expect_not_contains "$ERR" "json.exception" "[$what]: no parser's internals"
    if [ "$before" == "$after" ]; then pass "[$what]: the engine is as it was"; else fail "[$what]: the engine changed"; fi
}

# Durations: overflow, negative, units, range.
case_ 125 'invalid --drain "600h"' env update "$env" --drain 600h
case_ 125 'invalid --drain "-5s"' env update "$env" --drain -5s
case_ 125 'invalid --drain "5d"' env update "$env" --drain 5d
case_ 125 'invalid --health-timeout "0s"' env update "$env" --health-timeout 0s
case_ 125 'invalid --health-timeout' env update "$env" --health-timeout 99999999999999999999h
case_ 125 'invalid --service-timeout "1.5s"' env update "$env" --service-timeout 1.5s
case_ 125 'invalid duration "9999h" for --wait' deploy "$env" pallet-conformance:v1 --wait=9999h
# Ports and addresses.
case_ 125 'invalid --port "a b:80"' env update "$env" --port 'a b:80'
case_ 125 'invalid --port "70000"' env update "$env" --port 70000
case_ 125 'invalid --port "0"' env update "$env" --port 0
case_ 125 'invalid --port "::1:80"' env update "$env" --port ::1:80
case_ 125 'invalid --port "[1.2.3.4]:80"' env update "$env" --port '[1.2.3.4]:80'
case_ 125 'invalid --port "localhost:80"' env update "$env" --port localhost:80
# Domains and health paths (they go into a raw HTTP request).
case_ 125 'invalid --site-domain "a b"' env update "$env" --site-domain 'a b'
case_ 125 'invalid --health-path' env update "$env" --health-path $'/up\r\nX-Injected: 1'
case_ 125 'invalid --health-path "up"' env update "$env" --health-path up
# URLs: malformed, of another kind, out of range; shown masked.
case_ 125 'malformed URL for postgres: "postgres://****@h/db"' env service "$env" add "postgres=postgres://u:$secret/x@h/db"
case_ 125 'malformed URL for redis' env service "$env" add "redis=redis://:$secret#x@h"
case_ 125 'malformed URL for redis' env service "$env" add 'redis=redis://h:99999'
case_ 125 'http:// is not a URL for redis' env service "$env" add 'redis=http://h'
case_ 125 'unknown service "mongodb"' env service "$env" add mongodb
# Environment names: malformed, and names of the plugin's own objects.
case_ 125 'invalid environment name "Bad_Name"' env create Bad_Name
case_ 125 'invalid environment name' env create "$(printf 'a%.0s' $(seq 1 41))"
case_ 125 'belong to docker pallet' env create "warm-$WARM_USER"
case_ 125 'belong to docker pallet' env create test-12345678
case_ 125 'belong to docker pallet' env create edge
case_ 125 'belong to docker pallet' deploy warm-x pallet-conformance:v1
# Values: not UTF-8, NUL, line breaks where docker's files cannot carry them, too large.
case_ 125 'the value of K is not valid UTF-8' env set "$env" $'K=\xff\xfe'
case_ 125 'invalid variable name "K K"' env set "$env" 'K K=1'
case_ 125 'the value of HTTP_PROXY holds a line break' env set "$env" $'HTTP_PROXY=http://a\nb'
case_ 1 'at most 60 KiB' env set "$env" "HUGE=$(cat "$files/huge")"
case_ 1 "latin1.env:2: the value of BAD is not valid UTF-8" test pallet-conformance:v1 --env-file "$files/latin1.env"
case_ 1 "space.env:2: expected KEY=VALUE" test pallet-conformance:v1 --env-file "$files/space.env"
case_ 1 "cannot read env file $files/missing.env" test pallet-conformance:v1 --env-file "$files/missing.env"
# Image references.
case_ 125 'invalid image reference "Bad:Image"' deploy "$env" Bad:Image
case_ 125 'invalid image reference "a b"' serve "$env" 'a b'
case_ 125 'invalid image reference "img@sha256:zz"' test 'img@sha256:zz'
case_ 125 'invalid image reference "x y"' run --image 'x y' "$env" ls
case_ 125 'and an image reference, got "postgres=BAD!"' test pallet-conformance:v1 --service-image 'postgres=BAD!'
case_ 125 'not in range 0 to 64' scale "$env" 99999999999
# Swarm-only settings on an engine environment: usage errors, before any docker call.
case_ 125 'are for --orchestrator swarm' env create "$(env_name bad2)" --volume-driver local
case_ 125 'are for --orchestrator swarm' env create "$(env_name bad2)" --volume-opt "o=password=$secret"
case_ 125 '--volume-opt takes KEY=VALUE' env create "$(env_name bad2)" --orchestrator swarm --volume-opt novalue
# A config.json that does not parse: its credentials are not quoted.
DOCKER_CONFIG="$files/config" case_ 1 'config.json is not valid JSON (at byte' status

# What the services' clients accept is accepted.
for url in 'redis=redis://h:6379?ssl=1' 'redis=redis://[::1]' 'postgres=postgres://app:p%2Fw%23d@db.internal:5432/app?sslmode=require' \
           'rabbitmq=amqps://u:p@[2001:db8::1]:5671/vhost'; do
    pallet env service "$env" add "$url"
    expect_eq "$CODE" "0" "accepted: $url"
done
pallet env show "$env"
expect_contains "$OUT" "postgres://app:****@db.internal:5432/app?sslmode=require" "shown masked"
expect_not_contains "$OUT" "p%2Fw" "the password is not shown"
pallet env update "$env" --port '[::1]:18733' --drain 0s --health-timeout 24h
expect_eq "$CODE" "0" "an IPv6 listening address, a drain of 0 and a long health timeout are accepted"
rm -rf "$files"
