#!/usr/bin/env bash
# --dry-run is pure: for every command that takes it, the engine (containers and their state,
# networks, volumes, images) is the same before and after, the changes are printed as
# "would run: docker ...", and no secret appears in what is printed.
source "$(dirname "$0")/lib.sh"
setup services

env="$(env_name dry)"
secret="planted-dry-$RUN_ID-secret"
pallet env create "$env" --service postgres --site-domain dry.test
pallet env set "$env" SECRET_KEY="$secret" GREETING=hello
pallet release "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "release v1 (the state the dry runs start from)"
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >/dev/null 2>&1
fresh="$(env_name dry-fresh)"

# pallet --dry-run ARGS...: same engine before and after, exit 0, changes printed.
dry() {
    local before after
    before="$(engine_snapshot)"
    pallet --dry-run "$@"
    after="$(engine_snapshot)"
    expect_eq "$CODE" "0" "--dry-run $*: exit 0"
    if [ "$before" == "$after" ]; then
        pass "--dry-run $*: the engine is unchanged"
    else
        fail "--dry-run $*: the engine changed: $(diff <(echo "$before") <(echo "$after") | head -5)"
    fi
    expect_not_contains "$OUT$ERR" "$secret" "--dry-run $*: no secret printed"
    [ -n "${EXPECT_PRINTED:-}" ] && expect_contains "$OUT" "would run: docker container $EXPECT_PRINTED" \
        "--dry-run $*: prints the change"
    EXPECT_PRINTED=""
}

EXPECT_PRINTED="run --rm --name pallet-test-" dry test pallet-conformance:v1 -e TOKEN="$secret"
EXPECT_PRINTED="run --detach --name pallet-test-" dry test pallet-test-svcapp:1
dry test pallet-conformance:not-built-anywhere
EXPECT_PRINTED="run --rm" dry env create "$fresh" --service "redis=redis://:$secret@127.0.0.1:1/0" --check
dry env update "$env" --port 18999 --drain 5s
EXPECT_PRINTED="create --name pallet-$env-config-" dry env set "$env" OTHER="$secret-2"
expect_contains "$ERR" "dry run, not done: set 1 variable(s)" "progress says what was not done"
dry env unset "$env" GREETING
dry env service "$env" add redis "smtp=smtp://mail.internal:25"
EXPECT_PRINTED="rm --force --volumes pallet-$env-postgres" dry env service "$env" rm postgres --volumes
EXPECT_PRINTED="create --name pallet-$env-deploy" dry deploy "$env" pallet-conformance:v3
EXPECT_PRINTED="start pallet-$env-serve-" dry serve "$env" pallet-conformance:v2
dry release "$env" pallet-conformance:v3
EXPECT_PRINTED="create --name pallet-$env-serve-" dry scale "$env" 3
dry scale "$env" 1
dry rollback "$env" pallet-conformance:v2
EXPECT_PRINTED="create --name pallet-$env-run-" dry run "$env" sh -c 'echo hi'
dry run --test pallet-conformance:v1 ls
dry backup "$env" --note "dry"
expect_contains "$ERR" "dry run, not done: backup of $env (postgres, storage)" "a backup is said, not taken"
dry deploy "$env" pallet-conformance:v1
expect_contains "$ERR" "dry run, not done: backup of $env" "so is the one before a deploy"
dry backup rm "$env" 20261202-000000-abcd
dry backup export "$env" 20261202-000000-abcd
expect_contains "$ERR" "dry run, not done: exported the backup" "an export is said, not written"
dry restore "$env" 20261202-000000-abcd
expect_contains "$ERR" "dry run, not done: restore of the backup 20261202-000000-abcd into $env" "a restore is said, not done"
archive="$(mktemp)"; printf 'not an archive' >"$archive"
dry restore "$env" --from "$archive"
expect_contains "$ERR" "dry run, not done: restore of $archive into $env" "so is one --from a file"
rm -f "$archive"
dry rollback "$env" pallet-conformance:v2 --data --yes
expect_contains "$ERR" "dry run, not done: restore of the backup taken before the deploy of pallet-conformance:v1" \
    "rollback --data: its restore is said, not done"
EXPECT_PRINTED="exec" dry maintenance "$env" on --message "dry"
EXPECT_PRINTED="stop" dry stop "$env"
EXPECT_PRINTED="rm --force --volumes" dry rm "$env" --volumes
dry env rm "$env"
dry release "$fresh" pallet-conformance:v1
expect_contains "$OUT" "would run: docker network create" "a fresh environment's network is printed, not made"
expect_contains "$ERR" "then: docker pallet serve $fresh" "release's serve follows its deploy"

# After all of it, the environment serves as before.
expect_eq "$(curl -s --max-time 5 "$(env_url "$env")")" "v1" "v1 still serves after every dry run"
expect_eq "$("$DOCKER" pallet env ls -q | grep -c "^$fresh$")" "0" "no environment was created"
