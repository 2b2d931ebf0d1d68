#!/usr/bin/env bash
# Process types with an application nobody on the team wrote: the Django project with Celery
# (Debian's python3-celery, a Redis broker, PostgreSQL), its worker and `celery beat` declared
# with io.pallet.processes. Released; a job a view enqueues completes into PostgreSQL; beat's
# periodic task runs; an upgrade under load (0 failed web requests) in which no tick runs twice
# and a job in flight finishes within the grace period; scale of the processes; a version whose
# worker cannot start (nothing changes); logs --process; stop and serve; rm leaves nothing.
source "$(dirname "$0")/lib.sh"
setup services frameworks
env="$(env_name celery)"
domain="$env.test"
report() { curl -s --max-time 10 -H "Host: $domain" "${url}jobs/"; }
# report | py EXPR: EXPR over the report `r` (jobs, ticks, runs).
py() { python3 -c "import json,sys; r=json.load(sys.stdin); print($1)"; }
processes() { "$DOCKER" pallet status "$env" --format json | py 'json.dumps(r.get("Processes"), sort_keys=True)'; }
# Waits up to $2 seconds for the report to satisfy $1; true when it did.
wait_report() {
    local i
    for i in $(seq 1 "$(( $2 * 2 ))"); do
        [ "$(report | py "$1")" == True ] && return 0
        sleep 0.5
    done
    return 1
}

pallet env create "$env" --service postgres --service redis --site-domain "$domain" \
    --health-timeout 60s --drain 1s --process-stop-timeout 20s --process-settle 4s
pallet env set "$env" TICK_SECONDS=2
pallet release "$env" pallet-test-django-celery:1
expect_eq "$CODE" "0" "release of a Django project with a Celery worker and beat"
url="$OUT"
expect_contains "$ERR" "started 1 beat, 1 worker of pallet-test-django-celery:1; they must stay up 4s" \
    "its processes start with it, and settle"
expect_eq "$(processes)" '{"beat": {"Running": 1, "Wanted": 1}, "worker": {"Running": 1, "Wanted": 1}}' \
    "status: one worker, one beat"

# A job the view enqueues, completed by the worker into PostgreSQL; beat's ticks run.
job="$(curl -s --max-time 10 -X POST -H "Host: $domain" "${url}jobs/enqueue?seconds=0.2" | py 'r["id"]')"
wait_report "any(j['id'] == $job and j['finished'] for j in r['jobs'])" 30 &&
    pass "the worker completed the job the view enqueued, into PostgreSQL" ||
    fail "the job was not completed: $(report)"
wait_report "len(r['runs']) >= 3" 30 && pass "beat's periodic task ran" || fail "no ticks ran: $(report)"

# A long job in flight when the upgrade comes: the old worker gets SIGTERM and its grace period.
long="$(curl -s --max-time 10 -X POST -H "Host: $domain" "${url}jobs/enqueue?seconds=8" | py 'r["id"]')"
wait_report "any(j['id'] == $long and j['started'] for j in r['jobs'])" 30 ||
    fail "the long job did not start"
LOAD_HOST="$domain"
upgrade_start="$(date +%s.%N)"
under_load release "$env" pallet-test-django-celery:2
upgrade_end="$(date +%s.%N)"
LOAD_HOST=""
expect_eq "$CODE" "0" "upgrade to :2"
expect_eq "$(field '["failures"]')" "0" "upgrade: 0 failed of $(field '["requests"]') web requests"
expect_contains "$ERR" "stopping the old version's processes (at most 20s each to finish their work)" \
    "the old processes stop first, with their grace period"
wait_report "len([x for x in r['runs'] if x['ran'] > $upgrade_end]) >= 2" 30 &&
    pass "the new beat and worker run ticks" || fail "no tick after the upgrade: $(report)"
verdict="$(report | python3 -c '
import json, sys
r = json.load(sys.stdin)
long_job = [j for j in r["jobs"] if j["id"] == int(sys.argv[1])][0]
ticks, runs = r["ticks"], r["runs"]
ran = {}
for x in runs:
    ran[x["task_id"]] = ran.get(x["task_id"], 0) + 1
twice = [t for t, n in ran.items() if n > 1]
unknown = [t for t in ran if t not in {x["task_id"] for x in ticks}]
# Each beat sent its ticks over an interval of time; two beats never sent in the same one.
spans = {}
for x in ticks:
    first, last = spans.get(x["beat"], (x["sent"], x["sent"]))
    spans[x["beat"]] = (min(first, x["sent"]), max(last, x["sent"]))
