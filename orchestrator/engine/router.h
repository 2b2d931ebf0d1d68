#pragma once

#include <memory>
#include <optional>

#include "orchestrator/orchestrator.h"

namespace pallet::orchestrator::engine {

// The router of an environment on the engine: one nginx container that owns the environment's
// host port, on its network, sending requests to serve containers by name. `known`: its
// container as just read (nullopt: there is none), so that it is not inspected again.
std::unique_ptr<Router> make_router(Context& context, state::Environment& env,
                                    const std::optional<docker::ContainerRecord>& known);

}  // namespace pallet::orchestrator::engine
