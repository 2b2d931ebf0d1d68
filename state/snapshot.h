#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "docker/docker_cli.h"
#include "state/environments.h"

namespace pallet::state {

// Everything on the engine about one environment, read at once (one listing of the containers
// labelled with it, one inspect of them all): a command decides from it in plain code instead
// of asking the engine again for each thing it needs.
// How much of an environment a command reads. Its containers come from one listing (one
// request to the engine, however long its history); only what a listing lacks is inspected: the
// provided services' containers (the admin password they were made with), and for `history`
// (and env prune's decision) the deploys' start and end times.
enum class Reading { current, with_deploy_times };

struct Snapshot {
    std::string env;
    Reading reading = Reading::current;
    std::optional<Environment> settings;                 // the newest settings record
    std::vector<docker::ContainerRecord> deploys;        // deploy containers, newest first
    std::vector<docker::ContainerRecord> serving;        // serve containers
    std::vector<docker::ContainerRecord> serve_records;  // serve history, newest first
    std::optional<docker::ContainerRecord> router;
    std::vector<docker::ContainerRecord> services;   // provided services' containers
    std::vector<docker::ContainerRecord> processes;  // process types' containers

    // The container under the deploy lock's name, if any.
    const docker::ContainerRecord* deploy_lock() const;
    // True when a running container of the environment uses its network and volumes, which
    // therefore exist.
    bool resources_in_use() const;
};

// Sorts records newest first (by creation time on the engine).
void newest_first(std::vector<docker::ContainerRecord>& records);

// The snapshots of every environment among `records`, by name.
std::map<std::string, Snapshot> group_snapshots(std::vector<docker::ContainerRecord> records,
                                                const std::string& pallet_command);

// Reads the snapshot of `env` (its secrets go to the adapter's redactor).
Snapshot read_snapshot(docker::DockerCli& docker, const std::string& env,
                       Reading reading = Reading::current);

}  // namespace pallet::state
