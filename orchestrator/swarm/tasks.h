#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "docker/docker_cli.h"
#include "orchestrator/context.h"
#include "state/environments.h"

// Swarm tasks: one-off work as services, waits on tasks, nodes; and where a swarm environment's
// /storage and /static are. Every wait has a timeout and says what it waits for.
namespace pallet::orchestrator::swarm {

// How long a task has to be scheduled and start.
inline constexpr std::chrono::seconds k_start_timeout{120};

// A task that ran (exited, or was running when its node was lost), as opposed to one a node
// rejected before it started (a missing image or bind source).
bool ran(const docker::TaskRecord& task);
// Tasks that all ended without running: nothing more will happen.
bool all_rejected(const std::vector<docker::TaskRecord>& tasks);
// What went wrong with a task, for messages.
std::string task_problem(const docker::TaskRecord& task);

// A node's host name, for messages (its ID's beginning when it is not known).
std::string node_name(Context& context, const std::string& id);
// The swarm ID of the node addressed.
std::string this_node(Context& context);

// A one-off task's service for the environment (a check, a hand-over, a removal), never
// restarted: not a swarm job, whose tasks the swarm never removes (moby/moby#42789, #44312).
docker::ServiceSpec one_off(const state::Environment& env, const std::string& image);

// Runs the one-off `job` once on every node that takes tasks, waits at most 90s and removes
// it; what went wrong, by node name (empty when nothing did).
std::map<std::string, std::string> run_on_every_node(Context& context, docker::ServiceSpec job,
                                                     const char* what);

// Runs the one-off `job` once (one task), waits at most 90s for it to run and removes it; the
// task that ran. Throws with the rejection when it could not start.
docker::TaskRecord run_once(Context& context, docker::ServiceSpec job, const char* what);

// Waits until `service` runs `count` tasks; their addresses on the environment's network.
// Throws with the tasks' states and errors when they do not within `timeout`.
std::vector<std::string> wait_running(Context& context, const std::string& service, int count,
                                      std::chrono::seconds timeout);

// The environment's directory `which` (storage, static, backups) at `at`: DIR/ENV/WHICH of the
// shared path (which must exist), or the volume pallet-ENV-WHICH of the environment's driver.
docker::Mount environment_volume(const state::Environment& env, const std::string& which,
                                 const std::string& at, bool read_only);

// The mounts of the environment's /storage (unless `storage_at` is empty) and /static at those
// paths: DIR/ENV/storage and DIR/ENV/static of the shared path, or volumes of the environment's
// driver ("{volume}" in an option's value stands for storage or static).
std::vector<docker::Mount> storage_mounts(const state::Environment& env,
                                          const std::string& storage_at,
                                          const std::string& static_at, bool static_read_only);

// Where /storage and /static of the environment are, for messages.
std::string storage_place(const state::Environment& env);

}  // namespace pallet::orchestrator::swarm
