#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace pallet::plugin {

// What completion asks the engine for, only when the word being completed needs it.
struct CompletionSources {
    std::function<std::vector<std::string>()> environments;  // names of the environments
    std::function<std::vector<std::string>()> images;        // local REPOSITORY:TAG
    std::function<std::vector<std::string>()> services;      // service kinds (--service)
};

// cobra's shell completion directives (docker's CLI and its completion scripts read them).
namespace directive {
inline constexpr int k_default = 0;     // the shell completes file names
inline constexpr int k_no_space = 2;    // no space after the candidate (--flag=)
inline constexpr int k_no_files = 4;    // no file names
inline constexpr int k_dirs_only = 16;  // directory names
}  // namespace directive

// Answers cobra's completion protocol for `docker __complete pallet ARGS... PARTIAL` from the
// command tree itself: subcommands (with their descriptions), flags of the command reached and
// of the plugin, the values a flag allows ({a,b} in its type), environment names for ENV,
// local images for IMAGE, service kinds for --service, files for FILE and directories for DIR.
// One candidate a line ("word\tdescription", or the word alone), then ":<directive>".
std::string complete(const CLI::App& root, const std::vector<std::string>& args,
                     const CompletionSources& sources, bool descriptions = true);

}  // namespace pallet::plugin
