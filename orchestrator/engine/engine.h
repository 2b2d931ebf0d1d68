#pragma once

#include <memory>
#include <string>
#include <vector>

#include "orchestrator/orchestrator.h"
#include "state/snapshot.h"

// Environments on the Docker engine addressed. Each version's serve replicas are containers on
// the environment's network behind its router, an nginx container that owns the environment's
// host port; /storage and /static are named volumes; provided services are containers with their
// data in named volumes. Records are label-only containers (state/): container names are unique
// on an engine, so the deploy lock is the deploy container's name, and the serve lock a container
// that sleeps for its lease.
namespace pallet::orchestrator::engine {

// The environment of `snapshot` (just read; its settings may be missing) on the engine.
std::unique_ptr<Orchestrator> open(Context& context, state::Snapshot snapshot);

// Every environment of the engine among `records` (the engine's managed containers), as
// EnvironmentState; `routers`: with the edge's upstream of each.
std::vector<EnvironmentState> describe_all(const std::vector<docker::ContainerRecord>& records,
                                           const std::string& pallet_command, bool routers);

}  // namespace pallet::orchestrator::engine
