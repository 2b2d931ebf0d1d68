#include "phases/stop.h"

#include <fmt/format.h>

#include "phases/edge.h"
#include "phases/rollout.h"
#include "phases/services.h"
#include "phases/swarm.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

int run_stop(Context& context, const std::string& env_name) {
    state::validate_env_name(env_name, "docker pallet stop");
    auto read = state::read_snapshot(context.docker, env_name);
    if (!read.settings) {
        if (auto env = swarm::find(context, env_name)) {
            return swarm::stop(context, *env);
        }
    }
    Locked locked = lock_environment(context, std::move(read), false);
    const state::Environment& env = locked.env;
    const auto& serving = locked.snapshot.serving;
    std::vector<std::string> names = names_of(serving);
    if (locked.snapshot.router) {
        names.push_back(state::router_container(env.name));
    }
    context.docker.stop_containers(names);
    context.docker.remove_containers(names);
    context.docker.remove_volumes({state::router_volume(env.name)});
    if (!serving.empty() && !context.docker.dry_run()) {
        state::HistoryEntry entry{state::phase::k_serve,
                                  serving.front().label(state::label::k_version),
                                  serving.front().label(state::label::k_image_id),
                                  "stopped",
                                  0,
                                  std::nullopt,
                                  context.actor_user,
                                  context.actor_host,
                                  ""};
        state::record_serve(context.docker, env.name, entry, "", locked.snapshot.serve_records);
    }
    context.done("{} is stopped", env.name);
    refresh_edge(context);  // its domain answers 503 at the edge until it serves again
    return 0;
}

}  // namespace pallet::phases
