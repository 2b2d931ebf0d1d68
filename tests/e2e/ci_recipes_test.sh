#!/usr/bin/env bash
# The CI recipes (examples/ci: GitLab CI and GitHub Actions) run their docker pallet commands
# through examples/ci/pallet-ci.sh: this runs that script as their jobs would, step by step,
# against a staging environment with PostgreSQL data: test a push, a preview per merge request
# (made with staging's data, updated by the next push), its removal when the merge request
# closes, the scheduled prune of an expired one, and the release of a tag.
source "$(dirname "$0")/lib.sh"
setup services
CI_SCRIPT="$REPO_DIR/examples/ci/pallet-ci.sh"
for recipe in gitlab-ci.yml github-actions.yml; do
    expect_eq "$(grep -c 'examples/ci/pallet-ci.sh \(test\|preview\|close\|prune\|release\)' "$REPO_DIR/examples/ci/$recipe")" \
        "5" "$recipe runs each step through pallet-ci.sh"
done
export PALLET_SOURCE="$(env_name staging)" PALLET_DOMAIN=preview.test PALLET_TTL=1h PALLET_TARGET="$(env_name prod)"
job() {  # STEP [VAR=VALUE...]: a CI job
    local step="$1"; shift
    run_docker_env env "$@" sh "$CI_SCRIPT" "$step"
}
run_docker_env() {
    local out err
    out="$(mktemp)"; err="$(mktemp)"
    "$@" >"$out" 2>"$err"; CODE=$?
    OUT="$(cat "$out")"; ERR="$(cat "$err")"; rm -f "$out" "$err"
}
psql_in() { "$DOCKER" exec "pallet-$1-postgres" psql -q -At -U pallet -d "${1//-/_}" -c "$2"; }

pallet env create "$PALLET_SOURCE" --service postgres
pallet release "$PALLET_SOURCE" pallet-conformance:v1
expect_eq "$CODE" "0" "staging serves"
psql_in "$PALLET_SOURCE" "CREATE TABLE notes (text text); INSERT INTO notes VALUES ('staging data')"

# A copy that cannot be made (a backup the source does not have) leaves nothing of it.
missing="$(env_name pr-0)"
pallet env create "$missing" --from "$PALLET_SOURCE" --data 20261201-000000-abcd --site-domain "$missing.test"
expect_eq "$CODE" "1" "a copy of a backup its source does not have: refused"
expect_contains "$ERR" "has no backup 20261201-000000-abcd" "the error names the backup"
expect_contains "$ERR" "$missing was not created" "and says the copy was not made"
expect_eq "$(leftovers "$missing")" "" "nothing of it is left"
pallet env show "$missing"
expect_eq "$CODE" "1" "not even its settings"

job test PALLET_IMAGE=pallet-conformance:v1
expect_eq "$CODE" "0" "push: the test job"

preview="$(env_name pr-7)"
job preview PALLET_IMAGE=pallet-conformance:v1 PALLET_PREVIEW="$preview"
expect_eq "$CODE" "0" "merge request: the preview job"
expect_eq "$(psql_in "$preview" "SELECT text FROM notes")" "staging data" "the preview has staging's data"
pallet env show "$preview" --format json
expect_contains "$OUT" "\"SiteDomain\":\"$preview.preview.test\"" "at its own domain"
expect_contains "$OUT" '"TTLSeconds":3600' "with the recipe's time to live"
psql_in "$preview" "INSERT INTO notes VALUES ('review data')"
job preview PALLET_IMAGE=pallet-conformance:broken-deploy PALLET_PREVIEW="$preview"
expect_eq "$CODE" "3" "a push whose deploy fails: the preview job fails with the deploy's exit code"
pallet status "$preview" --format json
expect_contains "$OUT" '"Serving":"pallet-conformance:v1"' "and the preview serves what it served"
job preview PALLET_IMAGE=pallet-conformance:v2 PALLET_PREVIEW="$preview"
expect_eq "$CODE" "0" "the next push to the merge request: the preview job again"
expect_contains "$ERR" "updated $preview" "it updates the preview (another TTL) rather than copying again"
pallet status "$preview" --format json
expect_contains "$OUT" '"Serving":"pallet-conformance:v2"' "the preview serves the new push"
expect_eq "$(psql_in "$preview" "SELECT count(*) FROM notes")" "2" "and keeps what the review wrote"
expect_eq "$(psql_in "$PALLET_SOURCE" "SELECT count(*) FROM notes")" "1" "staging never sees it"
job close PALLET_PREVIEW="$preview"
expect_eq "$CODE" "0" "merge request closed: the close job"
expect_eq "$(leftovers "$preview")" "" "the preview is gone with its data"
job close PALLET_PREVIEW="$preview"
expect_eq "$CODE" "0" "the close job again (a retried job) succeeds"

stale="$(env_name pr-8)"
job preview PALLET_IMAGE=pallet-conformance:v1 PALLET_PREVIEW="$stale" PALLET_TTL=1s
expect_eq "$CODE" "0" "a preview nobody pushes to"
sleep 2
job prune
expect_eq "$CODE" "0" "schedule: the prune job"
expect_contains "$ERR" "removing $stale" "it removes the expired preview"
expect_eq "$(leftovers "$stale")" "" "with everything it had"
pallet status "$PALLET_SOURCE" --format json
expect_contains "$OUT" '"Serving":"pallet-conformance:v1"' "staging, without a TTL, stays"

job release PALLET_IMAGE=pallet-conformance:v2
expect_eq "$CODE" "0" "tag: the release job"
pallet status "$PALLET_TARGET" --format json
expect_contains "$OUT" '"Serving":"pallet-conformance:v2"' "production serves the tag"
pallet rm "$PALLET_TARGET" --volumes
pallet rm "$PALLET_SOURCE" --volumes
