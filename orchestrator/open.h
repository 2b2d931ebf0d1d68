#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/orchestrator.h"
#include "state/snapshot.h"

// The one place that picks an orchestrator: from an environment's settings (where they are kept
// tells which), engine when it has none. A new orchestrator is a folder of its own with one
// implementation of Orchestrator, and a line in each function here.
namespace pallet::orchestrator {

// The environment named `env`, read at once, on its orchestrator; one of the engine (not yet
// created) when no orchestrator has it: state().settings then says it does not exist.
// `reading`: what of its history is read in full (state::Reading).
std::unique_ptr<Orchestrator> open(Context& context, const std::string& env,
                                   state::Reading reading = state::Reading::current);

// Every environment of every orchestrator the engine addressed reaches (or `only`), read at
// once: a few docker calls, whatever their number. `routers`: with each one's edge upstream.
std::vector<EnvironmentState> read_all(Context& context, const std::optional<std::string>& only,
                                       bool routers = false);

// The names of every environment, as cheaply as can be (completion).
std::vector<std::string> environment_names(Context& context);

// REPOSITORY:TAG of the images on the engine addressed (completion).
std::vector<std::string> image_names(Context& context);

// Checks what an environment of `env.orchestrator` needs before it is created (nodes, storage,
// a free port); throws with what to do.
void check_new_environment(Context& context, const state::Environment& env);

}  // namespace pallet::orchestrator
