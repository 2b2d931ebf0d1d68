#!/usr/bin/env bash
# Images that run as a non-root user without /storage or /static write both in every phase;
# `docker pallet run` (exit status, variables, services, stdin, a terminal, Ctrl-C, bad input,
# nothing left behind); a router image that cannot be used is refused before anything changes.
source "$(dirname "$0")/lib.sh"
setup nonroot services frameworks

# run's containers of an environment, running or not.
run_containers() { "$DOCKER" ps -aq --filter "label=io.pallet.env=$1" --filter label=io.pallet.phase=run; }

# --- Non-root images, numeric and named user, in test, deploy, serve, scale and run ----------
for flavour in numeric:1000 named:2345 own-dirs:1000; do
    tag="${flavour%%:*}"; uid="${flavour#*:}"; image="pallet-test-nonroot:$tag"
    pallet test "$image"
    expect_eq "$CODE" "0" "$tag: test passes"
    expect_contains "$OUT" "/storage: writable by uid $uid in test" "$tag: test writes /storage"
    expect_contains "$OUT" "/static: writable by uid $uid in test" "$tag: test writes /static"
    env="$(env_name "nonroot-$tag")"
    pallet release "$env" "$image"
    expect_eq "$CODE" "0" "$tag: release (deploy and serve write both)"
    expect_eq "$(curl -s --max-time 5 "$OUT")" "ok uid $uid" "$tag: serves"
    pallet scale "$env" 2
    expect_eq "$CODE" "0" "$tag: scale adds containers that can write too"
    pallet run "$env" sh -c 'cat /storage/deploy-* && echo more >> /storage/deploy-* && ls /storage /static | grep -c "^serve-"'
    expect_eq "$CODE" "0" "$tag: run writes both"
    expect_contains "$OUT" "written by $uid in deploy" "$tag: run reads what deploy wrote"
    expect_contains "$OUT" "/storage: writable by uid $uid in sh" "$tag: run itself writes /storage"
    expect_eq "$(echo "$OUT" | tail -1)" "4" "$tag: both serve containers wrote /storage and /static"
    mode="$("$DOCKER" run --rm -v "pallet-$env-storage:/s" --entrypoint stat pallet-test-busybox:1 -c '%a %u' /s)"
    expect_eq "$mode" "755 $uid" "$tag: /storage belongs to the image's user and is not world-writable"
done

# --- run -----------------------------------------------------------------------------------
env="$(env_name run)"
pallet env create "$env" --service postgres
pallet env set "$env" GREETING=hello WEB_CONCURRENCY=3
pallet run "$env" ls
expect_eq "$CODE" "1" "run in an environment that serves nothing and has no deploy fails"
expect_contains "$ERR" "name one: docker pallet run --image IMAGE $env ls" "and says what to do"
expect_eq "$(echo "$ERR" | grep -c 'docker-pallet: error')" "1" "in one error line"
pallet release "$env" pallet-test-nonroot:numeric
pallet run "$env" sh -c 'echo "$GREETING $WEB_CONCURRENCY $ENVIRONMENT"; exit 3'
expect_eq "$CODE" "3" "run passes the command's exit status through"
expect_contains "$OUT" "hello 3 dev" "run gets the environment's variables, as serve does"
pallet run --image pallet-test-django:1 "$env" python3 -c \
    'import os, psycopg2; c = psycopg2.connect(os.environ["DB_DEFAULT_URL"]).cursor(); c.execute("select current_user"); print("db user", c.fetchone()[0])'
expect_eq "$CODE" "0" "run --image with another image"
expect_contains "$OUT" "db user ${env//-/_}" "run reaches the environment's PostgreSQL as its role"
expect_eq "$(echo piped | "$DOCKER" pallet run -i "$env" cat 2>/dev/null | tail -1)" "piped" "run -i passes stdin"
if command -v script >/dev/null; then
    tty_out="$(printf 'echo in-a-tty-$((6 * 7)); tty; exit 5\n' |
        script -qec "$DOCKER pallet run -it $env sh" /dev/null 2>&1)"; tty_code=$?
    expect_contains "$tty_out" "in-a-tty-42" "run -it gives an interactive shell on a terminal"
    expect_contains "$tty_out" "/dev/pts/" "with a terminal inside"
    expect_eq "$tty_code" "5" "run -it passes the shell's exit status through"
