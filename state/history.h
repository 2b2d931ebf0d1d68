#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "docker/docker_cli.h"

namespace pallet::state {

// One line of an environment's history.
struct HistoryEntry {
    std::string phase;     // deploy or serve
    std::string version;   // the image reference
    std::string image_id;  // sha256:...
    std::string result;    // running, succeeded, failed (exit N), not started, serving, replaced...
    double started = 0;    // seconds since the epoch
    std::optional<double> duration;  // seconds; none while running
    std::string user;
    std::string host;
    std::string container;                 // deploy: its container (logs)
    std::map<std::string, int> processes;  // serve: the process counts it was served with
};

// "clock=1 worker=2", and back.
std::string processes_text(const std::map<std::string, int>& counts);
std::map<std::string, int> parse_processes_text(const std::string& text);

// The deploy containers of an environment (the running one and the kept ones), newest first.
std::vector<docker::ContainerRecord> deploy_records(docker::DockerCli& docker,
                                                    const std::string& env);

// The deploy record as a history line.
HistoryEntry deploy_entry(const docker::ContainerRecord& record);

// A swarm deploy's result (a config record) as a history line.
HistoryEntry deploy_result_entry(const docker::ContainerRecord& record);

// The serve records of an environment as history lines, newest first.
std::vector<HistoryEntry> serve_entries(docker::DockerCli& docker, const std::string& env);
// The same from records already read (newest first).
std::vector<HistoryEntry> serve_entries(const std::vector<docker::ContainerRecord>& records);

// Keeps a serve event (which version started or stopped serving, by whom) on the engine, and
// the newest `keep` of them, `known` being the records there were (newest first). `detail` is
// one line and holds no application output: records are labels any reader of the engine sees.
void record_serve(docker::DockerCli& docker, const std::string& env, const HistoryEntry& entry,
                  const std::string& detail, const std::vector<docker::ContainerRecord>& known,
                  size_t keep = 50);

// Moves a finished deploy container out of the lock name, keeping it as history; drops
// history beyond the newest `keep` deploys among `known` (newest first). Safe when another
// process does the same.
void archive_deploy(docker::DockerCli& docker, const std::string& env,
                    const docker::ContainerRecord& record,
                    const std::vector<docker::ContainerRecord>& known, size_t keep = 30);

// Creation time of a container in seconds since the epoch (0 when unknown).
double created_at(const docker::ContainerRecord& record);

// "2m05s ago" for a time in seconds since the epoch, `now` being the time to count from (the
// local clock's by default; the engine's where ages decide or explain locks); "-" when unknown.
std::string time_ago(double epoch_seconds, std::optional<double> now = std::nullopt);

}  // namespace pallet::state
