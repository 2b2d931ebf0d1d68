#include "phases/stop.h"

#include <fmt/format.h>

#include "phases/edge.h"
#include "phases/rollout.h"

namespace pallet::phases {

int run_stop(Context& context, const std::string& env_name) {
    state::validate_env_name(env_name, "docker pallet stop");
    Locked locked = lock_environment(context, env_name, false);
    const state::Environment& env = locked.env;
    const auto& served = locked.opened->state().served;
    locked.opened->stop(env);
    if (served && !context.docker.dry_run()) {
        locked.opened->record_serve(
            env, serve_event(context, served->version, served->image_id, "stopped"), "");
    }
    context.done("{} is stopped", env.name);
    refresh_edge(context);  // its domain answers 503 at the edge until it serves again
    return 0;
}

}  // namespace pallet::phases