fi
expect_eq "$(run_containers "$env" | wc -l)" "0" "run leaves no container behind"
pallet run --image pallet-test-django:1 "$env" sh -c 'echo printed; exit 0'
expect_eq "$OUT" "printed" "run's stdout is the command's alone"

# Ctrl-C: the command stops, the plugin exits 130, nothing is left.
"$DOCKER" pallet run "$env" sh -c 'trap "exit 9" TERM; sleep 60 & wait' >/dev/null 2>&1 & pid=$!
E2E_PIDS+=("$pid")
for _ in $(seq 1 100); do [ -n "$(run_containers "$env")" ] && break; sleep 0.1; done
kill -INT "$pid"
if wait_gone "$pid" 10; then pass "Ctrl-C ends run within 10 s"; else fail "run still going 10 s after Ctrl-C"; fi
wait "$pid"; expect_eq "$?" "130" "run exits 130 after Ctrl-C"
for _ in $(seq 1 30); do [ -z "$(run_containers "$env")" ] && break; sleep 0.2; done
expect_eq "$(run_containers "$env" | wc -l)" "0" "Ctrl-C leaves no container"

# run --test: a test run's environment instead.
pallet run --test -e X=1 --service postgres pallet-test-nonroot:numeric sh -c 'echo "X=$X ${DB_DEFAULT_URL%%:*}"'
expect_eq "$CODE" "0" "run --test"
expect_contains "$OUT" "X=1 postgres" "run --test gets -e and a test run's services"
expect_eq "$(test_run_leftovers | wc -l)" "0" "run --test leaves nothing"

# Bad input: one clear line, status 125 for usage, nothing left.
pallet run "$(env_name nosuch)" ls
expect_eq "$CODE" "1" "run with an unknown environment fails"
expect_contains "$ERR" "no environment named $(env_name nosuch)" "and names it"
pallet run "$env" no-such-command --flag
expect_eq "$CODE" "127" "a command that does not exist: exit 127"
expect_contains "$ERR" "no-such-command --flag could not run in pallet-test-nonroot:numeric (exit 127: not found)" \
    "a command that does not exist is explained"
pallet run "$env"
expect_eq "$CODE:$(echo "$ERR" | head -1)" "125:docker-pallet: run needs a COMMAND to run" "run without a command"
pallet run "$env" -e X=1 ls
expect_eq "$CODE" "125" "-e without --test is a usage error"
expect_contains "$ERR" "add --test" "and says why"
pallet run -t "$env" ls </dev/null
expect_eq "$CODE" "125" "-t without a terminal is a usage error"
expect_eq "$(run_containers "$env" | wc -l)" "0" "bad input leaves no container"

# --- A router image the plugin cannot use: refused before any serve container starts -------
bad="$(env_name badrouter)"
"$DOCKER" pallet deploy "$bad" pallet-conformance:v1 >/dev/null 2>&1
PALLET_ROUTER_IMAGE=pallet-test-busybox:1 pallet serve "$bad" pallet-conformance:v1
expect_eq "$CODE" "1" "serve with a router image without nginx fails"
expect_contains "$ERR" "the router image pallet-test-busybox:1 cannot be used" "and says which image"
expect_contains "$ERR" "has no nginx" "and what it lacks"
expect_eq "$("$DOCKER" ps -aq --filter "label=io.pallet.env=$bad" --filter label=io.pallet.phase=serve | wc -l)" "0" \
    "no serve container was started"
expect_eq "$("$DOCKER" ps -aq --filter "label=io.pallet.env=$bad" --filter label=io.pallet.phase=router | wc -l)" "0" \
    "no router is left"
expect_eq "$("$DOCKER" volume ls -q --filter name="pallet-$bad-router" | wc -l)" "0" "nor its configuration volume"
