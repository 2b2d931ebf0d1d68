#pragma once

#include <map>
#include <memory>
#include <vector>

#include "docker/swarm_records.h"
#include "orchestrator/orchestrator.h"

namespace pallet::orchestrator::swarm {

// The processes of a version on a swarm: a replicated service per type (pallet-ENV-proc-TYPE-ID,
// spread over the nodes, its tasks replaced by the swarm when they exit or their node is lost),
// with the environment's process stop timeout as its grace period. New ones: `counts` of each
// type of `image`, a service for each made with 0 replicas (start() scales them to their
// counts), removed again unless kept.
std::unique_ptr<Processes> prepare_process_services(Context& context, const state::Environment& env,
                                                    const ResolvedImage& image,
                                                    const std::map<std::string, int>& counts);

// The process services there are (as just read): those of the version that serves.
std::unique_ptr<Processes> existing_process_services(
    Context& context, const state::Environment& env,
    const std::vector<docker::ServiceRecord>& services);

// The type of a process service of `env`, from its name ("" when it is none).
std::string process_type_of(const std::string& env, const std::string& service);

}  // namespace pallet::orchestrator::swarm