ordered = sorted(spans.values())
overlap = any(a[1] > b[0] for a, b in zip(ordered, ordered[1:]))
gaps = [b - a for a, b in zip(sorted(x["sent"] for x in ticks), sorted(x["sent"] for x in ticks)[1:])]
print(len(spans), len(twice), len(unknown), overlap, round(min(gaps), 2) >= 1.0,
      long_job["finished"] is not None and long_job["finished"] - long_job["started"] >= 7.5,
      round(max(gaps), 1))
' "$long")"
read -r beats twice unknown overlap spaced finished longest_gap <<<"$verdict"
expect_eq "$beats" "2" "two beats sent ticks: the old version's, then the new one's"
expect_eq "$overlap" "False" "never at the same time"
expect_eq "$twice:$unknown" "0:0" "no tick ran twice, each run is of a tick sent"
expect_eq "$spaced" "True" "no two ticks less than a second apart (the schedule is 2s)"
expect_eq "$finished" "True" "the job in flight finished within the grace period, by the old worker"
log "upgrade took $(python3 -c "print(round($upgrade_end - $upgrade_start, 1))") s; the longest gap between ticks: $longest_gap s"

# Scale the processes: counts kept by later versions.
pallet scale "$env" worker=2 beat=0
expect_eq "$CODE" "0" "scale worker=2 beat=0"
expect_eq "$(processes)" '{"beat": {"Running": 0, "Wanted": 0}, "worker": {"Running": 2, "Wanted": 2}}' \
    "status: two workers, no beat"
quiet_since="$(date +%s.%N)"; sleep 5
expect_eq "$(report | py "len([x for x in r['ticks'] if x['sent'] > $quiet_since + 1])")" "0" "no tick without a beat"
pallet scale "$env" beat=1 nosuch=2
expect_eq "$CODE" "1" "scale of a process type the image does not have: refused"
expect_contains "$ERR" "whose processes are worker, beat (io.pallet.processes); it has no process nosuch" \
    "the error names the image's processes"
pallet scale "$env" beat=1
expect_eq "$(processes)" '{"beat": {"Running": 1, "Wanted": 1}, "worker": {"Running": 2, "Wanted": 2}}' \
    "scale beat=1"

# A version whose worker cannot start: the release fails, nothing changes, the old ones run again.
LOAD_HOST="$domain"
under_load release "$env" pallet-test-django-celery:crash
LOAD_HOST=""
expect_eq "$CODE" "1" "a release whose worker exits at start fails"
expect_contains "$ERR" "the worker process of pallet-test-django-celery:crash exited" "the error names the process"
expect_contains "$ERR" "the old version serves and its processes run again" "and says nothing changed"
expect_eq "$(field '["failures"]')" "0" "no web request failed meanwhile"
expect_eq "$(processes)" '{"beat": {"Running": 1, "Wanted": 1}, "worker": {"Running": 2, "Wanted": 2}}' \
    "the old processes run again"
expect_eq "$("$DOCKER" pallet status "$env" --format json | py 'r["Serving"]')" "pallet-test-django-celery:2" \
    "the old version serves"
pallet history "$env" --format json
expect_contains "$OUT" '"Version":"pallet-test-django-celery:crash","ImageID"' "history has the failed release"
expect_contains "$OUT" '"Result":"failed: a process exited"' "as a process that exited"
expect_contains "$OUT" '"Processes":{"beat":1,"worker":1}' "and the counts each release ran with"

# Logs of a process type, each line after its replica.
pallet logs "$env" --process worker
expect_contains "$OUT" "-proc-worker-" "logs --process worker: each line after its replica's name"
expect_contains "$OUT" "celery@" "what the workers printed"

# stop stops them, serve starts them again with their counts; rm leaves nothing.
pallet stop "$env"
expect_eq "$("$DOCKER" ps -q --filter "label=io.pallet.env=$env" --filter label=io.pallet.phase=process)" "" \
    "stop: no process runs"
pallet serve "$env" pallet-test-django-celery:2
expect_eq "$CODE" "0" "serve again"
expect_eq "$(processes)" '{"beat": {"Running": 1, "Wanted": 1}, "worker": {"Running": 2, "Wanted": 2}}' \
    "with the counts it had"
pallet rm "$env" --volumes
expect_eq "$(leftovers "$env")" "" "rm --volumes leaves nothing"
