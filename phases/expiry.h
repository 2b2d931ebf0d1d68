#pragma once

#include <optional>

#include "orchestrator/orchestrator.h"

namespace pallet::phases {

// When an environment with a time to live (env create/update --ttl) expires, by the engine's
// clock: its TTL after the last of its creation or env update, deploys and serve events.
// nullopt when it has no TTL.
std::optional<double> expires_at(const orchestrator::EnvironmentState& state);

}  // namespace pallet::phases
