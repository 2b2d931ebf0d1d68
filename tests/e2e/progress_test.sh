#!/usr/bin/env bash
# --progress: json is one event a line (parsed here), quiet prints results and errors only,
# plain (the default off a terminal) has no escape sequences, tty in a real terminal (tmux) ends
# with one line per step and its time, and a bad PALLET_PROGRESS is a usage error.
source "$(dirname "$0")/lib.sh"
setup
e="$(env_name progress)"
pallet env create "$e" --drain 1s --health-timeout 15s
events="$(mktemp)"

# json, as the flag of docker pallet itself
"$DOCKER" pallet --progress json release "$e" pallet-conformance:v1 >"$events.out" 2>"$events"
expect_eq "$?" "0" "release with --progress json"
expect_eq "$(python3 - "$events" "$e" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
assert events, "no events"
assert all(set(("time", "state")) <= set(e) for e in events), "time and state in every event"
assert all(e.get("environment") == sys.argv[2] for e in events), "the environment in every event"
steps = [e for e in events if e["state"] == "running"]
done = {e["step"]: e["seconds"] for e in events if e["state"] == "done"}
assert len(steps) >= 4 and all(s["step"] in done for s in steps), "every step runs, then is done"
assert any("succeeded" in s["message"] for s in steps), "the deploy's result is a step"
assert not any(e["state"] == "error" for e in events), "no error"
print("ok")
PY
)" "ok" "every stderr line is a JSON event: steps running then done, with the environment"
expect_contains "$(cat "$events.out")" "http://127.0.0.1:" "stdout keeps the data: the URL"

# json, after the command, for a failing release: the error is an event too
"$DOCKER" pallet release "$e" pallet-conformance:broken-deploy --progress json >/dev/null 2>"$events"
expect_eq "$?" "3" "a broken deploy fails with its exit code"
expect_eq "$(python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1])]; print(e[-1]["state"], e[-2]["state"])' "$events")" \
    "error failed" "json: the last step failed, then the error event"
expect_contains "$(grep '"state":"note"' "$events")" "will not be served" "the deploy's failure is an event, not raw text"

# quiet: results (stdout) and errors only
PALLET_PROGRESS=quiet "$DOCKER" pallet release "$e" pallet-conformance:v2 >"$events.out" 2>"$events"
expect_eq "$?:$(cat "$events")" "0:" "PALLET_PROGRESS=quiet: nothing on stderr"
expect_contains "$(cat "$events.out")" "http://127.0.0.1:" "the result on stdout"

# plain, the default off a terminal: today's lines, no escape sequence
pallet scale "$e" 2
expect_contains "$ERR" "=> " "off a terminal: plain lines"
expect_eq "$(printf '%s' "$ERR" | grep -c $'\033')" "0" "no escape sequence in plain output"

PALLET_PROGRESS=fancy "$DOCKER" pallet status >/dev/null 2>"$events"
expect_eq "$?" "125" "PALLET_PROGRESS=fancy: usage error"
expect_contains "$(cat "$events")" 'invalid PALLET_PROGRESS "fancy"' "which says what is wrong"

# tty: in a terminal (tmux), auto draws; the screen at the end has each step once, done, with its
# time, and no spinner left
if command -v tmux >/dev/null; then
    screen="$(mktemp)"
    tmux -L "pallet-$RUN_ID" new-session -d -x 160 -y 40 \
        "DOCKER_CONFIG='$DOCKER_CONFIG' PALLET_ROUTER_IMAGE='$PALLET_ROUTER_IMAGE' NO_COLOR=1 \
         '$DOCKER' pallet release '$e' pallet-conformance:v1 2>&1; echo \"exit \$?\"; sleep 60"
    for _ in $(seq 100); do
        tmux -L "pallet-$RUN_ID" capture-pane -p >"$screen"
        grep -q '^exit ' "$screen" && break
        sleep 0.3
    done
    tmux -L "pallet-$RUN_ID" kill-server
    expect_contains "$(cat "$screen")" "exit 0" "release in a terminal"
    expect_eq "$(grep -c $'^\u2714 .* [0-9]*\\.[0-9]s$' "$screen")" "$(grep -c $'^\u2714' "$screen")" \
        "every finished step: one line, marked done, with its time"
    expect_contains "$(grep $'^\u2714' "$screen")" "serves pallet-conformance:v1" "the last step is there"
    expect_eq "$(grep -c $'[\u280b\u2819\u2839\u2838\u283c\u2834\u2826\u2827\u2807\u280f]' "$screen")" "0" "no spinner left"
    expect_eq "$(grep -c '=> ' "$screen")" "0" "not the plain lines"
    expect_eq "$(grep -c $'\033' "$screen")" "0" "NO_COLOR: no colors"
    rm -f "$screen"
fi
rm -f "$events" "$events.out"
pallet rm "$e" --volumes
