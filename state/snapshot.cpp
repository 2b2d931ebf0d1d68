#include "state/snapshot.h"

#include <fmt/format.h>

#include <algorithm>

#include "state/history.h"
#include "state/labels.h"

namespace pallet::state {

void newest_first(std::vector<docker::ContainerRecord>& records) {
    std::stable_sort(records.begin(), records.end(),
                     [](const auto& a, const auto& b) { return created_at(a) > created_at(b); });
}

const docker::ContainerRecord* Snapshot::deploy_lock() const {
    const std::string lock = deploy_container(env);
    for (const auto& record : deploys) {
        if (record.name == lock) {
            return &record;
        }
    }
    return nullptr;
}

bool Snapshot::resources_in_use() const {
    auto runs = [](const docker::ContainerRecord& record) { return record.running; };
    return (router && router->running) || std::any_of(serving.begin(), serving.end(), runs) ||
           std::any_of(deploys.begin(), deploys.end(), runs);
}

Snapshot read_snapshot(docker::DockerCli& docker, const std::string& env) {
    Snapshot snapshot;
    snapshot.env = env;
    auto records =
        docker.list_containers({fmt::format("{}=true", label::k_managed), env_filter(env)});
    newest_first(records);
    std::vector<docker::ContainerRecord> configs;
    for (auto& record : records) {
        const std::string phase = record.label(label::k_phase);
        if (phase == phase::k_config) {
            configs.push_back(record);
        } else if (phase == phase::k_deploy) {
            snapshot.deploys.push_back(record);
        } else if (phase == phase::k_serve) {
            snapshot.serving.push_back(record);
        } else if (phase == phase::k_serve_record) {
            snapshot.serve_records.push_back(record);
        } else if (phase == phase::k_router) {
            snapshot.router = record;
        } else if (phase == phase::k_service) {
            snapshot.services.push_back(record);
        }
    }
    auto envs = newest_environments(configs, docker.command_line("pallet"));
    if (auto it = envs.find(env); it != envs.end()) {
        learn_secrets(docker.redactor(), it->second);
        snapshot.settings = it->second;
    }
    return snapshot;
}

}  // namespace pallet::state
