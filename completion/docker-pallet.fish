# fish: `docker pallet <TAB>` for docker clients whose own fish completion does not ask plugins
# (Debian's docker.io). Installed in vendor_conf.d, so it adds to docker's completions; the
# candidates come from the plugin itself (`__complete`, from its command tree).
function __docker_pallet_complete
    set -l words (commandline -opc)
    set -e words[1..2]  # docker pallet
    for line in (/usr/libexec/docker/cli-plugins/docker-pallet __complete $words (commandline -ct) 2>/dev/null)
        string match -q -r '^:[0-9]+$' -- $line; or echo $line
    end
end
complete -c docker -n '__fish_seen_subcommand_from pallet' -f -a '(__docker_pallet_complete)'
