#!/usr/bin/env bash
# Writes the man page docker-pallet(1) from the plugin's own --help texts (one source of truth):
# the top-level help, then every command's, walking the "Commands:" lists.
#   scripts/manpage.sh BINARY > docker-pallet.1
set -euo pipefail
binary="$1"
# roff: backslashes doubled, a leading dot or quote neutralised.
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
# The subcommands a help text lists under "Commands:".
commands_of() { awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }'; }

version="$("$binary" version | sed 's/^docker-pallet version //')"
top="$("$binary" --help)"
description="$(sed -n 3p <<<"$top")"
cat <<ROFF
.TH DOCKER-PALLET 1 "" "docker-pallet $version" "Docker CLI plugins"
.SH NAME
docker-pallet \\- $description
.SH SYNOPSIS
.B docker pallet
.I COMMAND
.RI [ OPTIONS ]
.SH DESCRIPTION
.B docker pallet
implements the Pallet standard for containerized Web applications: an application is an image
that answers
.BR test ,
.B deploy
and
.BR serve ;
the plugin runs them with the application's services, mounts /storage and /static, never runs two
versions' deploys at once, never serves a version whose deploy failed, and upgrades without
downtime. It is a Docker CLI plugin: it runs the docker CLI with the global flags given to docker
(-H, --context, --config, ...), so it works on whichever engine docker addresses.
.PP
.nf
$(escape <<<"$top")
.fi
.SH COMMANDS
ROFF
walk() {
    local path=("$@") help sub
    help="$("$binary" "${path[@]}" --help)"
    printf '.SS docker pallet %s\n.nf\n%s\n.fi\n' "${path[*]}" "$(escape <<<"$help")"
    for sub in $(commands_of <<<"$help"); do
        walk "${path[@]}" "$sub"
    done
}
for command in $(commands_of <<<"$top"); do
    walk "$command"
done
cat <<'ROFF'
.SH ENVIRONMENT
.TP
.B PALLET_ROUTER_IMAGE, PALLET_EDGE_IMAGE, PALLET_ACME_IMAGE, PALLET_POSTGRES_IMAGE, ...
Images the plugin runs (also router-image, ... under plugins.pallet in docker's config.json).
.TP
.B PALLET_SSH_KEEP, PALLET_SSH_MUX
The shared SSH connection to an ssh:// engine.
.SH SEE ALSO
.BR docker (1)
ROFF
