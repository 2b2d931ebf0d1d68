#include "orchestrator/swarm/tasks.h"

#include <fmt/format.h>

#include <algorithm>

#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::orchestrator::swarm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_one_off_timeout = std::chrono::seconds(90);

// One-off work is never restarted, so that it never runs twice, also not after a rejection.
constexpr const char* k_once = "none";

// A task the scheduler will not place while the swarm stays as it is: no node has a plugin it needs
// (a volume driver). Waiting cannot help; other reasons (a node down) can pass.
bool unplaceable(const docker::TaskRecord& task) {
    return task.state == "pending" && task.error.find("missing plugin") != std::string::npos;
}

}  // namespace

bool ran(const docker::TaskRecord& task) { return task.ended() && task.state != "rejected"; }

bool all_rejected(const std::vector<docker::TaskRecord>& tasks) {
    return !tasks.empty() && std::all_of(tasks.begin(), tasks.end(),
                                         [](const auto& task) { return task.state == "rejected"; });
}

std::string task_problem(const docker::TaskRecord& task) {
    return task.error.empty() ? task.state : task.error;
}

std::string node_name(Context& context, const std::string& id) {
    for (const auto& node : context.docker.list_nodes()) {
        if (node.id == id) {
            return node.hostname;
        }
    }
    return id.substr(0, 12);
}

std::string this_node(Context& context) { return context.docker.info("{{.Swarm.NodeID}}"); }

docker::ServiceSpec one_off(const state::Environment& env, const std::string& image) {
    docker::ServiceSpec job;
    job.name = fmt::format("pallet-{}-check-{}", env.name, state::random_id());
    job.image = image;
    job.labels = state::base_labels(env.name, state::phase::k_check);
    job.restart_condition = k_once;
    return job;
}

std::map<std::string, std::string> run_on_every_node(Context& context, docker::ServiceSpec job,
                                                     const char* what) {
    job.mode = "global";
    job.restart_condition = k_once;
    std::map<std::string, std::string> nodes;  // id -> host name
    for (const auto& node : context.docker.list_nodes()) {
        if (node.state == "ready" && node.availability == "active") {
            nodes[node.id] = node.hostname;
        }
    }
    context.docker.create_service(job);
    const auto deadline = Clock::now() + k_one_off_timeout;
    try {
        while (true) {
            std::map<std::string, std::string> outcome;  // host name -> problem ("": none)
            for (const auto& task : context.docker.service_tasks(job.name)) {
                auto node = nodes.find(task.node_id);
                if (node == nodes.end() || !task.ended()) {
                    continue;
                }
                if (task.state == "complete") {
                    outcome[node->second] = "";
                } else if (outcome.count(node->second) == 0) {
                    outcome[node->second] = task_problem(task);
                }
            }
            if (outcome.size() >= nodes.size()) {
                context.docker.remove_services({job.name});
                std::erase_if(outcome, [](const auto& entry) { return entry.second.empty(); });
                return outcome;
            }
            if (Clock::now() > deadline) {
                std::string waiting;
                for (const auto& [id, name] : nodes) {
                    if (outcome.count(name) == 0) {
                        waiting += (waiting.empty() ? "" : ", ") + name;
                    }
                }
                throw Error(fmt::format("{} did not end within {}s on node(s) {}", what,
                                        k_one_off_timeout.count(), waiting));
            }
            cancel::sleep(std::chrono::milliseconds(300));
        }
    } catch (...) {
        context.docker.remove_services({job.name});
        throw;
    }
}

docker::TaskRecord run_once(Context& context, docker::ServiceSpec job, const char* what) {
    job.mode = "replicated";
    job.replicas = 1;
    job.restart_condition = k_once;
    context.docker.create_service(job);
    const auto deadline = Clock::now() + k_one_off_timeout;
    try {
        while (true) {
            const auto tasks = context.docker.service_tasks(job.name);
            std::string rejected;
            for (const auto& task : tasks) {
                if (ran(task)) {
                    context.docker.remove_services({job.name});
                    return task;
                }
                if (task.state == "rejected") {
                    rejected = fmt::format(" (node {}: {})", node_name(context, task.node_id),
                                           task_problem(task));
                }
                if (unplaceable(task)) {
                    throw Error(fmt::format("{} could not run: {}", what, task.error));
                }
            }
            if (all_rejected(tasks)) {
                throw Error(fmt::format("{} could not run{}", what, rejected));
            }
            if (Clock::now() > deadline) {
                throw Error(fmt::format("{} could not run within {}s{}", what,
                                        k_one_off_timeout.count(), rejected));
            }
            cancel::sleep(std::chrono::milliseconds(300));
        }
    } catch (...) {
        context.docker.remove_services({job.name});
        throw;
    }
}

std::vector<std::string> wait_running(Context& context, const std::string& service, int count,
                                      std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        std::vector<std::string> addresses;
        std::string problems;
        for (const auto& task : context.docker.service_tasks(service)) {
            if (task.desired_state != "running") {
                continue;
            }
            if (task.running() && !task.addresses.empty()) {
                addresses.push_back(task.addresses.front());
            } else if (!task.error.empty()) {
                problems = fmt::format("{} on {}: {}", task.state, node_name(context, task.node_id),
                                       task.error);
            }
        }
        if (static_cast<int>(addresses.size()) >= count) {
            addresses.resize(static_cast<size_t>(count));
            return addresses;
        }
        if (Clock::now() > deadline) {
            throw Error(fmt::format("{} runs {} of {} task(s) after {}s{}", service,
                                    addresses.size(), count, timeout.count(),
                                    problems.empty() ? "" : " (" + problems + ")"));
        }
        cancel::sleep(std::chrono::milliseconds(300));
    }
}

docker::Mount environment_volume(const state::Environment& env, const std::string& which,
                                 const std::string& at, bool read_only) {
    if (env.volume_driver.empty()) {
        return docker::Mount::bind_of(fmt::format("{}/{}/{}", env.shared_path, env.name, which), at,
                                      read_only);
    }
    docker::Mount mounted(fmt::format("pallet-{}-{}", env.name, which), at, read_only);
    mounted.driver = env.volume_driver;
    for (const auto& [key, value] : env.volume_options) {
        mounted.options[key] = util::replace_all(value, "{volume}", which);
    }
    return mounted;
}

std::vector<docker::Mount> storage_mounts(const state::Environment& env,
                                          const std::string& storage_at,
                                          const std::string& static_at, bool static_read_only) {
    std::vector<docker::Mount> mounts;
    if (!storage_at.empty()) {
        mounts.push_back(environment_volume(env, "storage", storage_at, false));
    }
    if (!static_at.empty()) {
        mounts.push_back(environment_volume(env, "static", static_at, static_read_only));
    }
    return mounts;
}

std::string storage_place(const state::Environment& env) {
    return env.volume_driver.empty()
               ? fmt::format("{}/{}", env.shared_path, env.name)
               : fmt::format("the volumes {} and {} ({})", state::storage_volume(env.name),
                             state::static_volume(env.name), env.volume_driver);
}

}  // namespace pallet::orchestrator::swarm
