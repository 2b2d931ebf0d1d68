#include "orchestrator/open.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>

#include "orchestrator/engine/engine.h"
#include "orchestrator/engine/networks.h"
#include "orchestrator/swarm/swarm.h"
#include "state/labels.h"
#include "state/snapshot.h"

namespace pallet::orchestrator {

std::unique_ptr<Orchestrator> open(Context& context, const std::string& env,
                                   state::Reading reading) {
    state::Snapshot snapshot = state::read_snapshot(context.docker, env, reading);
    if (!snapshot.settings) {
        if (auto swarm = swarm::open(context, env)) {
            return swarm;
        }
    }
    return engine::open(context, std::move(snapshot));
}

std::vector<EnvironmentState> read_all(Context& context, const std::optional<std::string>& only,
                                       bool routers) {
    std::vector<std::string> filters = {fmt::format("{}=true", state::label::k_managed)};
    if (only) {
        filters.push_back(state::env_filter(*only));
    }
    // A swarm's environments keep their records as configs (none on a plain engine): asked at
    // the same time as the engine's containers, whose listing (not an inspect of each) is one
    // request to the engine however many environments it has.
    auto configs =
        std::async(std::launch::async, [&] { return context.docker.list_configs(filters); });
    auto states = engine::describe_all(
        context.docker.list_container_summaries(filters, state::label::container_keys()),
        context.command("pallet"), routers);
    for (auto& state : swarm::describe_all(context, configs.get(), filters, routers)) {
        states.push_back(std::move(state));
    }
    std::sort(states.begin(), states.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return states;
}

std::vector<std::string> environment_names(Context& context) {
    const std::vector<std::string> filters = {
        fmt::format("{}=true", state::label::k_managed),
        fmt::format("{}={}", state::label::k_phase, state::phase::k_config)};
    // The engine's environments (config containers) and the swarm's (configs named
    // pallet-ENV-config-N), asked at the same time: one docker call's time.
    auto swarm =
        std::async(std::launch::async, [&] { return context.docker.config_names(filters); });
    auto names = context.docker.container_label_values(filters, state::label::k_env);
    for (const auto& config : swarm.get()) {
        if (auto env = state::environment_of_config(config)) {
            names.push_back(*env);
        }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

std::vector<std::string> image_names(Context& context) { return context.docker.list_image_tags(); }

void check_new_environment(Context& context, const state::Environment& env) {
    if (env.swarm()) {
        swarm::check_new_environment(context, env);  // overlay networks: the swarm's own pool
    } else {
        engine::check_network_pool(context);
    }
}

}  // namespace pallet::orchestrator
