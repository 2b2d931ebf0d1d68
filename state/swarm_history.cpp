#include "state/swarm_history.h"

#include <fmt/format.h>

#include "state/labels.h"
#include "state/snapshot.h"

namespace pallet::state::swarm {
namespace {

constexpr size_t k_kept_results = 50;  // deploy results (history)
constexpr size_t k_kept_outputs = 5;   // deploy outputs (logs)
constexpr size_t k_kept_serves = 50;

// Removes all but the newest `kept` of `records` (newest first).
void prune(docker::DockerCli& docker, const std::vector<docker::ContainerRecord>& records,
           size_t kept) {
    std::vector<std::string> old;
    for (size_t i = kept; i < records.size(); ++i) {
        old.push_back(records[i].id);
    }
    docker.remove_configs(old);
}

std::vector<docker::ContainerRecord> configs_of(docker::DockerCli& docker, const std::string& env,
                                                const char* phase) {
    auto records = docker.list_configs({env_filter(env), phase_filter(phase)});
    newest_first(records);
    return records;
}

}  // namespace

std::string lock_config(const std::string& env, const char* what) {
    return fmt::format("pallet-{}-{}-lock", env, what);
}

std::string router_service(const std::string& env) { return fmt::format("pallet-{}-router", env); }

std::string new_deploy_job(const std::string& env) {
    return fmt::format("pallet-{}-deploy-{}", env, now_millis());
}

std::string new_serve_service(const std::string& env) {
    return fmt::format("pallet-{}-serve-{}", env, random_id());
}

bool is_serve_service(const std::string& env, const std::string& service) {
    const std::string prefix = "pallet-" + env + "-serve-";
    return service.rfind(prefix, 0) == 0 && service.size() == prefix.size() + 8;
}

Records sort_records(std::vector<docker::ContainerRecord> configs) {
    newest_first(configs);
    Records records;
    for (auto& config : configs) {
        const std::string phase = config.label(label::k_phase);
        if (phase == phase::k_config) {
            records.settings.push_back(config);
        } else if (phase == phase::k_deploy_lock) {
            records.deploy_locks.push_back(config);
        } else if (phase == phase::k_deploy_result) {
            records.deploy_results.push_back(config);
        } else if (phase == phase::k_deploy_output) {
            records.deploy_outputs.push_back(config);
        } else if (phase == phase::k_serve_record) {
            records.serve_records.push_back(config);
        } else if (phase == phase::k_serve_lock) {
            records.serve_locks.push_back(config);
        }
    }
    return records;
}

docker::Labels deploy_lock_labels(const std::string& env, const std::string& version,
                                  const std::string& image_id, const std::string& user,
                                  const std::string& host, const std::string& job) {
    auto labels = base_labels(env, phase::k_deploy_lock);
    labels[label::k_version] = version;
    labels[label::k_image_id] = image_id;
    labels[label::k_user] = user;
    labels[label::k_host] = host;
    labels[label::k_job] = job;
    return labels;
}

void record_deploy(docker::DockerCli& docker, const std::string& env,
                   const docker::ContainerRecord& lock, double finished, const std::string& result,
                   std::string output) {
    const std::string job = lock.label(label::k_job);
    const std::string suffix = job.substr(job.rfind('-') + 1);
    auto labels = base_labels(env, phase::k_deploy_result);
    for (const char* key : {label::k_version, label::k_image_id, label::k_user, label::k_host}) {
        labels[key] = lock.label(key);
    }
    labels[label::k_job] = job;
    labels[label::k_started] = fmt::format("{:.0f}", created_at(lock));
    labels[label::k_finished] = fmt::format("{:.0f}", finished);
    labels[label::k_result] = result;
    // The output's last 64 KiB, apart from the records that status and history read (unmanaged).
    if (output.size() > 64 * 1024) {
        output = "[...]\n" + output.substr(output.find('\n', output.size() - 64 * 1024) + 1);
    }
    auto output_labels = base_labels(env, phase::k_deploy_output);
    output_labels.erase(label::k_managed);
    output_labels[label::k_job] = job;
    output_labels[label::k_version] = lock.label(label::k_version);
    docker.create_config(fmt::format("pallet-{}-output-{}", env, suffix), output_labels,
                         output.empty() ? "(no output)\n" : output);
    docker.create_config(fmt::format("pallet-{}-deployed-{}", env, suffix), labels, "");
    prune(docker, configs_of(docker, env, phase::k_deploy_output), k_kept_outputs);
    prune(docker, configs_of(docker, env, phase::k_deploy_result), k_kept_results);
}

void record_serve(docker::DockerCli& docker, const std::string& env, const HistoryEntry& entry,
                  const std::string& detail, const std::vector<docker::ContainerRecord>& known) {
    auto labels = base_labels(env, phase::k_serve_record);
    labels[label::k_version] = entry.version;
    labels[label::k_image_id] = entry.image_id;
    labels[label::k_result] = entry.result;
    labels[label::k_user] = entry.user;
    labels[label::k_host] = entry.host;
    labels[label::k_detail] = detail;
    if (entry.duration) {
        labels[label::k_duration] = fmt::format("{:.1f}", *entry.duration);
    }
    if (!entry.processes.empty()) {
        labels[label::k_processes] = processes_text(entry.processes);
    }
    docker.create_config(fmt::format("pallet-{}-served-{}-{}", env, now_millis(), random_id()),
                         labels, "");
    prune(docker, known, k_kept_serves - 1);  // the new one is kept too
}

}  // namespace pallet::state::swarm
