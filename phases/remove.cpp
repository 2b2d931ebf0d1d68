#include "phases/remove.h"

#include <fmt/format.h>

#include "orchestrator/open.h"
#include "phases/edge.h"
#include "util/error.h"

namespace pallet::phases {

std::string remove_environment(Context& context, orchestrator::Orchestrator& opened, bool volumes) {
    const state::Environment& env = *opened.state().settings;
    // A running deploy is never killed, not even to remove its environment.
    if (const auto holder = opened.deploy_holder(env);
        holder && holder->state == orchestrator::DeployHolder::State::running) {
        throw Error(fmt::format(
            "a deploy of {} is running in {}; remove the environment when it "
            "has ended (follow it: {pallet} logs {} --phase deploy -f)",
            holder->version, env.name, env.name, fmt::arg("pallet", context.command("pallet"))));
    }
    return opened.remove(env, volumes);
}

int run_rm(Context& context, const std::string& env_name, bool volumes) {
    state::validate_env_name(env_name, "docker pallet rm");
    auto opened = orchestrator::open(context, env_name);
    if (!opened->state().settings) {
        state::EnvironmentStore(context.docker).get(env_name);  // throws, with what to do
    }
    const std::string place = opened->storage_place(*opened->state().settings);
    const std::string remark = remove_environment(context, *opened, volumes);
    refresh_edge(context);
    if (volumes) {
        context.done(
            "removed {} and its data: /storage and /static ({}), its provided services' data "
            "and its backups{}",
            env_name, place, remark.empty() ? "" : "; " + remark);
    } else {
        context.done(
            "removed {}; its data is kept: /storage and /static in {}, its provided services' "
            "data and its backups (rm --volumes removes them)",
            env_name, place);
    }
    return 0;
}

}  // namespace pallet::phases
