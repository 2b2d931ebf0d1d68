#pragma once

#include <optional>
#include <string>
#include <vector>

#include "docker/records.h"

// Swarm objects as `docker service|node inspect` and `docker inspect TASK` describe them (the
// fields the plugin reads).
namespace pallet::docker {

struct ServiceRecord {
    std::string id;
    std::string name;
    Labels labels;
    std::string created;  // RFC 3339
    std::string mode;     // replicated, global, replicated-job, global-job
    int replicas = 0;     // wanted, for replicated services
    std::string image;
    std::vector<std::string> env;      // KEY=VALUE
    std::vector<int> published_ports;  // host-mode published ports
    std::string label(const std::string& key) const;
};

struct TaskRecord {
    std::string id;
    std::string service_id;
    std::string node_id;
    int slot = 0;
    std::string desired_state;  // running, shutdown, complete
    std::string state;          // new ... running, complete, failed, rejected, shutdown, orphaned
    std::string error;          // Status.Err
    std::optional<int> exit_code;
    std::string container_id;
    std::string created;                 // RFC 3339
    std::string updated;                 // Status.Timestamp: when it reached its state
    std::vector<std::string> addresses;  // 10.0.1.5 (no prefix length), one per network
    std::vector<int> published_ports;    // host-mode ports on its node
    bool running() const { return state == "running"; }
    // Ended for good: complete, failed, rejected, shutdown, orphaned, remove.
    bool ended() const;
};

struct NodeRecord {
    std::string id;
    std::string hostname;
    std::string role;          // manager, worker
    std::string availability;  // active, pause, drain
    std::string state;         // ready, down, ...
    std::string address;       // where the other nodes reach it (its advertised IP address)
};

std::vector<ServiceRecord> parse_service_inspect(const std::string& json_text);
std::vector<TaskRecord> parse_task_inspect(const std::string& json_text);
std::vector<NodeRecord> parse_node_inspect(const std::string& json_text);
// Configs as ContainerRecord (id, name, labels, created): the plugin keeps records in their
// labels on a swarm, as it does in label-only containers on an engine.
std::vector<ContainerRecord> parse_config_inspect(const std::string& json_text);

}  // namespace pallet::docker
