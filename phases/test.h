#pragma once

#include <optional>
#include <string>
#include <vector>

#include "phases/use_case.h"

namespace pallet::phases {

struct TestOptions {
    std::string image;
    std::vector<std::string> env;             // KEY=VALUE
    std::vector<std::string> env_files;       // files of KEY=VALUE lines
    bool keep = false;                        // leave the transient environment for inspection
    std::vector<std::string> services;        // NAME or NAME=URL, besides the image's labels
    std::vector<std::string> service_images;  // NAME=IMAGE
    std::optional<std::string> service_timeout;
    bool reuse_services = false;    // keep warm services per user; each run gets its own database
    std::vector<std::string> args;  // extra arguments after `test`
    // `run --test`: this command (through the image's entrypoint) instead of `test ARGS`.
    std::vector<std::string> command;
    bool interactive = false;  // the user's stdin reaches it
    bool tty = false;          // with a terminal
};

// `docker pallet test` (and `run --test`): runs the image's test command (or options.command) in a
// transient environment of its own; returns its exit code.
int run_test(Context& context, const TestOptions& options);

}  // namespace pallet::phases
