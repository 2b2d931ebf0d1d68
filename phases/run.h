#pragma once

#include <optional>
#include <string>
#include <vector>

#include "phases/use_case.h"

namespace pallet::phases {

struct RunOptions {
    std::string env;
    std::optional<std::string> image;  // default: what ENV serves, else its last good deploy
    std::vector<std::string> command;  // COMMAND ARG..., through the image's entrypoint
    bool interactive = false;          // -i: the user's stdin reaches it
    bool tty = false;                  // -t: with a terminal
};

// `docker pallet run`: runs a one-off command in an environment with everything a serve phase
// of it gets (variables, services, /storage, /static, network), then removes the container;
// returns the command's exit status.
int run_run(Context& context, const RunOptions& options);

// After a one-off command ended: explains the exit statuses that mean it could not run at all
// (126, 127); the status itself passes through.
void explain_exit(Context& context, const std::string& command, const std::string& image, int code);

}  // namespace pallet::phases
