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

std::map<std::string, Snapshot> group_snapshots(std::vector<docker::ContainerRecord> records,
                                                const std::string& pallet_command) {
    newest_first(records);
    std::map<std::string, Snapshot> snapshots;
    std::map<std::string, std::vector<docker::ContainerRecord>> configs;
    for (auto& record : records) {
        const std::string env = record.label(label::k_env);
        if (env.empty()) {
            continue;
        }
        Snapshot& snapshot = snapshots[env];
        snapshot.env = env;
        const std::string phase = record.label(label::k_phase);
        if (phase == phase::k_config) {
            configs[env].push_back(record);
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
        } else if (phase == phase::k_process) {
            snapshot.processes.push_back(record);
        }
    }
    for (auto& [env, records] : configs) {
        auto envs = newest_environments(records, pallet_command);
        if (auto it = envs.find(env); it != envs.end()) {
            snapshots[env].settings = it->second;
        }
    }
    return snapshots;
}

Snapshot read_snapshot(docker::DockerCli& docker, const std::string& env, Reading reading) {
    auto records = docker.list_container_summaries(
        {fmt::format("{}=true", label::k_managed), env_filter(env)}, label::container_keys());
    std::vector<std::string> detail;
    for (const auto& record : records) {
        const std::string phase = record.label(label::k_phase);
        if (phase == phase::k_service ||
            (reading == Reading::with_deploy_times && phase == phase::k_deploy)) {
            detail.push_back(record.id);
        }
    }
    if (!detail.empty()) {
        // One inspect of those; one removed since the listing keeps its summary.
        for (auto& full : docker.inspect_containers(detail)) {
            for (auto& record : records) {
                if (record.id == full.id) {
                    record = std::move(full);
                    break;
                }
            }
        }
    }
    auto snapshots = group_snapshots(std::move(records), docker.command_line("pallet"));
    Snapshot snapshot = snapshots[env];
    snapshot.env = env;
    snapshot.reading = reading;
    if (snapshot.settings) {
        learn_secrets(docker.redactor(), *snapshot.settings);
    }
    return snapshot;
}

}  // namespace pallet::state
