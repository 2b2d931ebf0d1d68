#pragma once

#include <string>
#include <vector>

#include "docker/swarm_records.h"
#include "orchestrator/context.h"
#include "state/environments.h"

// Provided services of a swarm environment: each a service of one task pinned to one node (the
// router's, unless --service-node), its data in a local volume there, reachable by its name from
// tasks on every node through the environment's overlay network. Its readiness check (the same
// as on an engine: the application's role, database, vhost) is the service's health check, run
// by the swarm in the task's own container: the task runs once it passed, on whichever node.
namespace pallet::orchestrator::swarm {

// The node provided services run on: --service-node, else the router's node; a constraint.
std::string service_node_constraint(Context& context, const state::Environment& env);

// Starts the provided services that are not there and waits until each is ready (its task
// runs) within the environment's service timeout. `existing`: the environment's services as just
// read. Throws with the service, its task's error and its last output.
void provide_services(Context& context, const state::Environment& env,
                      const std::vector<docker::ServiceRecord>& existing);

// Removes the provided service `kind`; with `volumes`, its data too (a task on its node empties
// the volume).
void remove_provided_service(Context& context, const state::Environment& env,
                             const std::string& kind, bool volumes);

}  // namespace pallet::orchestrator::swarm
