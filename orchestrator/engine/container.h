#pragma once

#include <string>

#include "docker/docker_cli.h"
#include "orchestrator/phase.h"

namespace pallet::orchestrator::engine {

// The container of one phase on the engine: the image's own entrypoint and user, the phase as
// its command, /storage and /static mounted, on the environment's network, labelled.
docker::ContainerSpec phase_container(const Context& context, const state::Environment& env,
                                      const std::string& phase, const ResolvedImage& image);

}  // namespace pallet::orchestrator::engine
