#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pallet::plugin {

// What the docker CLI (or a user, standalone) asked of the plugin.
struct Invocation {
    enum class Kind {
        metadata,  // docker-cli-plugin-metadata
        hooks,     // pallet docker-cli-plugin-hooks ...
        complete,  // __complete pallet ... (docker), __completeNoDesc ... (Debian's bash
                   // completion)
        run,       // pallet <args>: a command, or help when `help` is set
    };
    Kind kind = Kind::run;
    // docker's global flags as given, minus -h/--help: passed on to every docker the plugin runs.
    std::vector<std::string> global_args;
    std::optional<std::string> config_dir;  // --config
    std::optional<std::string> host;        // -H/--host (the last one)
    std::optional<std::string> context;     // -c/--context
    bool debug = false;                     // -D/--debug or -l debug
    bool help = false;                      // `help pallet ...` or `--help pallet ...`
    bool descriptions = true;               // complete: candidates with their descriptions
    std::vector<std::string> args;          // the plugin's own arguments, after `pallet`
};

// Parses argv (without argv[0]) as the docker CLI passes it: docker's global flags, then
// `pallet`, then the plugin's arguments. Without `pallet`, takes argv as the plugin's arguments
// (standalone use). Throws UsageError for a malformed global flag.
Invocation parse_invocation(const std::vector<std::string>& argv);

}  // namespace pallet::plugin
