#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "phases/context.h"

namespace pallet::phases {

struct DeployOptions {
    std::string env;
    std::string image;
    // Wait for another version's running deploy instead of failing; nullopt: do not wait,
    // zero: wait as long as it takes.
    std::optional<std::chrono::seconds> wait;
};

// `docker pallet deploy`: runs the image's deploy command in the environment, one version at a
// time. Returns 0 when the deploy succeeded, the deploy's exit code otherwise.
int run_deploy(Context& context, const DeployOptions& options);

// run_deploy of an image already resolved (release resolves it once for deploy and serve).
int deploy_image(Context& context, const DeployOptions& options, const struct ResolvedImage& image);

}  // namespace pallet::phases
