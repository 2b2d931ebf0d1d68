#pragma once

#include <map>
#include <memory>
#include <vector>

#include "orchestrator/orchestrator.h"

namespace pallet::orchestrator::engine {

// The processes of a version on the engine: containers pallet-ENV-proc-TYPE-ID of the image,
// run with the type as their command and the environment's process stop timeout.
// New ones: `counts` of each type of `image`, created, not started; removed again unless kept.
// A process container made for a release that has not started it (yet, or ever: that
// command was killed): not one of the version's processes.
bool never_started(const docker::ContainerRecord& record);

std::unique_ptr<Processes> prepare_process_containers(Context& context,
                                                      const state::Environment& env,
                                                      const ResolvedImage& image,
                                                      const std::map<std::string, int>& counts);

// Those there are (as just read), the processes of the version that serves (`served`: its image,
// for types that run none yet).
std::unique_ptr<Processes> existing_process_containers(
    Context& context, const state::Environment& env,
    const std::vector<docker::ContainerRecord>& processes, const ResolvedImage& served);

}  // namespace pallet::orchestrator::engine
