#pragma once

#include <memory>
#include <string>
#include <vector>

#include "orchestrator/orchestrator.h"

// Environments on a Docker swarm (env create --orchestrator swarm), from a manager: the same
// commands and rules as on one engine, with swarm objects. Records are swarm configs, seen by
// every manager (state/swarm_history.h); a deploy runs as a service of one task that is never
// restarted; each served version is a replicated service behind the environment's router, an
// nginx service published in host mode on one node; /storage and /static are directories of a
// path every node shares, or volumes of a driver every node mounts; provided services are
// services pinned to one node.
namespace pallet::orchestrator::swarm {

// The swarm environment `env`; nullptr when the swarm (if the engine addressed manages one) has
// none of that name.
std::unique_ptr<Orchestrator> open(Context& context, const std::string& env);

// Every swarm environment among `configs` (the swarm's managed configs), as EnvironmentState;
// `routers`: with the edge's upstream of each. `filters`: those the configs were listed with.
std::vector<EnvironmentState> describe_all(Context& context,
                                           const std::vector<docker::ContainerRecord>& configs,
                                           const std::vector<std::string>& filters, bool routers);

// Checks what a swarm environment needs before it is created: a manager, a shared path (or
// volumes) on every node, a port for its router no other environment of its node has.
void check_new_environment(Context& context, const state::Environment& env);

}  // namespace pallet::orchestrator::swarm
