#!/usr/bin/env bash
# The CLI-plugin protocol through the real docker CLI: discovery, metadata, help, global flags,
# exit codes, usage errors, both docker clients, bad input.
source "$(dirname "$0")/lib.sh"
setup

# Discovery.
help_text="$("$DOCKER" --help 2>&1)"
expect_contains "$help_text" "pallet*" "docker --help lists the plugin"
expect_not_contains "$help_text" "Invalid Plugins" "no invalid plugins"
info_text="$("$DOCKER" info 2>&1)"
expect_contains "$info_text" "pallet: Test, deploy and serve Pallet applications" "docker info lists it"
expect_not_contains "$info_text" "WARNING: Plugin" "docker info has no plugin warning"

# Metadata: one JSON object, nothing else.
meta="$("$PALLET_BINARY" docker-cli-plugin-metadata)"
expect_eq "$(echo "$meta" | wc -l)" "1" "metadata is one line"
expect_eq "$(echo "$meta" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["SchemaVersion"], bool(d["Vendor"]), "Experimental" in d)')" \
    "0.1.0 True False" "metadata fields"

# Help: four spellings, same text, stdout, exit 0, docker's shape.
pallet --help; h1="$OUT"; c1=$CODE
h2="$("$DOCKER" help pallet)"; c2=$?
h3="$("$DOCKER" --help pallet)"; c3=$?
expect_eq "$c1$c2$c3" "000" "help exits 0"
expect_eq "$h2" "$h1" "docker help pallet = docker pallet --help"
expect_eq "$h3" "$h1" "docker --help pallet = docker pallet --help"
expect_eq "${h1%%$'\n'*}" "Usage:  docker pallet COMMAND [OPTIONS]" "help starts with Usage"
for cmd in test deploy serve release status history logs stop rm version "env create" "env ls"; do
    pallet $cmd --help; a="$OUT"
    b="$("$DOCKER" help pallet $cmd)"
    c="$("$DOCKER" --help pallet $cmd)"
    if [ "$a" == "$b" ] && [ "$a" == "$c" ] && [[ "$a" == "Usage:  docker pallet $cmd"* ]]; then
        pass "help of $cmd in three spellings"
    else
        fail "help of $cmd differs or is misshaped: $a"
    fi
done

# Version.
pallet version --format json
expect_contains "$OUT" '"Version":' "version --format json"

# Usage errors: one line, a hint, exit 125.
pallet deploy onlyone
expect_eq "$CODE" "125" "missing argument exits 125"
expect_contains "$ERR" "See 'docker pallet deploy --help'." "usage error hints at --help"
pallet frobnicate
expect_eq "$CODE" "125" "unknown command exits 125"
expect_contains "$ERR" 'unknown command "frobnicate"' "unknown command named"
pallet status --bogus
expect_eq "$CODE" "125" "unknown flag exits 125"
expect_contains "$ERR" "unknown flag: --bogus" "unknown flag named"
pallet deploy Bad_Name pallet-conformance:v1
expect_eq "$CODE" "125" "invalid environment name exits 125"
expect_contains "$ERR" 'invalid environment name "Bad_Name"' "invalid name explained"

# Global flags reach the engine the plugin talks to.
for flags in "--context default" "-H unix:///var/run/docker.sock" "--config $E2E_CONFIG"; do
    # shellcheck disable=SC2086
    out="$("$DOCKER" $flags pallet status 2>&1)"; code=$?
    expect_eq "$code" "0" "status with $flags"
done
out="$("$DOCKER" -H unix:///nonexistent/docker.sock pallet status 2>&1)"; code=$?
expect_eq "$code" "1" "-H to a dead socket fails"
expect_contains "$out" "cannot reach the Docker engine" "-H was passed on to docker"
expect_contains "$out" "nonexistent/docker.sock" "docker's own words are kept"
out="$("$DOCKER" -D pallet status 2>&1 >/dev/null)"
expect_contains "$out" "docker-pallet: debug: docker -D container ls" "-D logs docker commands with the global flag"
out="$("$DOCKER" --context no-such-context pallet status 2>&1)"; code=$?
expect_eq "$code" "1" "unknown --context fails"
expect_contains "$out" "no-such-context" "the context is named"

# Exit codes pass through docker unchanged.
pallet test pallet-conformance:v1 -e TEST_EXIT=42
expect_eq "$CODE" "42" "test exit code passes through docker"

# Debian's older client (no plugin socket) finds and runs the plugin too.
if [ -x /usr/bin/docker ]; then
    out="$(/usr/bin/docker pallet version 2>&1)"
    expect_contains "$out" "docker-pallet version" "docker 20.10 client runs the plugin"
    out="$(/usr/bin/docker pallet test pallet-conformance:v1 -e TEST_EXIT=3 2>&1)"; code=$?
    expect_eq "$code" "3" "exit code through the 20.10 client"
fi

