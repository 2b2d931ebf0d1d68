#pragma once

#include <memory>
#include <vector>

#include "orchestrator/orchestrator.h"

namespace pallet::orchestrator::engine {

inline constexpr int k_stop_timeout_seconds = 10;

// Serve containers of the engine: `count` new ones of `image`, removed again unless kept.
std::unique_ptr<Replicas> start_containers(Context& context, const state::Environment& env,
                                           const ResolvedImage& image, int count);

// The serve containers there are (as just read), as the replicas that serve now: those that
// run; all of them go with remove().
std::unique_ptr<Replicas> existing_containers(Context& context, const state::Environment& env,
                                              const std::vector<docker::ContainerRecord>& serving);

}  // namespace pallet::orchestrator::engine
