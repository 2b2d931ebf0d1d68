#include "phases/remove.h"

#include <fmt/format.h>

#include "phases/edge.h"
#include "phases/swarm.h"
#include "state/environments.h"
#include "state/labels.h"
#include "state/snapshot.h"
#include "util/error.h"

namespace pallet::phases {

int run_rm(Context& context, const std::string& env_name, bool volumes) {
    state::validate_env_name(env_name, "docker pallet rm");
    state::EnvironmentStore store(context.docker);
    const state::Snapshot snapshot = state::read_snapshot(context.docker, env_name);
    if (!snapshot.settings) {
        store.get(env_name);  // throws, with what to do
    }
    // A running deploy is never killed, not even to remove its environment.
    const auto swarm_env = swarm::find(context, env_name);
    std::string deploying;
    if (const auto* deploy = snapshot.deploy_lock(); deploy != nullptr && deploy->running) {
        deploying = deploy->label(state::label::k_version);
    } else if (swarm_env) {
        deploying = swarm::running_deploy(context, *swarm_env);
    }
    if (!deploying.empty()) {
        throw Error(fmt::format(
            "a deploy of {} is running in {}; remove the environment when it "
            "has ended (follow it: {pallet} logs {} --phase deploy -f)",
            deploying, env_name, env_name, fmt::arg("pallet", context.command("pallet"))));
    }
    if (swarm_env) {
        return swarm::remove(context, *swarm_env, volumes);
    }
    store.remove(env_name, volumes);
    refresh_edge(context);
    if (volumes) {
        context.done("removed {} and its volumes", env_name);
    } else {
        context.done(
            "removed {}; its /storage and /static volumes are kept (rm --volumes removes "
            "them)",
            env_name);
    }
    return 0;
}

}  // namespace pallet::phases