# Hooks and completion.
out="$("$PALLET_BINARY" pallet docker-cli-plugin-hooks '{}')"; code=$?
expect_eq "$code:$out" "0:" "hooks exit 0 quietly"
out="$("$DOCKER" __complete pallet de 2>/dev/null)"
expect_eq "$out" "$(printf 'deploy\tRun a version'"'"'s deploy command (migrations)\n:4')" "completion offers deploy, described"
expect_contains "$("$DOCKER" __complete pallet "" 2>/dev/null)" "edge"$'\t' "every command of the tree, edge included"
expect_eq "$("$DOCKER" __complete pallet status --format "" 2>/dev/null)" "$(printf 'table\njson\n:4')" "a flag's choices"
expect_eq "$("$DOCKER" __complete pallet env update x --tls-cert "" 2>/dev/null)" ":0" "a file flag: the shell completes files"
completed="$(env_name completed)"
pallet env create "$completed"
expect_eq "$("$DOCKER" __complete pallet env show "$RUN_ID-com" 2>/dev/null)" "$(printf '%s\n:4' "$completed")" \
    "ENV: environments on the engine"
expect_contains "$("$DOCKER" __complete pallet release "$completed" pallet-conformance:v 2>/dev/null)" \
    "pallet-conformance:v1"$'\n' "IMAGE: local images"
expect_contains "$("$DOCKER" __complete pallet env create x --service po 2>/dev/null)" "postgres" "--service: service kinds"
# Read from the engine's socket (no docker process): the same tags as docker image ls, untagged
# ones left out, and nothing when no engine answers there.
expect_eq "$("$DOCKER" __complete pallet release "$completed" "" 2>/dev/null | grep -v '^:' | sort)" \
    "$("$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | sort)" \
    "IMAGE: every tagged image docker image ls lists"
expect_eq "$(DOCKER_HOST=unix:///nonexistent.sock "$DOCKER" __complete pallet release x "" 2>&1)" ":4" \
    "IMAGE, no engine: nothing offered, no error printed"
stub="$(mktemp -d)"
printf '#!/bin/sh\nexit 1\n' >"$stub/docker" && chmod +x "$stub/docker"
expect_contains "$(PATH="$stub:$PATH" "$PALLET_BINARY" __complete release x pallet-conformance:v 2>/dev/null)" \
    "pallet-conformance:v1"$'\n' "IMAGE: from the engine's socket, with no docker process to ask"
expect_eq "$(PATH="$stub:$PATH" "$PALLET_BINARY" __complete env show "$RUN_ID-com" 2>/dev/null)" "$(printf '%s\n:4' "$completed")" \
    "ENV: from the engine's socket too (its containers, and no swarm configs on an engine in no swarm)"
rm -rf "$stub"
expect_eq "$(DOCKER_HOST=unix:///nonexistent.sock "$DOCKER" __complete pallet env show "" 2>&1)" ":4" \
    "no engine: nothing offered, no error printed"
if [ -f /usr/share/bash-completion/completions/docker ] && [ -f /usr/share/bash-completion/bash_completion ]; then
    # Debian's bash completion for docker, as a shell runs it on <TAB>.
    tab() {
        bash -c 'source /usr/share/bash-completion/bash_completion
                 source /usr/share/bash-completion/completions/docker
                 read -ra COMP_WORDS <<<"$1"; [ "${1: -1}" == " " ] && COMP_WORDS+=("")
                 COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="$1"; COMP_POINT=${#1}
                 _docker; printf "%s\n" "${COMPREPLY[@]}"' tab "$1" 2>/dev/null
    }
    expect_eq "$(tab "docker pallet de")" "deploy" "bash: docker pallet de<TAB> completes deploy"
    expect_eq "$(tab "docker pallet env show $RUN_ID-com")" "$completed" "bash: an environment's name"
fi
if command -v fish >/dev/null && [ -f /usr/share/fish/vendor_completions.d/docker.fish ]; then
    # fish: docker.io's completion and the package's snippet, pointed at this build.
    snippet="$(mktemp)"
    sed "s|/usr/libexec/docker/cli-plugins/docker-pallet|$PALLET_BINARY|" \
        "$REPO_DIR/completion/docker-pallet.fish" >"$snippet"
    fished="$(HOME="$(mktemp -d)" fish -c "source /usr/share/fish/vendor_completions.d/docker.fish; source $snippet
        complete -C 'docker pallet de'; complete -C 'docker pallet env show $RUN_ID-com'" 2>/dev/null)"
    expect_contains "$fished" "deploy"$'\t'"Run a version's deploy command" "fish: docker pallet de<TAB>"
    expect_contains "$fished" "$completed" "fish: an environment's name"
    rm -f "$snippet"
fi
pallet rm "$completed"

# Bad input: broken config.json, docker missing from PATH.
bad="$(mktemp -d)"; mkdir -p "$bad/cli-plugins"; cp "$PALLET_BINARY" "$bad/cli-plugins/"
echo '{ not json' > "$bad/config.json"
out="$("$DOCKER" --config "$bad" pallet status 2>&1)"; code=$?
expect_eq "$code" "1" "malformed config.json fails"
expect_contains "$out" "config.json is not valid JSON" "malformed config.json explained"
rm -rf "$bad"
out="$(env -i PATH=/nonexistent HOME="$HOME" "$PALLET_BINARY" status 2>&1)"; code=$?
expect_eq "$code" "1" "missing docker fails"
expect_contains "$out" "not found in PATH" "missing docker explained"

# Standalone use.
out="$("$PALLET_BINARY" status 2>&1)"; code=$?
expect_eq "$code" "0" "standalone docker-pallet status"
