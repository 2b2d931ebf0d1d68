#pragma once

#include <memory>
#include <optional>

#include "docker/swarm_records.h"
#include "orchestrator/orchestrator.h"

namespace pallet::orchestrator::swarm {

// The router of a swarm environment: an nginx service of one task pinned to a node (the node
// addressed, or --router-node), published in host mode on the environment's port there, on the
// environment's overlay network; it resolves a version's service through the swarm's DNS, so
// that tasks the swarm starts by itself (after a node loss) get requests with no command of
// ours. `service`: its service as just read (nullopt: there is none).
std::unique_ptr<Router> make_router(Context& context, const state::Environment& env,
                                    const std::optional<docker::ServiceRecord>& service);

// The port the environment's router listens on at its node: its own, or (--port none) the one
// docker picked for its task (0 when it does not run).
int published_port(Context& context, const state::Environment& env);

}  // namespace pallet::orchestrator::swarm
