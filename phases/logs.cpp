#include "phases/logs.h"

#include <fmt/format.h>

#include "phases/swarm.h"
#include "state/environments.h"
#include "state/history.h"
#include "state/labels.h"
#include "util/error.h"

namespace pallet::phases {

int run_logs(Context& context, const std::string& env, const std::string& phase, bool follow) {
    state::validate_env_name(env, "docker pallet logs");
    if (const auto environment = state::EnvironmentStore(context.docker).get(env);
        environment.swarm()) {
        return swarm::logs(context, environment, phase, follow);
    }
    if (phase == state::phase::k_deploy) {
        auto records = state::deploy_records(context.docker, env);
        if (records.empty()) {
            throw Error(fmt::format("{} has no deploy yet; run: {pallet} deploy {} IMAGE", env, env,
                                    fmt::arg("pallet", context.command("pallet"))));
        }
        context.step("deploy of {} ({})", records.front().label(state::label::k_version),
                     state::deploy_entry(records.front()).result);
        context.docker.stream_logs(records.front().id, follow);
        return 0;
    }
    auto serving = context.docker.list_containers(
        {state::env_filter(env), state::phase_filter(state::phase::k_serve)});
    if (serving.empty()) {
        throw Error(fmt::format("{} serves nothing; see {pallet} status {}", env, env,
                                fmt::arg("pallet", context.command("pallet"))));
    }
    if (follow && serving.size() > 1) {
        context.step("following {} of {} serve containers", serving.front().name, serving.size());
    }
    for (const auto& record : serving) {
        if (!follow) {
            context.step("{} ({})", record.name, record.label(state::label::k_version));
        }
        context.docker.stream_logs(record.name, follow);
        if (follow) {
            break;
        }
    }
    return 0;
}

}  // namespace pallet::phases
