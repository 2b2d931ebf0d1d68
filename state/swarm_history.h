#pragma once

#include <string>
#include <vector>

#include "docker/docker_cli.h"
#include "state/history.h"

// What a swarm environment keeps on the swarm: its records are swarm configs (seen by every
// manager, their names unique on the swarm), laid out as an engine environment's label-only
// containers are; and the names of its services.
namespace pallet::state::swarm {

// The config that is the environment's deploy or serve lock (`what`: deploy, serve).
std::string lock_config(const std::string& env, const char* what);
// The environment's router service.
std::string router_service(const std::string& env);
// A new deploy job's service, and a new version's serve service.
std::string new_deploy_job(const std::string& env);
std::string new_serve_service(const std::string& env);
// True when `service` is a serve service of `env`.
bool is_serve_service(const std::string& env, const std::string& service);

// The environment's configs, by kind, each newest first.
struct Records {
    std::vector<docker::ContainerRecord> settings;
    std::vector<docker::ContainerRecord> deploy_locks;
    std::vector<docker::ContainerRecord> deploy_results;
    std::vector<docker::ContainerRecord> deploy_outputs;
    std::vector<docker::ContainerRecord> serve_records;
    std::vector<docker::ContainerRecord> serve_locks;
};
Records sort_records(std::vector<docker::ContainerRecord> configs);

// The labels of a deploy lock: who deploys which version, as which job.
docker::Labels deploy_lock_labels(const std::string& env, const std::string& version,
                                  const std::string& image_id, const std::string& user,
                                  const std::string& host, const std::string& job);

// Records how the deploy under `lock` ended (`result`: succeeded, failed (exit 3), ...) at
// `finished`, and the last 64 KiB of what it printed; keeps the newest 50 results, 5 outputs.
void record_deploy(docker::DockerCli& docker, const std::string& env,
                   const docker::ContainerRecord& lock, double finished, const std::string& result,
                   std::string output);

// Keeps a serve event (as record_serve does on an engine) and the newest 50.
void record_serve(docker::DockerCli& docker, const std::string& env, const HistoryEntry& entry,
                  const std::string& detail, const std::vector<docker::ContainerRecord>& known);

}  // namespace pallet::state::swarm
