#pragma once

#include <optional>
#include <string>

#include "phases/deploy.h"
#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet release`: deploy, then serve the same version.
int run_release(Context& context, const DeployOptions& deploy, std::optional<int> replicas);

// `docker pallet rollback`: deploys again and serves the previously served version (or `image`).
int run_rollback(Context& context, const std::string& env, const std::optional<std::string>& image);

}  // namespace pallet::phases
