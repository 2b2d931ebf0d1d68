#include "state/history.h"

#include <fmt/format.h>

#include <algorithm>

#include "state/labels.h"
#include "state/snapshot.h"
#include "util/strings.h"

namespace pallet::state {

double created_at(const docker::ContainerRecord& record) {
    return docker::parse_docker_time(record.created).value_or(0);
}

std::string time_ago(double epoch_seconds, std::optional<double> now) {
    if (epoch_seconds <= 0) {
        return "-";
    }
    auto age =
        static_cast<long long>(now.value_or(static_cast<double>(now_seconds())) - epoch_seconds);
    return util::format_duration(std::chrono::seconds(std::max(0LL, age))) + " ago";
}

namespace {

// The containers of one phase of an environment, newest first.
std::vector<docker::ContainerRecord> records_of(docker::DockerCli& docker, const std::string& env,
                                                const char* phase) {
    auto records = docker.list_containers({env_filter(env), phase_filter(phase)});
    newest_first(records);
    return records;
}

// What every history line takes from its record's labels.
HistoryEntry entry_from_labels(const docker::ContainerRecord& record, const char* phase) {
    HistoryEntry entry;
    entry.phase = phase;
    entry.version = record.label(label::k_version);
    entry.image_id = record.label(label::k_image_id);
    entry.user = record.label(label::k_user);
    entry.host = record.label(label::k_host);
    return entry;
}

}  // namespace

std::vector<docker::ContainerRecord> deploy_records(docker::DockerCli& docker,
                                                    const std::string& env) {
    return records_of(docker, env, phase::k_deploy);
}

HistoryEntry deploy_entry(const docker::ContainerRecord& record) {
    HistoryEntry entry = entry_from_labels(record, phase::k_deploy);
    entry.container = record.name;
    // A listing's summary has no start and end times: a deploy container starts as it is
    // created (docker run), and its duration is left unknown.
    std::optional<double> started = docker::parse_docker_time(record.started_at);
    std::optional<double> finished = docker::parse_docker_time(record.finished_at);
    if (record.summary) {
        started =
            record.status == "created" ? std::nullopt : std::optional<double>(created_at(record));
        finished = std::nullopt;
    }
    entry.started = started.value_or(created_at(record));
    if (record.running) {
        entry.result = "running";
    } else if (!started) {
        entry.result = "not started";
    } else if (record.exit_code == 0) {
        entry.result = "succeeded";
    } else if (record.exit_code == 137) {
        // SIGKILL: its stop timeout ran out, it ran out of memory, or the engine restarted.
        entry.result = "failed (exit 137: killed)";
    } else {
        entry.result = fmt::format("failed (exit {})", record.exit_code);
    }
    if (started && finished && !record.running) {
        entry.duration = std::max(0.0, *finished - *started);
    }
    return entry;
}

HistoryEntry deploy_result_entry(const docker::ContainerRecord& record) {
    HistoryEntry entry = entry_from_labels(record, phase::k_deploy);
    entry.container = record.label(label::k_job);
    entry.result = record.label(label::k_result);
    try {
        entry.started = std::stod(record.label(label::k_started));
        entry.duration = std::max(0.0, std::stod(record.label(label::k_finished)) - entry.started);
    } catch (const std::exception&) {
        entry.started = created_at(record);
    }
    return entry;
}

std::vector<HistoryEntry> serve_entries(docker::DockerCli& docker, const std::string& env) {
    return serve_entries(records_of(docker, env, phase::k_serve_record));
}

std::string processes_text(const std::map<std::string, int>& counts) {
    std::vector<std::string> items;
    for (const auto& [type, count] : counts) {
        items.push_back(fmt::format("{}={}", type, count));
    }
    return util::join(items, " ");
}

std::map<std::string, int> parse_processes_text(const std::string& text) {
    std::map<std::string, int> counts;
    for (const auto& item : util::split(text, ' ')) {
        const auto equals = item.find('=');
        if (equals == std::string::npos) {
            continue;
        }
        try {
            counts[item.substr(0, equals)] = std::stoi(item.substr(equals + 1));
        } catch (const std::exception&) {
        }
    }
    return counts;
}

std::vector<HistoryEntry> serve_entries(const std::vector<docker::ContainerRecord>& records) {
    std::vector<HistoryEntry> entries;
    for (const auto& record : records) {
        HistoryEntry entry = entry_from_labels(record, phase::k_serve);
        entry.result = record.label(label::k_result);
        entry.started = created_at(record);
        entry.processes = parse_processes_text(record.label(label::k_processes));
        try {
            entry.duration = std::stod(record.label(label::k_duration));
        } catch (const std::exception&) {
        }
        entries.push_back(entry);
    }
    return entries;
}

void record_serve(docker::DockerCli& docker, const std::string& env, const HistoryEntry& entry,
                  const std::string& detail, const std::vector<docker::ContainerRecord>& known,
                  size_t keep) {
    docker::ContainerSpec spec;
    spec.name = fmt::format("pallet-{}-served-{}-{}", env, now_millis(), random_id());
    spec.image = k_record_image;
    spec.labels = base_labels(env, phase::k_serve_record);
    spec.labels[label::k_version] = entry.version;
    spec.labels[label::k_image_id] = entry.image_id;
    spec.labels[label::k_result] = entry.result;
    spec.labels[label::k_user] = entry.user;
    spec.labels[label::k_host] = entry.host;
    spec.labels[label::k_detail] = detail;
    if (entry.duration) {
        spec.labels[label::k_duration] = fmt::format("{:.1f}", *entry.duration);
    }
    if (!entry.processes.empty()) {
        spec.labels[label::k_processes] = processes_text(entry.processes);
    }
    docker.create_container(spec);
    std::vector<std::string> old;
    for (size_t i = keep > 0 ? keep - 1 : 0; i < known.size(); ++i) {  // the new one is kept too
        old.push_back(known[i].id);
    }
    docker.remove_containers(old);
}

void archive_deploy(docker::DockerCli& docker, const std::string& env,
                    const docker::ContainerRecord& record,
                    const std::vector<docker::ContainerRecord>& known, size_t keep) {
    try {
        // By id: the lock name may already belong to a newer deploy.
        docker.rename_container(record.id, fmt::format("pallet-{}-deploy-{}", env, now_millis()));
    } catch (const std::exception&) {
        // Another deploy archived it first.
    }
    std::vector<std::string> old;
    for (size_t i = keep; i < known.size(); ++i) {
        if (!known[i].running) {
            old.push_back(known[i].id);
        }
    }
    docker.remove_containers(old);
}

}  // namespace pallet::state
