#pragma once

#include <string>

#include "phases/use_case.h"

namespace pallet::orchestrator {
class Orchestrator;
}

namespace pallet::phases {

// `docker pallet rm`: removes the environment; its volumes too with `volumes`.
int run_rm(Context& context, const std::string& env, bool volumes);

// What rm removes, said as it goes; the edge is left to the caller to refresh (env prune does it
// once for all it removes). Returns what the user should know beyond that ("" when nothing).
// Refuses an environment whose deploy runs.
std::string remove_environment(Context& context, orchestrator::Orchestrator& opened, bool volumes);

}  // namespace pallet::phases
