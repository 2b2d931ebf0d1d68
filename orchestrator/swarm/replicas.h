#pragma once

#include <memory>
#include <optional>

#include "docker/swarm_records.h"
#include "orchestrator/orchestrator.h"

namespace pallet::orchestrator::swarm {

// A version's serve replicas on a swarm: a replicated service (dnsrr: no virtual IP, no IPVS;
// stopped tasks leave the DNS at once), spread over the nodes, with the environment's /storage.
// A new one: `count` tasks of `image`, removed again unless kept.
std::unique_ptr<Replicas> start_service(Context& context, const state::Environment& env,
                                        const ResolvedImage& image, int count);

// The service that serves now (the newest of `serving`); all of `serving` go with remove().
std::unique_ptr<Replicas> existing_service(Context& context, const state::Environment& env,
                                           const std::vector<docker::ServiceRecord>& serving);

}  // namespace pallet::orchestrator::swarm
