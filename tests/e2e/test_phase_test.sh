#!/usr/bin/env bash
# Rule 1: `docker pallet test` runs the image's test command in a transient, isolated
# environment, streams its output, exits with the suite's code and removes what it created.
source "$(dirname "$0")/lib.sh"
setup
volumes_before="$(engine_volumes)"

# What a kept test container's /storage holds.
kept_records() {
    "$DOCKER" run --rm --volumes-from "pallet-test-$1" --entrypoint sh pallet-conformance:v1 \
        -c 'cat /storage/records/*.rec'
}


pallet test pallet-conformance:v1 -e FOO=bar -- --verbose extra
expect_eq "$CODE" "0" "passing suite exits 0"
expect_contains "$OUT" "conformance tests of v1: running" "test output is streamed"
expect_eq "$(test_run_leftovers | wc -l)" "0" "nothing left after a passing run"

pallet test pallet-conformance:v1 -e TEST_EXIT=5
expect_eq "$CODE" "5" "failing suite's exit code"
expect_eq "$(test_run_leftovers | wc -l)" "0" "nothing left after a failing run"

# What the test phase received, read from the kept environment.
envfile="$(mktemp)"; printf '# comment\nFROM_FILE=yes\n\nSPACED=a b\n' > "$envfile"
pallet test pallet-conformance:v1 --keep --env-file "$envfile" -e FOO=bar -- one two
expect_eq "$CODE" "0" "kept run passes"
expect_contains "$ERR" "kept the test container; remove it with:" "--keep says how to remove it"
# The run's id, from the container its removal hint names.
kept_id() { grep -o 'rm -f -v pallet-test-[0-9a-f]*' | head -1 | sed 's/.*pallet-test-//'; }
run_id="$(echo "$ERR" | kept_id)"
if [ -n "$run_id" ]; then
    rec="$(kept_records "$run_id")"
    expect_contains "$rec" "env.ENVIRONMENT=test" "ENVIRONMENT=test"
    expect_contains "$rec" "env.SITE_PROTOCOL=http" "SITE_PROTOCOL"
    expect_contains "$rec" "env.SITE_DOMAIN=localhost" "SITE_DOMAIN"
    expect_contains "$rec" "env.FOO=bar" "-e variable"
    expect_contains "$rec" "env.FROM_FILE=yes" "--env-file variable"
    expect_contains "$rec" "env.SPACED=a b" "--env-file keeps spaces in values"
    expect_contains "$rec" "uid=1234" "the image's own user"
    expect_contains "$rec" "storage=writable" "/storage is writable"
    expect_contains "$rec" "static=mounted" "/static is mounted"
    expect_contains "$rec" "args=one two" "arguments after -- reach the test command"
    expect_not_contains "$rec" "WEB_CONCURRENCY" "no serve-only variables in test"
    ports="$("$DOCKER" inspect "pallet-test-$run_id" --format '{{json .HostConfig.PortBindings}}')"
    expect_eq "$ports" "{}" "no port is published for tests"
    eval "$(echo "$ERR" | grep -A1 'remove it with' | tail -1)" >/dev/null 2>&1
    expect_eq "$(test_run_leftovers | wc -l)" "0" "the printed removal command removes everything"
else
    fail "--keep left no container"
fi
rm -f "$envfile"

# An image that does not exist and cannot be pulled.
pallet test pallet-no-such-image:404
expect_eq "$CODE" "1" "missing image fails"
expect_contains "$ERR" "is not on the engine and could not be pulled" "missing image explained"
expect_eq "$(test_run_leftovers | wc -l)" "0" "nothing left after a missing image"

# Malformed variables.
pallet test pallet-conformance:v1 -e "1BAD=x"
expect_eq "$CODE" "125" "malformed -e is a usage error"
expect_contains "$ERR" 'invalid variable name "1BAD"' "malformed -e explained"
bad="$(mktemp)"; echo "NOT VALID LINE" > "$bad"
pallet test pallet-conformance:v1 --env-file "$bad"
expect_eq "$CODE" "1" "malformed env file fails"
expect_contains "$ERR" "$bad:1: expected KEY=VALUE" "malformed env file line named"
rm -f "$bad"

# Two runs of the same image at the same time do not see each other.
a="$(mktemp)"; b="$(mktemp)"
"$DOCKER" pallet test pallet-conformance:v1 -e TEST_SLEEP=2 --keep >"$a" 2>&1 &
pa=$!
"$DOCKER" pallet test pallet-conformance:v1 -e TEST_SLEEP=2 --keep >"$b" 2>&1 &
pb=$!
wait $pa; ca=$?; wait $pb; cb=$?
expect_eq "$ca$cb" "00" "parallel runs both pass"
# Their ids from their own output: other runs' containers (a removal the engine has not finished)
# are not theirs.
ids="$( (kept_id <"$a"; kept_id <"$b") | sort -u)"
expect_eq "$(echo "$ids" | grep -c .)" "2" "parallel runs got separate environments"
for id in $ids; do
    expect_eq "$("$DOCKER" inspect "pallet-test-$id" --format '{{index .Config.Labels "io.pallet.test-run"}}')" \
        "$id" "run $id's container is labelled as its run"
done
for id in $ids; do
    n="$(kept_records "$id" | grep -c '^phase=test')"
    expect_eq "$n" "1" "run $id saw only its own /storage"
done
sources="$(for id in $ids; do "$DOCKER" inspect "pallet-test-$id" --format '{{range .Mounts}}{{.Name}} {{end}}'; done | tr ' ' '\n' | grep . | sort)"
expect_eq "$(echo "$sources" | sort -u | wc -l)" "4" "the two runs share no volume"
for id in $ids; do
    "$DOCKER" rm -f -v "pallet-test-$id" >/dev/null
done
rm -f "$a" "$b"
expect_eq "$(engine_volumes)" "$volumes_before" "no volume is left behind by test runs"
