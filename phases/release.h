#pragma once

#include <optional>
#include <string>

#include "phases/deploy.h"
#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet release`: deploy, then serve the same version.
int run_release(Context& context, const DeployOptions& deploy, std::optional<int> replicas);

struct RollbackOptions {
    std::string env;
    std::optional<std::string> image =
        std::nullopt;  // default: the version served before the current one
    // The data back too: the backup taken before the current version's deploy is restored
    // first (what was written since is lost; asked, or `yes`).
    bool data = false;
    bool yes = false;
};

// `docker pallet rollback`: deploys again and serves the previously served version (or
// `image`); with `data`, after restoring the data of before the current version's deploy, in
// maintenance from the restore until the old version serves. A rollback that fails after the
// restore puts the data back as it was.
int run_rollback(Context& context, const RollbackOptions& options);

}  // namespace pallet::phases
