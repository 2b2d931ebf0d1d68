#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "phases/use_case.h"

namespace pallet::orchestrator {
class Orchestrator;
}

namespace pallet::phases {

struct DeployOptions {
    std::string env;
    std::string image;
    // Wait for another version's running deploy instead of failing; nullopt: do not wait,
    // zero: wait as long as it takes.
    std::optional<std::chrono::seconds> wait;
    // Take no backup first, this once (one is taken when the environment has provided data,
    // unless its settings say otherwise).
    bool no_backup = false;
};

// `docker pallet deploy`: runs the image's deploy command in the environment, one version at a
// time. Returns 0 when the deploy succeeded, the deploy's exit code otherwise.
int run_deploy(Context& context, const DeployOptions& options);

// run_deploy of an image already resolved, in an environment already opened (release opens it
// once for deploy and serve).
int deploy_image(Context& context, orchestrator::Orchestrator& opened, const DeployOptions& options,
                 const ResolvedImage& image);

// The environment's services as the image needs them: those it requires are there (else an
// error that says how to add them), and the provided ones run and are ready.
void prepare_services(Context& context, orchestrator::Orchestrator& opened,
                      const state::Environment& env, const ResolvedImage& image);

}  // namespace pallet::phases
