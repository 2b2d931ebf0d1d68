# One lifecycle scenario, the same expectations on one engine and on a swarm: a Django project
# nobody on the team wrote (Debian's python3-django, a named non-root user, its own migrations,
# collectstatic, notes kept in PostgreSQL and files in /storage) goes through everything a team
# does with it. Source after lib.sh, set the LC_ variables below, call lifecycle_scenario.
#   LC_ORCH       engine or swarm
#   LC_HOST       -H value of the engine addressed ("" for the default)
#   LC_CREATE     array: extra env create arguments of the environment (--orchestrator swarm ...)
#   LC_EDGE_HTTP, LC_EDGE_HTTPS  ports of 127.0.0.1 that reach those of the engine addressed
#   lc_docker ARGS...   docker against the engine addressed
#   lc_spread SERVICE_OR_ENV   prints on how many nodes the serve replicas of ENV run
# Images: pallet-test-django:1, :2, :3, :broken, pallet-test-postgres:15, pallet-conformance:v1.

# docker [-H engine] pallet ARGS..., into OUT, ERR, CODE.
lc_pallet() {
    if [ -n "$LC_HOST" ]; then run_docker -H "$LC_HOST" pallet "$@"; else run_docker pallet "$@"; fi
}
# Everything of environment $1 on the engine addressed (and its swarm): what a refusal must leave
# as it was.
lc_objects() {
    lc_docker ps -a --filter "label=io.pallet.env=$1" --format 'container {{.Names}} {{.State}}' | sort
    lc_docker network ls --filter "label=io.pallet.env=$1" --format 'network {{.Name}}' | sort
    lc_docker volume ls --filter "label=io.pallet.env=$1" --format 'volume {{.Name}}' | sort
    lc_docker service ls --filter "label=io.pallet.env=$1" --format 'service {{.Name}}' 2>/dev/null | sort
    lc_docker config ls --filter "label=io.pallet.env=$1" --format 'config {{.Name}}' 2>/dev/null | sort
}
# GET / of the Django project at $url as a browser on its domain; prints the page.
lc_page() { curl -s --max-time 10 -H "Host: $LC_DOMAIN" "$url"; }
# Sends environment $1's Redis one command ($2, inline: "SET k v") from a one-off container with
# its REDIS_URL; prints the reply.
lc_redis() {
    lc_pallet run "$1" python3 -c 'import os, socket, sys, urllib.parse
u = urllib.parse.urlparse(os.environ["REDIS_URL"])
s = socket.create_connection((u.hostname, u.port or 6379), timeout=10)
s.sendall(("SELECT %s\r\n%s\r\n" % (u.path.strip("/") or 0, sys.argv[1])).encode())
reply = b""
while reply.count(b"\r\n") < 2 or (reply.split(b"\r\n")[1][:2] not in (b"$-", b"") and reply.split(b"\r\n")[1][:1] == b"$" and reply.count(b"\r\n") < 3):
    chunk = s.recv(4096)
    if not chunk:
        break
    reply += chunk
print(reply.split(b"\r\n", 1)[1].decode().replace("\r\n", " ").strip())' "$2"
    echo "$OUT"
}
# POSTs a note as a browser does (CSRF cookie and token from the form); prints the status.
lc_post_note() {
    local headers page token cookie
    headers="$(mktemp)"
    page="$(curl -s --max-time 10 -D "$headers" -H "Host: $LC_DOMAIN" "$url")"
    token="$(echo "$page" | sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p')"
    cookie="$(sed -n 's/^Set-Cookie: csrftoken=\([^;]*\);.*/\1/p' "$headers")"; rm -f "$headers"
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $LC_DOMAIN" \
        -H "Cookie: csrftoken=$cookie" -e "https://$LC_DOMAIN/" \
        --data-urlencode "csrfmiddlewaretoken=$token" --data-urlencode "text=$1" "$url"
}
# Where the backups of environment $1 are, as docker run -v takes it on the engine addressed.
lc_backups() {
    if [ "$LC_ORCH" == swarm ]; then echo "$SWARM_SHARED/$1/backups"; else echo "pallet-$1-backups"; fi
}
# How many backups environment $1 has.
lc_backup_count() {
    lc_pallet backup ls "$1" --format json
    echo "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
lc_serving() {
    lc_pallet status "$1" --format json
    echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Serving"], d["Running"], sep=" ")'
}

lifecycle_scenario() {
    local env other tls code
    env="$(env_name "lc-$LC_ORCH")"
    other="$(env_name "lc-$LC_ORCH-next")"
    LC_DOMAIN="$env.test"
    log "lifecycle scenario on $LC_ORCH"

    log "lifecycle on $LC_ORCH: 1"
    # 1. The project requires PostgreSQL (LABEL io.pallet.services): an environment without it
    # refuses its release before anything runs, and says how to add it.
    lc_pallet env create "$env" "${LC_CREATE[@]}" --site-domain "$LC_DOMAIN" --site-protocol https \
        --health-timeout 30s --drain 1s
    expect_eq "$CODE" "0" "$LC_ORCH: env create"
    local before; before="$(lc_objects "$env")"
    lc_pallet release "$env" pallet-test-django:1
    expect_eq "$CODE" "1" "$LC_ORCH: a release lacking a required service is refused"
    expect_contains "$ERR" "requires the service postgres, which $env does not have; add it:" \
        "$LC_ORCH: the error names the service"
    expect_contains "$ERR" "env service $env add postgres" "$LC_ORCH: and the command that adds it"
    expect_eq "$(lc_objects "$env")" "$before" "$LC_ORCH: and leaves nothing behind"

    log "lifecycle on $LC_ORCH: 2"
    # 2. A provided PostgreSQL: the deploy migrates it, the replicas (on two nodes of a swarm)
    # read and write it.
    lc_pallet env service "$env" add postgres
    expect_eq "$CODE" "0" "$LC_ORCH: env service add postgres"
    lc_pallet env service "$env" add redis
    expect_eq "$CODE" "0" "$LC_ORCH: env service add redis (the backups' Redis)"
    lc_pallet release "$env" pallet-test-django:1 --replicas 2
    expect_eq "$CODE" "0" "$LC_ORCH: release of the Django project with a provided PostgreSQL"
    url="$OUT"
    expect_contains "$ERR" "Applying notes.0001_initial" "$LC_ORCH: its deploy ran the migrations"
    if [ "$LC_ORCH" == swarm ]; then
        local nodes; nodes="$(lc_spread "$env")"
        [ "$nodes" -ge 2 ] && pass "swarm: its 2 replicas run on $nodes nodes" ||
            fail "swarm: its 2 replicas run on $nodes node(s)"
    fi
    expect_contains "$(lc_page)" "secure=True" "$LC_ORCH: a page through the router, as https"
    for i in 1 2 3 4; do
        code="$(lc_post_note "note $i of $RUN_ID")"
        [ "$code" == 302 ] || break
    done
    expect_eq "$code" "302" "$LC_ORCH: four notes posted through the router (every replica takes some)"
    expect_contains "$(lc_page)" "<li>note 4 of $RUN_ID</li>" "$LC_ORCH: whichever replica answers has them"

    log "lifecycle on $LC_ORCH: 3"
    # 3. One-off commands with the environment's database and /storage: output, exit status,
    # stdin; nothing left.
    lc_pallet run "$env" python3 manage.py shell -c "from notes.models import Note; print('notes', Note.objects.count())"
    expect_eq "$CODE:$OUT" "0:notes 4" "$LC_ORCH: run reads the database"
    lc_pallet run "$env" sh -c 'ls /storage/media/notes | wc -l; exit 3'
    expect_eq "$CODE:$OUT" "3:4" "$LC_ORCH: run sees /storage, its exit status passes through"
    OUT="$(echo "from stdin" | if [ -n "$LC_HOST" ]; then "$DOCKER" -H "$LC_HOST" pallet run -i "$env" cat; else "$DOCKER" pallet run -i "$env" cat; fi 2>/dev/null)"
    expect_eq "$OUT" "from stdin" "$LC_ORCH: run -i passes stdin"
    expect_eq "$(lc_docker ps -a --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=run -q)" "" \
        "$LC_ORCH: no run container is left"

    log "lifecycle on $LC_ORCH: 3b"
    # 3b. A backup while it serves: the database in pg_dump's custom format and /storage in a tar,
    # for root alone, listed with its note from any client.
    LOAD_RUN=lc_pallet; LOAD_HOST="$LC_DOMAIN"
    under_load backup "$env" --note "four notes"
    LOAD_RUN=pallet; LOAD_HOST=""
    local backup="$OUT"
    expect_eq "$CODE:$(field '["failures"]')" "0:0" \
        "$LC_ORCH: a backup while it serves: 0 failed of $(field '["requests"]') requests"
    lc_pallet backup ls "$env" --format json
    expect_contains "$OUT" "\"ID\": \"$backup\"" "$LC_ORCH: backup ls lists it"
    expect_contains "$OUT" '"Note": "four notes"' "$LC_ORCH: with its note"
    expect_contains "$OUT" '"Version": "pallet-test-django:1"' "$LC_ORCH: and the version served then"
    local listed="$OUT" second; second="$(mktemp -d)"
    mkdir -p "$second/cli-plugins"; cp "$PALLET_BINARY" "$second/cli-plugins/docker-pallet"
    expect_eq "$(DOCKER_CONFIG="$second" "$DOCKER" ${LC_HOST:+-H "$LC_HOST"} pallet backup ls "$env" --format json 2>/dev/null)" \
        "$listed" "$LC_ORCH: a second client (a config of its own) lists the same backups"
    rm -rf "$second"
    expect_eq "$(lc_docker run --rm -v "$(lc_backups "$env"):/b:ro" --entrypoint sh pallet-test-postgres:15 -c \
        "cd /b/$backup && pg_restore --list postgres.dump | grep -c 'TABLE DATA public notes_note '; \
         tar tf storage.tar | grep -c 'media/notes/.*[.]txt'; stat -c '%a %U' /b /b/$backup /b/$backup/postgres.dump" | tr '\n' ' ')" \
        "1 4 700 root 700 root 600 root " \
        "$LC_ORCH: the notes' table with its data, the 4 files of /storage, for root alone"

    log "lifecycle on $LC_ORCH: 4"
    # 4. Under load: an upgrade, a version that cannot start, scale up and down, rollback. The
    # data stays.
    LOAD_RUN=lc_pallet; LOAD_HOST="$LC_DOMAIN"
    under_load release "$env" pallet-test-django:2
    expect_eq "$CODE" "0" "$LC_ORCH: upgrade to django:2"
    expect_eq "$(field '["failures"]')" "0" "$LC_ORCH: upgrade: 0 failed of $(field '["requests"]') requests"
    expect_eq "$(lc_serving "$env")" "pallet-test-django:2 2" "$LC_ORCH: django:2 serves, 2 replicas"
    expect_contains "$(lc_page)" "<li>note 4 of $RUN_ID</li>" "$LC_ORCH: the notes are still there"
    # It never gets healthy: it fails when the health timeout ends, 10 s here rather than 30 s.
    lc_pallet env update "$env" --health-timeout 10s
    under_load release "$env" pallet-test-django:broken
    expect_eq "$CODE" "1" "$LC_ORCH: an upgrade whose server cannot start fails"
    expect_contains "$ERR" "did not become healthy, so nothing changed for users" "$LC_ORCH: it says so"
    expect_eq "$(field '["failures"]')" "0" "$LC_ORCH: failed upgrade: 0 failed requests"
    expect_eq "$(lc_serving "$env")" "pallet-test-django:2 2" "$LC_ORCH: django:2 still serves"
    lc_pallet env update "$env" --health-timeout 30s
    under_load scale "$env" 3
    expect_eq "$CODE:$(field '["failures"]')" "0:0" "$LC_ORCH: scale to 3: 0 failed requests"
    under_load scale "$env" 1
    expect_eq "$CODE:$(field '["failures"]')" "0:0" "$LC_ORCH: scale to 1: 0 failed requests"
    expect_eq "$(lc_serving "$env")" "pallet-test-django:2 1" "$LC_ORCH: 1 replica"
    under_load rollback "$env"
    expect_eq "$CODE:$(field '["failures"]')" "0:0" "$LC_ORCH: rollback: 0 failed requests"
    expect_eq "$(lc_serving "$env")" "pallet-test-django:1 1" "$LC_ORCH: rolled back to django:1"
    expect_contains "$(lc_page)" "<li>note 1 of $RUN_ID</li>" "$LC_ORCH: with the data"
    LOAD_RUN=pallet; LOAD_HOST=""
    lc_pallet backup ls "$env" --format json
    expect_contains "$OUT" '"Why": "before deploy of pallet-test-django:2"' \
        "$LC_ORCH: the upgrade's deploy took a backup first"
    expect_contains "$OUT" '"Why": "before deploy of pallet-test-django:1"' "$LC_ORCH: and the rollback's"
    # Retention, and removal by hand.
    lc_pallet env update "$env" --keep-backups 2
    lc_pallet backup "$env" --no-storage
    local newest="$OUT"
    expect_contains "$CODE:$ERR" "0:" "$LC_ORCH: a backup without /storage"
    expect_contains "$ERR" "older one(s) removed" "$LC_ORCH: it removes the oldest beyond --keep-backups"
    expect_eq "$(lc_backup_count "$env")" "2" "$LC_ORCH: 2 backups are kept"
    lc_pallet backup rm "$env" "$newest"
    expect_eq "$CODE:$(lc_backup_count "$env")" "0:1" "$LC_ORCH: backup rm removes one"
    lc_pallet env update "$env" --keep-backups 10

    # Restore: what was written after a backup goes with its restore (database and /storage);
    # the restore of the backup it took first brings it back. A backup of a newer PostgreSQL is
    # refused, a corrupt one fails: both leave the environment serving its own data.
    expect_eq "$(lc_redis "$env" "SET cart early")" "+OK" "$LC_ORCH: a key in Redis"
    lc_pallet backup "$env" --note "before the late note"
    local snapshot="$OUT"
    expect_eq "$(lc_post_note "late note of $RUN_ID")" "302" "$LC_ORCH: a note after the backup"
    lc_pallet run "$env" sh -c 'echo late > /storage/late.txt'
    lc_redis "$env" "SET cart late" >/dev/null; lc_redis "$env" "SET later yes" >/dev/null
    lc_pallet restore "$env" "$snapshot"
    expect_eq "$CODE" "0" "$LC_ORCH: restore of the backup"
    expect_contains "$ERR" "restoring Redis" "$LC_ORCH: it restores Redis too"
    expect_eq "$(lc_redis "$env" "GET cart"):$(lc_redis "$env" "EXISTS later")" '$5 early::0' \
        "$LC_ORCH: Redis holds what it held at the backup, and no key written after it"
    expect_eq "$(lc_redis "$env" "SET writable yes")" "+OK" "$LC_ORCH: and takes writes again (no replica)"
    local undo; undo="$(echo "$ERR" | sed -n 's/.*what it replaced is the backup \([0-9a-f-]*\).*/\1/p' | tail -1)"
    expect_contains "$ERR" "undo: docker" "$LC_ORCH: it says how to undo it"
    expect_not_contains "$(lc_page)" "late note of $RUN_ID" "$LC_ORCH: the note written after it is gone"
    expect_contains "$(lc_page)" "<li>note 1 of $RUN_ID</li>" "$LC_ORCH: the notes before it are there"
    lc_pallet run "$env" sh -c 'ls /storage; ls /storage/media/notes | wc -l'
    expect_not_contains "$OUT" "late.txt" "$LC_ORCH: /storage is as it was"
    expect_contains "$OUT" "media" "$LC_ORCH: with its files"
    lc_pallet restore "$env" "$undo"
    expect_eq "$CODE" "0" "$LC_ORCH: restore of the backup it took first"
    expect_contains "$(lc_page)" "late note of $RUN_ID" "$LC_ORCH: the late note is back"
    expect_eq "$(lc_redis "$env" "GET cart")" '$4 late' "$LC_ORCH: and Redis as it was before the restore"
    lc_pallet run "$env" cat /storage/late.txt
    expect_eq "$OUT" "late" "$LC_ORCH: and its file"
    local edit=(lc_docker run --rm -v "$(lc_backups "$env"):/b" --entrypoint sh pallet-test-postgres:15 -c)
    "${edit[@]}" "echo 990000 > /b/$snapshot/postgres.version"
    lc_pallet restore "$env" "$snapshot"
    expect_eq "$CODE" "1" "$LC_ORCH: a backup of a newer PostgreSQL major version is refused"
    expect_contains "$ERR" "an older major version cannot take it" "$LC_ORCH: the error says why"
    "${edit[@]}" "echo 150000 > /b/$snapshot/postgres.version; head -c 2000 /b/$snapshot/postgres.dump > /tmp/d; cat /tmp/d > /b/$snapshot/postgres.dump"
    local backups; backups="$(lc_backup_count "$env")"
    lc_pallet restore "$env" "$snapshot"
    expect_eq "$CODE" "1" "$LC_ORCH: the restore of a corrupt backup fails"
    expect_contains "$ERR" "the restore of PostgreSQL failed" "$LC_ORCH: it says what failed"
    expect_eq "$(lc_backup_count "$env")" "$backups" \
        "$LC_ORCH: and keeps no backup of what it did not replace"
    local server; server="$(lc_docker ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.service=postgres | head -1)"
    expect_eq "$(lc_docker exec "$server" psql -U pallet -d postgres -Atc \
        "SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_restore\\_%'" 2>&1)" "0" \
        "$LC_ORCH: nor the database it restored into"
    expect_contains "$(lc_page)" "late note of $RUN_ID" "$LC_ORCH: and the environment serves its own data"
    lc_pallet status "$env" --format json
    expect_contains "$OUT" '"Maintenance":false' "$LC_ORCH: out of maintenance"
    lc_pallet history "$env" --format json
    expect_contains "$OUT" '"Version":"pallet-test-django:broken","ImageID"' "$LC_ORCH: history has the failed upgrade"
    expect_contains "$OUT" '"Result":"failed health check"' "$LC_ORCH: as a failed health check"

    log "lifecycle on $LC_ORCH: 4b"
    # 4b. A migration that drops a column with data in it (django:3 drops Note.created), undone
    # by rollback --data: never without a yes; the old version back with the column and its
    # data; the restore of the backup it took first brings the dropped state back again.
    local pg=(python3 manage.py shell -c)
    local columns="from django.db import connection as c; print(*sorted(d.name for d in c.introspection.get_table_description(c.cursor(), 'notes_note')))"
    lc_pallet run "$env" "${pg[@]}" "from notes.models import Note; print(Note.objects.order_by('pk').first().created.isoformat())"
    local created="$OUT"
    lc_pallet release "$env" pallet-test-django:3
    expect_eq "$CODE" "0" "$LC_ORCH: release of django:3, whose migration drops a column"
    expect_contains "$ERR" "Applying notes.0002_remove_note_created" "$LC_ORCH: its deploy dropped it"
    lc_pallet run "$env" "${pg[@]}" "$columns"
    expect_eq "$OUT" "id text" "$LC_ORCH: the column and its data are gone"
    expect_eq "$(lc_post_note "v3 note of $RUN_ID")" "302" "$LC_ORCH: a note written on django:3"
    lc_pallet rollback "$env" --data </dev/null
    expect_eq "$CODE" "125" "$LC_ORCH: rollback --data with no terminal to ask is refused"
    expect_contains "$ERR" "confirm with --yes" "$LC_ORCH: it says to confirm with --yes"
    expect_contains "$ERR" "since" "$LC_ORCH: after saying what would be lost"
    expect_eq "$(lc_serving "$env")" "pallet-test-django:3 1" "$LC_ORCH: and nothing changed"
    lc_pallet rollback "$env" --yes
    expect_eq "$CODE" "125" "$LC_ORCH: --yes without --data is refused"
    lc_pallet rollback "$env" --data --yes
    expect_eq "$CODE" "0" "$LC_ORCH: rollback --data --yes"
    expect_contains "$ERR" "taken before the deploy of pallet-test-django:3" "$LC_ORCH: it names the backup"
    expect_contains "$ERR" "is lost" "$LC_ORCH: and what is lost"
    local undo_data; undo_data="$(echo "$ERR" | sed -n 's/.*undo the data: docker .*restore [^ ]* \([0-9a-f-]*\)).*/\1/p' | tail -1)"
    expect_eq "$(lc_serving "$env")" "pallet-test-django:1 1" "$LC_ORCH: django:1 serves again"
    lc_pallet run "$env" "${pg[@]}" "$columns"
    expect_eq "$OUT" "created id text" "$LC_ORCH: with the dropped column"
    lc_pallet run "$env" "${pg[@]}" "from notes.models import Note; print(Note.objects.order_by('pk').first().created.isoformat(), Note.objects.filter(created__isnull=True).count())"
    expect_eq "$OUT" "$created 0" "$LC_ORCH: and its data"
    expect_not_contains "$(lc_page)" "v3 note of $RUN_ID" "$LC_ORCH: what django:3 wrote is gone"
    expect_contains "$(lc_page)" "late note of $RUN_ID" "$LC_ORCH: what was written before it is there"
    lc_pallet status "$env" --format json
    expect_contains "$OUT" '"Maintenance":false' "$LC_ORCH: out of maintenance after the rollback"
    lc_pallet restore "$env" "$undo_data"
    expect_eq "$CODE:$undo_data" "0:${undo_data:-?}" "$LC_ORCH: restore of the backup the rollback took first"
    lc_pallet run "$env" "${pg[@]}" "$columns"
    expect_eq "$OUT" "id text" "$LC_ORCH: the dropped state is back"
    lc_pallet run "$env" "${pg[@]}" "from notes.models import Note; print(Note.objects.filter(text='v3 note of $RUN_ID').exists())"
    expect_eq "$OUT" "True" "$LC_ORCH: with the note written on django:3"
    # The rest of the scenario on django:1's schema again.
    lc_pallet backup ls "$env" --format json
    local before_v3; before_v3="$(echo "$OUT" | python3 -c 'import json,sys; print(next(b["ID"] for b in json.load(sys.stdin) if b["Why"] == "before deploy of pallet-test-django:3"))')"
    lc_pallet restore "$env" "$before_v3"
    expect_contains "$CODE:$(lc_page)" "0:" "$LC_ORCH: restore of the backup of before django:3"
    expect_contains "$(lc_page)" "late note of $RUN_ID" "$LC_ORCH: django:1 serves its data"

    log "lifecycle on $LC_ORCH: 4c"
    # 4c. Export and import: production's data in a staging copy (another environment), a file
    # off the engine; an archive that is no backup is refused and leaves nothing.
    local copy="$env-copy" archive copy_create=()
    [ "$LC_ORCH" == swarm ] && copy_create=(--orchestrator swarm --shared-path "$SWARM_SHARED" --port none)
    archive="$(mktemp -d)"
    lc_pallet backup "$env" --note "for staging"
    local exported="$OUT"
    if [ -n "$LC_HOST" ]; then "$DOCKER" -H "$LC_HOST" pallet backup export "$env" "$exported"; else "$DOCKER" pallet backup export "$env" "$exported"; fi >"$archive/prod.tar" 2>"$archive/err"
    expect_eq "$?:$(tar tf "$archive/prod.tar" | grep -c "^$exported/meta.json$")" "0:1" "$LC_ORCH: backup export writes the backup as a tar"
    expect_contains "$(cat "$archive/err")" "exported the backup $exported" "$LC_ORCH: and says so on stderr"
    lc_pallet env create "$copy" "${copy_create[@]}" --site-domain "$copy.test" --health-timeout 30s
    lc_pallet env service "$copy" add postgres
    lc_pallet env service "$copy" add redis
    lc_pallet release "$copy" pallet-test-django:1
    expect_eq "$CODE" "0" "$LC_ORCH: a staging copy with a PostgreSQL of its own"
    lc_pallet restore "$copy" --from "$archive/prod.tar"
    expect_eq "$CODE" "0" "$LC_ORCH: restore --from the exported file"
    expect_contains "$ERR" "imported from $env's backup $exported" "$LC_ORCH: imported as a backup that says where it came from"
    lc_pallet run "$copy" "${pg[@]}" "from notes.models import Note; print(Note.objects.filter(text='late note of $RUN_ID').exists())"
    expect_eq "$OUT" "True" "$LC_ORCH: the copy has production's notes"
    lc_pallet run "$copy" cat /storage/late.txt
    expect_eq "$OUT" "late" "$LC_ORCH: and its /storage"
    expect_eq "$(lc_redis "$copy" "GET cart")" '$4 late' "$LC_ORCH: and its Redis"
    local copies; copies="$(lc_backup_count "$copy")"
    printf 'not a tar archive' >"$archive/junk.tar"
    mkdir -p "$archive/odd/20261201-000000-abcd"
    echo '{}' >"$archive/odd/20261201-000000-abcd/meta.json"; echo 'echo hi' >"$archive/odd/20261201-000000-abcd/run.sh"
    tar -C "$archive/odd" -cf "$archive/odd.tar" 20261201-000000-abcd
    lc_pallet restore "$copy" --from - <"$archive/junk.tar"
    expect_contains "$CODE:$ERR" "1:" "$LC_ORCH: what is no archive is refused, from stdin too"
    expect_contains "$ERR" "stdin is not an archive of docker pallet backup export: it is not a tar archive" "$LC_ORCH: it says why"
    lc_pallet restore "$copy" --from "$archive/odd.tar"
    expect_contains "$ERR" "it holds 20261201-000000-abcd/run.sh, which no backup does" "$LC_ORCH: an archive with a file no backup holds is refused"
    expect_eq "$(lc_backup_count "$copy")" "$copies" "$LC_ORCH: neither left a backup"
    lc_pallet run "$copy" "${pg[@]}" "from notes.models import Note; print(Note.objects.filter(text='late note of $RUN_ID').exists())"
    expect_eq "$OUT" "True" "$LC_ORCH: and the copy's data is as it was"
    lc_pallet rm "$copy" --volumes
    expect_eq "$CODE" "0" "$LC_ORCH: the copy goes"
    rm -rf "$archive"

    log "lifecycle on $LC_ORCH: 5"
    # 5. The edge of the engine addressed: this environment by its domain over HTTP (redirected)
    # and HTTPS with the user's certificate, next to an environment of that engine (and, on a
    # swarm, one reached through the edge alone); an upgrade under load through it.
    tls="$(mktemp -d)"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 2 \
        -subj "/CN=pallet test CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$tls/site.key" -out "$tls/site.csr" -subj "/CN=$LC_DOMAIN" 2>/dev/null
    printf 'subjectAltName=DNS:%s\n' "$LC_DOMAIN" >"$tls/site.ext"
    openssl x509 -req -in "$tls/site.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 1 \
        -extfile "$tls/site.ext" -out "$tls/site.pem" 2>/dev/null
    lc_pallet env update "$env" --tls-cert "$tls/site.pem" --tls-key "$tls/site.key" --hsts
    expect_eq "$CODE" "0" "$LC_ORCH: HTTPS at the edge with the user's certificate"
    lc_pallet env create "$other" --site-domain "$other.test" --health-timeout 20s
    lc_pallet release "$other" pallet-conformance:v1
    expect_eq "$CODE" "0" "$LC_ORCH: an environment of the engine next to it"
    local acme_before; acme_before="$(lc_docker volume ls -q --filter name=^pallet-acme$)"
    lc_pallet edge up --http "$LC_EDGE_HTTP" --https "$LC_EDGE_HTTPS"
    expect_eq "$CODE" "0" "$LC_ORCH: edge up"
    expect_eq "$(curl -s --max-time 10 -H "Host: $other.test" "http://127.0.0.1:$LC_EDGE_HTTP/")" "v1" \
        "$LC_ORCH: the engine environment by its domain"
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $LC_DOMAIN" "http://127.0.0.1:$LC_EDGE_HTTP/")" \
        "308" "$LC_ORCH: HTTP to the https site redirects"
    local https=(--max-time 10 --cacert "$tls/ca.pem" --resolve "$LC_DOMAIN:$LC_EDGE_HTTPS:127.0.0.1")
    expect_contains "$(curl -s "${https[@]}" "https://$LC_DOMAIN:$LC_EDGE_HTTPS/")" "<li>note 1 of $RUN_ID</li>" \
        "$LC_ORCH: HTTPS to the site by its domain, verified"
    expect_contains "$(curl -s -D - -o /dev/null "${https[@]}" "https://$LC_DOMAIN:$LC_EDGE_HTTPS/" | tr 'A-Z' 'a-z')" \
        "strict-transport-security: max-age=31536000" "$LC_ORCH: with HSTS"
    # Maintenance: 503, Retry-After and the page through its router and through the edge; its
    # static files still load; off, the site is back.
    lc_pallet maintenance "$env" on --message "Back <soon> & \$HOME"
    expect_eq "$CODE" "0" "$LC_ORCH: maintenance on"
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "${https[@]}" "https://$LC_DOMAIN:$LC_EDGE_HTTPS/")" "503" \
        "$LC_ORCH: maintenance: 503 through the edge"
    local answer; answer="$(curl -s -i --max-time 10 -H "Host: $LC_DOMAIN" "$url" | tr -d '\r')"
    expect_contains "$answer" "HTTP/1.1 503" "$LC_ORCH: maintenance: 503 through its router"
    expect_contains "$answer" "Retry-After: 120" "$LC_ORCH: with Retry-After"
    expect_contains "$answer" "Back &#60;soon&#62; &#38; &#36;HOME" "$LC_ORCH: and the message, as text"
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${url}static/admin/css/base.css")" "200" \
        "$LC_ORCH: maintenance: /static/ still answers"
    lc_pallet status "$env" --format json
    expect_contains "$OUT" '"Maintenance":true' "$LC_ORCH: status says maintenance"
    lc_pallet maintenance "$env" off
    expect_eq "$CODE" "0" "$LC_ORCH: maintenance off"
    expect_contains "$(lc_page)" "<title>Notes</title>" "$LC_ORCH: the site is back"

    log "lifecycle on $LC_ORCH: 5b"
    # 5b. A preview of the site, as CI makes one per merge request: a copy with its data and a
    # time to live, reached through the edge by its own domain; env prune removes it once the TTL
    # has passed, while the site it copies keeps serving.
    local pr="$env-pr" edge_http="http://127.0.0.1:$LC_EDGE_HTTP/" site_url="$url" e
    pr_page() { curl -s --max-time 10 -H "Host: $pr.test" "$edge_http"; }
    lc_pallet env create "$pr" --from "$env" --data --site-domain "$pr.test" --port none
    expect_eq "$CODE" "1" "$LC_ORCH: a copy whose domain its source's certificate does not name is refused"
    expect_contains "$ERR" "the certificate of $env: give the copy its own" "$LC_ORCH: the error says what to do"
    expect_eq "$(lc_objects "$pr")" "" "$LC_ORCH: and nothing of it is made"
    lc_pallet env create "$pr" --from "$env" --data --ttl 15s --site-domain "$pr.test" --site-protocol http \
        --tls none --port none
    expect_eq "$CODE" "0" "$LC_ORCH: env create --from --data --ttl: a preview"
    expect_contains "$ERR" "restored the backup" "$LC_ORCH: with the data of $env's newest backup"
    lc_pallet release "$pr" pallet-test-django:1
    expect_eq "$CODE" "0" "$LC_ORCH: release of the preview"
    local released=$SECONDS
    lc_pallet env prune
    expect_eq "$CODE" "0" "$LC_ORCH: env prune before the TTL passed"
    expect_contains "$ERR" "no environment has expired" "$LC_ORCH: says none has expired"
    expect_contains "$(pr_page)" "late note of $RUN_ID" "$LC_ORCH: removes nothing"
    expect_contains "$(pr_page)" "late note of $RUN_ID" "$LC_ORCH: the preview serves the copied notes, through the edge"
    lc_pallet run "$pr" cat /storage/late.txt
    expect_eq "$OUT" "late" "$LC_ORCH: and the copied /storage"
    expect_eq "$(lc_redis "$pr" "GET cart")" "$(lc_redis "$env" "GET cart")" "$LC_ORCH: and the copied Redis"
    local variables=()
    for e in "$env" "$pr"; do
        lc_pallet env show "$e" --format json --reveal
        variables+=("$(echo "$OUT" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["Variables"], sort_keys=True))')")
    done
    expect_eq "${variables[1]}" "${variables[0]}" "$LC_ORCH: its variables, with their values, are $env's"
    expect_eq "$(LC_DOMAIN="$pr.test" url="$edge_http" lc_post_note "preview note of $RUN_ID")" "302" \
        "$LC_ORCH: a note written on the preview"
    expect_contains "$(pr_page)" "preview note of $RUN_ID" "$LC_ORCH: the preview has it"
    expect_not_contains "$(lc_page)" "preview note of $RUN_ID" "$LC_ORCH: $env does not: a database of its own"
    lc_pallet env ls
    expect_contains "$(echo "$OUT" | grep "^$pr ")" " in " "$LC_ORCH: env ls says when the preview expires"
    local wait=$((released + 16 - SECONDS))
    [ "$wait" -gt 0 ] && sleep "$wait"  # its TTL, from the release
    url="https://127.0.0.1:$LC_EDGE_HTTPS/"; LOAD_HOST="$LC_DOMAIN"; LOAD_CACERT="$tls/ca.pem"; LOAD_RUN=lc_pallet
    under_load env prune
    expect_eq "$CODE:$(field '["failures"]')" "0:0" "$LC_ORCH: env prune after the TTL: 0 failed requests to $env of $(field '["requests"]')"
    expect_contains "$ERR" "removing $pr, with its volumes and backups" "$LC_ORCH: it names what it removes"
    expect_eq "$(lc_objects "$pr")" "" "$LC_ORCH: nothing of the preview is left: containers, volumes, backups, network"
    [ "$LC_ORCH" == swarm ] && expect_eq "$(ls -A "$SWARM_SHARED/$pr" 2>&1 | head -1)" \
        "ls: cannot access '$SWARM_SHARED/$pr': No such file or directory" "swarm: nor its shared directory"
    expect_not_contains "$(pr_page)" "<title>Notes</title>" "$LC_ORCH: nor its domain at the edge"
    expect_contains "$(curl -s "${https[@]}" "https://$LC_DOMAIN:$LC_EDGE_HTTPS/")" "late note of $RUN_ID" "$LC_ORCH: $env serves on"
    LOAD_RUN=pallet; LOAD_HOST=""; LOAD_CACERT=""; url="$site_url"
    url="https://127.0.0.1:$LC_EDGE_HTTPS/"; LOAD_HOST="$LC_DOMAIN"; LOAD_CACERT="$tls/ca.pem"; LOAD_RUN=lc_pallet
    under_load release "$env" pallet-test-django:2
    expect_eq "$CODE:$(field '["failures"]')" "0:0" "$LC_ORCH: upgrade behind the edge over HTTPS: 0 failed of $(field '["requests"]')"
    LOAD_RUN=pallet; LOAD_HOST=""; LOAD_CACERT=""
    if [ "$LC_ORCH" == swarm ]; then
        local edge_only="$env-edge"
        lc_pallet env create "$edge_only" --orchestrator swarm --shared-path "$SWARM_SHARED" --port none \
            --site-domain "$edge_only.test" --health-timeout 20s
        expect_eq "$CODE" "0" "swarm: an environment with --port none"
        lc_pallet release "$edge_only" pallet-conformance:v2
        expect_eq "$CODE" "0" "swarm: its release"
        lc_pallet edge up
        expect_eq "$(curl -s --max-time 10 -H "Host: $edge_only.test" "http://127.0.0.1:$LC_EDGE_HTTP/")" "v2" \
            "swarm: the edge reaches it on the port docker chose"
        lc_pallet rm "$edge_only" --volumes
    fi
    lc_pallet edge down
    # edge down keeps the ACME volume for the next edge: the scenario removes the one it made.
    if [ -z "$acme_before" ]; then
        lc_docker volume rm pallet-acme >/dev/null 2>&1
        expect_eq "$(lc_docker volume ls -q --filter name=^pallet-acme$)" "" "$LC_ORCH: no ACME volume of the edge is left"
    fi
    rm -rf "$tls"

    log "lifecycle on $LC_ORCH: 6"
    # 6. Everything goes with rm --volumes.
    lc_pallet rm "$other" --volumes
    lc_pallet rm "$env" --volumes
    expect_eq "$CODE" "0" "$LC_ORCH: rm --volumes"
    local left=""
    for _ in $(seq 1 20); do
        left="$(lc_objects "$env"; lc_objects "$other"; lc_objects "$env-copy")"
        [ -z "$left" ] && break
        sleep 1
    done
    expect_eq "$left" "" "$LC_ORCH: nothing of either environment is left"
}
