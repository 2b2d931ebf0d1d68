#include "phases/swarm.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "docker/failure.h"
#include "docker/reference.h"
#include "phases/launch.h"
#include "phases/router.h"
#include "state/history.h"
#include "state/labels.h"
#include "state/snapshot.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases::swarm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_start_timeout = std::chrono::seconds(120);  // a task to be scheduled and start
constexpr auto k_dns_timeout = std::chrono::seconds(15);     // the swarm's DNS to list new tasks
constexpr double k_lock_being_taken_seconds = 60;
constexpr size_t k_kept_results = 50;  // deploy results (history)
constexpr size_t k_kept_outputs = 5;   // deploy outputs (logs)

std::string lock_name(const std::string& env, const char* what) {
    return fmt::format("pallet-{}-{}-lock", env, what);
}

std::vector<std::string> filters(const std::string& env, const char* phase) {
    return {fmt::format("{}=true", state::label::k_managed), state::env_filter(env),
            state::phase_filter(phase)};
}

// A one-off task's service for the environment (a check, a hand-over, a removal).
docker::ServiceSpec one_off(const state::Environment& env, const std::string& image) {
    docker::ServiceSpec job;
    job.name = fmt::format("pallet-{}-check-{}", env.name, state::random_id());
    job.image = image;
    job.labels = state::base_labels(env.name, state::phase::k_check);
    return job;
}

// Mounts the environment's /storage (unless `storage_at` is empty) and /static into `spec` at
// those paths: DIR/ENV/storage and DIR/ENV/static of the shared path, or the volumes of the
// environment's driver ("{volume}" in an option's value stands for storage or static).
void mount_storage(docker::ServiceSpec& spec, const state::Environment& env,
                   const std::string& storage_at, const std::string& static_at,
                   bool static_read_only) {
    const auto mount = [&](const char* which, const std::string& volume, const std::string& at,
                           bool read_only) {
        if (at.empty()) {
            return;
        }
        if (env.volume_driver.empty()) {
            spec.binds.push_back(
                {fmt::format("{}/{}/{}", env.shared_path, env.name, which), at, read_only});
            return;
        }
        docker::ServiceSpec::Volume mounted{volume, at, read_only, env.volume_driver, {}};
        for (const auto& [key, value] : env.volume_options) {
            mounted.options[key] = util::replace_all(value, "{volume}", which);
        }
        spec.volumes.push_back(mounted);
    };
    mount("storage", state::storage_volume(env.name), storage_at, false);
    mount("static", state::static_volume(env.name), static_at, static_read_only);
}

// Where /storage and /static of the environment are, for messages.
std::string storage_place(const state::Environment& env) {
    return env.volume_driver.empty()
               ? fmt::format("{}/{}", env.shared_path, env.name)
               : fmt::format("the volumes {} and {} ({})", state::storage_volume(env.name),
                             state::static_volume(env.name), env.volume_driver);
}

// A node's name, for messages.
std::string node_name(Context& context, const std::string& id) {
    for (const auto& node : context.docker.list_nodes()) {
        if (node.id == id) {
            return node.hostname;
        }
    }
    return id.substr(0, 12);
}

// One-off work (a deploy, checks) runs as a service whose task is never restarted, not as a swarm
// job: the swarm never removes the tasks of a removed job, and their containers stay on every
// node (moby/moby#42789, #44312). Such a task never runs twice, also not after a rejection.
constexpr const char* k_once = "none";

// A task that ran (exited, or was running when its node was lost), as opposed to one a node
// rejected before it started (a missing image or bind source).
bool ran(const docker::TaskRecord& task) { return task.ended() && task.state != "rejected"; }

// Tasks that all ended without running: nothing more will happen.
bool all_rejected(const std::vector<docker::TaskRecord>& tasks) {
    return !tasks.empty() && std::all_of(tasks.begin(), tasks.end(),
                                         [](const auto& task) { return task.state == "rejected"; });
}

// What went wrong with a task, for messages.
std::string task_problem(const docker::TaskRecord& task) {
    return task.error.empty() ? task.state : task.error;
}

// Runs the one-off `job` once on every node that takes tasks (a global service of tasks never
// restarted), waits at most 90s and removes it; returns what went wrong, by node name (empty when
// nothing did).
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
    const auto deadline = Clock::now() + std::chrono::seconds(90);
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
                throw Error(fmt::format("{} did not end within 90s on node(s) {}", what, waiting));
            }
            cancel::sleep(std::chrono::milliseconds(300));
        }
    } catch (...) {
        context.docker.remove_services({job.name});
        throw;
    }
}

// Runs the one-off `job` once (one task, never restarted), waits at most 90s for it to run and
// removes it; returns the task that ran. Throws with the rejection when it could not start.
docker::TaskRecord run_once(Context& context, docker::ServiceSpec job, const char* what) {
    job.mode = "replicated";
    job.replicas = 1;
    job.restart_condition = k_once;
    context.docker.create_service(job);
    const auto deadline = Clock::now() + std::chrono::seconds(90);
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
            }
            if (all_rejected(tasks)) {
                throw Error(fmt::format("{} could not run{}", what, rejected));
            }
            if (Clock::now() > deadline) {
                throw Error(fmt::format("{} could not run within 90s{}", what, rejected));
            }
            cancel::sleep(std::chrono::milliseconds(300));
        }
    } catch (...) {
        context.docker.remove_services({job.name});
        throw;
    }
}

// Hands /storage and /static to the user `image` runs as (a one-off task; not world-writable; the
// directories themselves only, as on an engine).
void hand_storage_to(Context& context, const state::Environment& env, const ResolvedImage& image) {
    const auto ids = image_user_ids(context, image);
    if (!ids || context.docker.dry_run()) {
        return;
    }
    docker::ServiceSpec job = one_off(env, router_image(context));
    mount_storage(job, env, "/environment/storage", "/environment/static", false);
    job.command = {"sh", "-c",
                   fmt::format("chown {}:{} /environment/storage /environment/static && "
                               "chmod 755 /environment/storage /environment/static",
                               ids->uid, ids->gid)};
    const auto task = run_once(context, job, "handing /storage to the image's user");
    if (task.state != "complete") {
        throw Error(fmt::format("could not hand {} to uid {}: {}", storage_place(env), ids->uid,
                                task_problem(task)));
    }
}

// What the swarm's nodes run for `image`: exactly the bytes the manager resolved it to.
std::string pinned(const ResolvedImage& image) {
    return docker::pinned_image(image.ref, image.record.id, image.record.repo_digests);
}

// Without a registry every node needs its own copy of the image: a job on every node finds those
// that lack it, before anything of the version runs.
void check_image_everywhere(Context& context, const state::Environment& env,
                            const ResolvedImage& image) {
    if (context.docker.dry_run()) {
        return;
    }
    docker::ServiceSpec job = one_off(env, pinned(image));
    job.entrypoint = "true";  // nothing of the application runs
    std::string missing;
    for (const auto& [node, problem] : run_on_every_node(context, job, "the check of the image")) {
        if (docker::classify(problem) == docker::Failure::no_such_image) {
            missing += (missing.empty() ? "" : ", ") + node;
        }
        // Anything else (an image without `true`) is no missing image.
    }
    if (!missing.empty()) {
        throw Error(fmt::format(
            "{} ({}) is not on node(s) {}: every node runs exactly the image of the manager. Load "
            "it there (docker save {} | docker -H NODE load; a node with another build under that "
            "name needs this one) or push it to a registry every node can pull from",
            image.ref, pinned(image).substr(0, 19), missing, image.ref, image.ref));
    }
}

// The serve lock of a swarm environment: a config named after it (names are unique on a swarm);
// one older than any change may take is left by a command that died, and is taken over.
class SwarmServeLock {
  public:
    SwarmServeLock(Context& context, const state::Environment& env,
                   std::chrono::seconds stale_after)
        : m_context(context), m_name(lock_name(env.name, "serve")) {
        if (context.docker.dry_run()) {
            return;
        }
        auto labels = state::base_labels(env.name, state::phase::k_serve_lock);
        labels[state::label::k_user] = context.actor_user;
        labels[state::label::k_host] = context.actor_host;
        bool announced = false;
        while (context.docker.create_config(m_name, labels, "") != docker::StartOutcome::started) {
            auto holders =
                context.docker.list_configs(filters(env.name, state::phase::k_serve_lock));
            if (!holders.empty()) {
                const auto& holder = holders.front();
                const double age = context.docker.engine_now() - state::created_at(holder);
                if (age > static_cast<double>(stale_after.count())) {
                    context.step(
                        "taking over the lock of {} left by {}@{} {}", env.name,
                        holder.label(state::label::k_user), holder.label(state::label::k_host),
                        state::time_ago(state::created_at(holder), context.docker.engine_now()));
                    context.docker.remove_configs({holder.id});
                    continue;
                }
                if (!announced) {
                    context.step("waiting for {}@{} to finish changing what {} serves",
                                 holder.label(state::label::k_user),
                                 holder.label(state::label::k_host), env.name);
                    announced = true;
                }
            }
            cancel::sleep(std::chrono::milliseconds(300));
        }
        m_held = true;
    }
    ~SwarmServeLock() {
        if (m_held) {
            m_context.docker.remove_configs({m_name});
        }
    }
    SwarmServeLock(const SwarmServeLock&) = delete;
    SwarmServeLock& operator=(const SwarmServeLock&) = delete;

  private:
    Context& m_context;
    std::string m_name;
    bool m_held = false;
};

// The environment's swarm objects, read at once.
struct SwarmState {
    std::vector<docker::ServiceRecord> serving;  // serve services, newest first
    std::optional<docker::ServiceRecord> router;
    std::vector<docker::ContainerRecord> deploy_results;  // newest first
    std::vector<docker::ContainerRecord> serve_records;   // newest first
};

SwarmState read_state(Context& context, const std::string& env) {
    SwarmState state;
    for (auto& service : context.docker.list_services({state::env_filter(env)})) {
        const std::string phase = service.label(state::label::k_phase);
        if (phase == state::phase::k_serve) {
            state.serving.push_back(service);
        } else if (phase == state::phase::k_router) {
            state.router = service;
        }
    }
    std::sort(state.serving.begin(), state.serving.end(),
              [](const auto& a, const auto& b) { return a.created > b.created; });
    for (auto& config : context.docker.list_configs({state::env_filter(env)})) {
        const std::string phase = config.label(state::label::k_phase);
        if (phase == state::phase::k_deploy_result) {
            state.deploy_results.push_back(config);
        } else if (phase == state::phase::k_serve_record) {
            state.serve_records.push_back(config);
        }
    }
    state::newest_first(state.deploy_results);
    state::newest_first(state.serve_records);
    return state;
}

void ensure_network(Context& context, const state::Environment& env) {
    if (!context.docker.list_networks({state::env_filter(env.name)}).empty()) {
        return;
    }
    try {
        context.docker.create_overlay_network(
            state::network_name(env.name),
            state::base_labels(env.name, state::phase::k_environment));
    } catch (const docker::DockerError& e) {
        if (e.failure() != docker::Failure::exists) {
            throw;
        }
    }
}

// The newest first of the environment's configs of `phase` (no other phase's data is read).
std::vector<docker::ContainerRecord> configs_of(Context& context, const std::string& env,
                                                const char* phase) {
    auto records =
        context.docker.list_configs({state::env_filter(env), state::phase_filter(phase)});
    state::newest_first(records);
    return records;
}

// Removes all but the newest `kept` of `records` (newest first).
void prune(Context& context, const std::vector<docker::ContainerRecord>& records, size_t kept) {
    std::vector<std::string> old;
    for (size_t i = kept; i < records.size(); ++i) {
        old.push_back(records[i].id);
    }
    context.docker.remove_configs(old);
}

// Records how a deploy job ended and what it printed (once; a later command may find it ended
// first), then removes the job, so that the swarm never runs that deploy again by itself (a
// job can run again after a change of leader).
void record_result(Context& context, const state::Environment& env,
                   const docker::ContainerRecord& lock, const docker::TaskRecord& task) {
    const std::string job = lock.label(state::label::k_job);
    const std::string suffix = job.substr(job.rfind('-') + 1);
    auto labels = state::base_labels(env.name, state::phase::k_deploy_result);
    for (const char* key : {state::label::k_version, state::label::k_image_id, state::label::k_user,
                            state::label::k_host}) {
        labels[key] = lock.label(key);
    }
    labels[state::label::k_job] = job;
    labels[state::label::k_started] = fmt::format("{:.0f}", state::created_at(lock));
    labels[state::label::k_finished] = fmt::format(
        "{:.0f}", docker::parse_docker_time(task.updated).value_or(context.docker.engine_now()));
    labels[state::label::k_result] = task.state == "complete" ? "succeeded"
                                     : task.exit_code && task.state == "failed"
                                         ? fmt::format("failed (exit {})", *task.exit_code)
                                     : task.state == "shutdown" || task.state == "orphaned"
                                         ? "failed (its node was lost)"
                                         : fmt::format("failed ({})", task_problem(task));
    // The output's last 64 KiB, apart from the records that status and history read (unmanaged).
    std::string output = context.docker.service_logs(job);
    if (output.size() > 64 * 1024) {
        output = "[...]\n" + output.substr(output.find('\n', output.size() - 64 * 1024) + 1);
    }
    auto output_labels = state::base_labels(env.name, state::phase::k_deploy_output);
    output_labels.erase(state::label::k_managed);
    output_labels[state::label::k_job] = job;
    output_labels[state::label::k_version] = lock.label(state::label::k_version);
    context.docker.create_config(fmt::format("pallet-{}-output-{}", env.name, suffix),
                                 output_labels, output.empty() ? "(no output)\n" : output);
    context.docker.create_config(fmt::format("pallet-{}-deployed-{}", env.name, suffix), labels,
                                 "");
    context.docker.remove_services({job});
    prune(context, configs_of(context, env.name, state::phase::k_deploy_output), k_kept_outputs);
    prune(context, configs_of(context, env.name, state::phase::k_deploy_result), k_kept_results);
}

// True while the deploy lock names `job`.
bool holds_lock(Context& context, const state::Environment& env, const std::string& job) {
    const auto locks = context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock));
    return std::any_of(locks.begin(), locks.end(),
                       [&](const auto& lock) { return lock.label(state::label::k_job) == job; });
}

// How a deploy job that a command recorded ended, for one that followed it too.
int recorded_outcome(Context& context, const state::Environment& env, const std::string& job) {
    for (const auto& result : configs_of(context, env.name, state::phase::k_deploy_result)) {
        if (result.label(state::label::k_job) == job) {
            const std::string outcome = result.label(state::label::k_result);
            if (outcome == "succeeded") {
                context.step("deploy of {} to {} succeeded", result.label(state::label::k_version),
                             env.name);
                return 0;
            }
            context.note("docker-pallet: error: deploy of {} to {} {}; it will not be served",
                         result.label(state::label::k_version), env.name, outcome);
            return 1;
        }
    }
    throw Error(fmt::format("the deploy service {} is gone and left no result", job));
}

// Follows the deploy job: its output live, until its task has run. On cancellation it goes on.
int follow_job(Context& context, const state::Environment& env,
               const docker::ContainerRecord& lock) {
    const std::string job = lock.label(state::label::k_job);
    try {
        std::unique_ptr<docker::BackgroundProcess> output;
        if (context.shows_logs()) {
            context.output_follows();
            output = context.docker.follow_service_logs(job);
        }
        const auto deadline = Clock::now() + k_start_timeout;
        while (true) {
            auto tasks = context.docker.service_tasks(job);
            if (tasks.empty() && !holds_lock(context, env, job)) {
                output.reset();
                return recorded_outcome(context, env, job);  // another command recorded it
            }
            const auto done = std::find_if(tasks.begin(), tasks.end(), ran);
            if (done != tasks.end()) {
                cancel::sleep(std::chrono::milliseconds(500));  // the last lines arrive
                output.reset();
                const docker::TaskRecord task = *done;
                record_result(context, env, lock, task);
                context.docker.remove_configs({lock.id});
                const std::string version = lock.label(state::label::k_version);
                if (task.state == "complete") {
                    context.step("deploy of {} to {} succeeded (on {})", version, env.name,
                                 node_name(context, task.node_id));
                    return 0;
                }
                context.note(
                    "docker-pallet: error: deploy of {} to {} failed ({}{}); it will not be "
                    "served\n",
                    version, env.name,
                    task.exit_code ? fmt::format("exit {}", *task.exit_code) : task.state,
                    task.error.empty() ? "" : ": " + task.error);
                return task.exit_code.value_or(1) == 0 ? 1 : task.exit_code.value_or(1);
            }
            const bool started =
                std::any_of(tasks.begin(), tasks.end(), [](const auto& t) { return t.running(); });
            if (all_rejected(tasks) || (!started && Clock::now() > deadline)) {
                // It never ran: removing it kills nothing.
                std::string why = "no task";
                for (const auto& task : tasks) {
                    why = fmt::format("{} on {}", task_problem(task),
                                      node_name(context, task.node_id));
                }
                context.docker.remove_services({job});
                context.docker.remove_configs({lock.id});
                throw Error(
                    fmt::format("the deploy of {} could not start within {}s ({}); nothing ran",
                                lock.label(state::label::k_version), k_start_timeout.count(), why));
            }
            cancel::sleep(std::chrono::milliseconds(500));
        }
    } catch (const Cancelled&) {
        context.note(
            "docker-pallet: the deploy goes on as the swarm service {} (a deploy is never "
            "killed); follow it with: {}\n",
            job, context.command(fmt::format("service logs -f {}", job)));
        throw;
    }
}

// Waits until `service` runs `replicas` tasks; returns their addresses on the environment's
// network. Throws with the tasks' states and errors when they do not within `timeout`.
std::vector<std::string> wait_running(Context& context, const std::string& service, int replicas,
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
        if (static_cast<int>(addresses.size()) >= replicas) {
            addresses.resize(static_cast<size_t>(replicas));
            return addresses;
        }
        if (Clock::now() > deadline) {
            throw Error(fmt::format("{} runs {} of {} task(s) after {}s{}", service,
                                    addresses.size(), replicas, timeout.count(),
                                    problems.empty() ? "" : " (" + problems + ")"));
        }
        cancel::sleep(std::chrono::milliseconds(300));
    }
}

std::string this_node(Context& context) { return context.docker.info("{{.Swarm.NodeID}}"); }

std::string router_service(const std::string& env) { return fmt::format("pallet-{}-router", env); }

// The running task container of the environment's router, which the plugin reaches through the
// engine addressed. Says at once when the router runs on another node, and why the swarm cannot
// place it (its port taken there) once that has lasted 10s.
docker::ContainerRecord router_task_container(Context& context, const state::Environment& env) {
    const std::string service = router_service(env.name);
    const auto placing = Clock::now() + std::chrono::seconds(10);
    const auto deadline = Clock::now() + k_start_timeout;
    std::string here;
    while (true) {
        std::string failed;  // why a task of the router failed (the swarm starts another)
        for (const auto& task : context.docker.service_tasks(service)) {
            if (!task.error.empty()) {
                failed = task.error;
            }
            if (task.desired_state != "running") {
                continue;
            }
            if (task.running()) {
                if (here.empty()) {
                    here = this_node(context);
                }
                if (task.node_id != here) {
                    throw Error(
                        fmt::format("the router of {} runs on node {}: address that node's "
                                    "engine (docker --host or --context) to serve, scale or "
                                    "roll back",
                                    env.name, node_name(context, task.node_id)));
                }
                for (const auto& container :
                     context.docker.list_containers({"com.docker.swarm.service.name=" + service})) {
                    if (container.running) {
                        docker::ContainerRecord record;
                        record.id = container.id;  // an id without a name: a swarm task's container
                        record.running = true;
                        record.labels[state::label::k_router_config] = "/pallet/nginx.conf";
                        return record;
                    }
                }
            }
        }
        if (!failed.empty() && Clock::now() > placing) {
            const bool port_taken = docker::classify(failed) == docker::Failure::port_taken;
            throw Error(
                fmt::format("the router of {} cannot start{}: {}", env.name,
                            port_taken ? fmt::format(" (port {} of its node is in use by something "
                                                     "else: free it)",
                                                     env.port)
                                       : "",
                            failed));
        }
        if (Clock::now() > deadline) {
            throw Error(fmt::format("the router of {} did not start within {}s", env.name,
                                    k_start_timeout.count()));
        }
        cancel::sleep(std::chrono::milliseconds(300));
    }
}

// Starts the router service, pinned to the node addressed (or --router-node) and published in
// host mode on the environment's port there.
void start_router(Context& context, const state::Environment& env) {
    docker::ServiceSpec spec;
    spec.name = router_service(env.name);
    spec.image = router_image(context);
    spec.command = {"sh", "-c", router_entry()};
    spec.env = {{"PALLET_ROUTER_CONFIG", router_config(env, {})}};
    spec.labels = state::base_labels(env.name, state::phase::k_router);
    spec.container_labels = spec.labels;
    spec.container_labels[state::label::k_router_config] = "/pallet/nginx.conf";
    spec.network = state::network_name(env.name);
    spec.volumes = {{state::router_volume(env.name), "/pallet", false, "", {}}};
    mount_storage(spec, env, "", "/static", true);
    spec.publish = {fmt::format("mode=host,target=80,published={}", env.port)};
    spec.constraints = {env.router_node.empty() ? "node.id==" + this_node(context)
                                                : "node.hostname==" + env.router_node};
    spec.restart_condition = "any";
    if (context.docker.create_service(spec) == docker::StartOutcome::name_taken) {
        return;  // started concurrently
    }
}

// The serve events of a swarm environment: configs, like the rest of its records.
void record_event(Context& context, const state::Environment& env, const ResolvedImage& image,
                  const std::string& result, const std::string& detail,
                  const std::vector<docker::ContainerRecord>& known) {
    auto labels = state::base_labels(env.name, state::phase::k_serve_record);
    labels[state::label::k_version] = image.ref;
    labels[state::label::k_image_id] = image.record.id;
    labels[state::label::k_result] = result;
    labels[state::label::k_user] = context.actor_user;
    labels[state::label::k_host] = context.actor_host;
    labels[state::label::k_detail] = detail;
    context.docker.create_config(fmt::format("pallet-{}-served-{}", env.name, state::now_millis()),
                                 labels, "");
    std::vector<std::string> old;
    for (size_t i = 49; i < known.size(); ++i) {
        old.push_back(known[i].id);
    }
    context.docker.remove_configs(old);
}

std::chrono::seconds lock_stale_after(const state::Environment& env) {
    return std::chrono::seconds(env.health_timeout + k_start_timeout.count() + env.drain_ms / 1000 +
                                180);
}

// Sends the router's requests to `service` through the swarm's DNS, so that a task the swarm
// starts later (in place of one on a lost node) gets requests without a command of ours; once the
// router's node resolves it to exactly `addresses` (the gated tasks), never before. When the DNS
// does not agree in time, the router names the addresses instead.
void switch_to_service(Context& context, Router& router, const std::string& service,
                       std::vector<std::string> addresses) {
    std::sort(addresses.begin(), addresses.end());
    const auto deadline = Clock::now() + k_dns_timeout;
    while (router.resolve(service) != addresses) {
        if (Clock::now() > deadline) {
            context.step(
                "warning: the swarm's DNS did not list just the tasks of {} within {}s; "
                "the router names them instead (tasks the swarm replaces get requests "
                "after the next serve or scale)",
                service, k_dns_timeout.count());
            router.switch_to({addresses, ""});
            return;
        }
        cancel::sleep(std::chrono::milliseconds(200));
    }
    router.switch_to({{}, service});
}

// Puts the `fresh` tasks of `service` behind the router once each answers like a user's request
// would; then all of `all`.
void gate_and_switch(Context& context, const state::Environment& env, Router& router,
                     const std::string& service, const std::vector<std::string>& fresh,
                     const std::vector<std::string>& all) {
    const auto deadline = Clock::now() + std::chrono::seconds(env.health_timeout);
    for (const auto& address : fresh) {
        while (true) {
            HealthAnswer answer = router.probe(address, env.health_path);
            if (answer.healthy) {
                break;
            }
            if (Clock::now() > deadline) {
                throw Error(
                    fmt::format("the task at {} did not answer GET {} (Host: {}) with a "
                                "status below 400 within {}s; the last answer: {}",
                                address, env.health_path, env.site_domain, env.health_timeout,
                                answer.evidence));
            }
            cancel::sleep(std::chrono::milliseconds(250));
        }
    }
    switch_to_service(context, router, service, all);
}

}  // namespace

std::optional<state::Environment> find(Context& context, const std::string& env) {
    auto envs = state::newest_environments(
        context.docker.list_configs(filters(env, state::phase::k_config)),
        context.command("pallet"));
    auto it = envs.find(env);
    if (it == envs.end()) {
        return std::nullopt;
    }
    state::learn_secrets(context.docker.redactor(), it->second);
    return it->second;
}

void require_manager(Context& context) {
    const std::string role = context.docker.swarm_role();
    if (role != "manager") {
        throw Error(fmt::format(
            "the engine addressed is {}; a swarm environment needs a swarm manager. Make this "
            "engine one with: {}, or address a manager (--context, --host)",
            role.empty() ? "in no swarm" : "a swarm worker", context.command("swarm init")));
    }
}

namespace {

// Where /storage and /static live: a shared path, or volumes of a driver, one of them.
void check_storage_settings(const state::Environment& env) {
    const char* usage = "docker pallet env create";
    if (env.shared_path.empty() == env.volume_driver.empty()) {
        throw UsageError(
            "a swarm environment needs one of --shared-path DIR (an absolute path that "
            "is the same filesystem on every node, an NFS mount) or --volume-driver "
            "DRIVER with --volume-opt KEY=VALUE (volumes every node mounts from one "
            "storage), for /storage and /static",
            usage);
    }
    if (!env.shared_path.empty() && env.shared_path[0] != '/') {
        throw UsageError(
            fmt::format("--shared-path takes an absolute path, not {}", env.shared_path), usage);
    }
    if (env.volume_driver.empty()) {
        if (!env.volume_options.empty()) {
            throw UsageError("--volume-opt goes with --volume-driver", usage);
        }
        return;
    }
    bool per_volume = false;
    for (const auto& [key, value] : env.volume_options) {
        std::string lower = key + "=" + value;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (lower.find("pass") != std::string::npos || lower.find("secret") != std::string::npos) {
            throw UsageError(fmt::format("--volume-opt {}: a password would be on docker's command "
                                         "line; give the driver a credentials file on every node "
                                         "instead (cifs: credentials=FILE)",
                                         key),
                             usage);
        }
        per_volume = per_volume || value.find("{volume}") != std::string::npos;
    }
    if (env.volume_driver == "local" && !per_volume) {
        throw UsageError(
            "with --volume-driver local, /storage and /static would be the same "
            "directory: put {volume} in the device's path (--volume-opt "
            "device=:/export/app/{volume}), and make its storage and static there",
            usage);
    }
}

}  // namespace

void check_new_environment(Context& context, const state::Environment& env) {
    require_manager(context);
    check_storage_settings(env);
    if (env.port == 0) {
        throw UsageError(
            "a swarm environment needs --port PORT: its router publishes that port "
            "on its node",
            "docker pallet env create");
    }
    if (env.bind_address != "127.0.0.1" && env.bind_address != "0.0.0.0") {
        throw UsageError(fmt::format("a swarm router publishes its port on every address of its "
                                     "node (the swarm's host mode binds no single address): give "
                                     "--port {}, and a firewall where {} alone should reach it",
                                     env.port, env.bind_address),
                         "docker pallet env create");
    }
    for (const auto& [name, other] : state::newest_environments(
             context.docker.list_configs({state::phase_filter(state::phase::k_config)}),
             context.command("pallet"))) {
        if (name != env.name && other.port == env.port && other.router_node == env.router_node) {
            throw Error(
                fmt::format("port {} is the port of the swarm environment {} on the same "
                            "node; choose another --port",
                            env.port, name));
        }
    }
    if (context.docker.dry_run()) {
        return;
    }
    if (env.volume_driver.empty()) {
        // One task on every node: it fails where the shared path is missing, and makes the
        // environment's directories (once is enough on a shared filesystem).
        docker::ServiceSpec check = one_off(env, router_image(context));
        check.binds = {{env.shared_path, env.shared_path, false}};
        check.command = {
            "sh",    "-c", "mkdir -p \"$1/$2/storage\" \"$1/$2/static\"", "sh", env.shared_path,
            env.name};
        context.step("checking {} on every node", env.shared_path);
        for (const auto& [node, problem] :
             run_on_every_node(context, check, "the check of the shared path")) {
            throw Error(
                fmt::format("{} is not usable on node {}: {}; it must exist on every node "
                            "(the same shared filesystem)",
                            env.shared_path, node, problem));
        }
        return;
    }
    // The volumes: one task writes a mark into /storage, a task on every node looks for it (the
    // volumes must be the same storage everywhere), one task removes it.
    context.step("checking the volumes of driver {} on every node", env.volume_driver);
    const std::string mark =
        fmt::format("/environment/storage/.pallet-check-{}", state::random_id());
    const auto run = [&](const std::string& script, bool everywhere) {
        docker::ServiceSpec check = one_off(env, router_image(context));
        mount_storage(check, env, "/environment/storage", "/environment/static", false);
        check.command = {"sh", "-c", script, "sh", mark};
        std::map<std::string, std::string> problems;
        if (everywhere) {
            problems = run_on_every_node(context, check, "the check of the volumes");
        } else if (const auto task = run_once(context, check, "the check of the volumes");
                   task.state != "complete") {
            problems[node_name(context, task.node_id)] = task_problem(task);
        }
        return problems;
    };
    try {
        for (const auto& [node, problem] : run("touch \"$1\"", false)) {
            throw Error(fmt::format("the volumes of driver {} cannot be used (node {}: {})",
                                    env.volume_driver, node, problem));
        }
        auto unshared = run("test -f \"$1\"", true);
        run("rm -f \"$1\"", false);
        for (const auto& [node, problem] : unshared) {
            throw Error(
                fmt::format("the volumes of driver {} are not the same storage on every node: "
                            "node {} does not see what another node wrote ({}); give options "
                            "that mount one shared storage (an NFS export, with {{volume}} in "
                            "its path)",
                            env.volume_driver, node, problem));
        }
    } catch (...) {
        // The entries the check made on this node go (other nodes' are theirs: docker volume
        // prune).
        context.docker.remove_volumes(
            {state::storage_volume(env.name), state::static_volume(env.name)});
        throw;
    }
}

int deploy(Context& context, const state::Environment& env, const DeployOptions& options,
           const ResolvedImage& image) {
    require_manager(context);
    check_image_everywhere(context, env, image);
    ensure_network(context, env);
    hand_storage_to(context, env, image);
    const auto started_waiting = Clock::now();
    bool announced = false;
    while (true) {
        const std::string job = fmt::format("pallet-{}-deploy-{}", env.name, state::now_millis());
        auto lock_labels = state::base_labels(env.name, state::phase::k_deploy_lock);
        lock_labels[state::label::k_version] = image.ref;
        lock_labels[state::label::k_image_id] = image.record.id;
        lock_labels[state::label::k_user] = context.actor_user;
        lock_labels[state::label::k_host] = context.actor_host;
        lock_labels[state::label::k_job] = job;
        if (context.docker.create_config(lock_name(env.name, "deploy"), lock_labels, "") ==
            docker::StartOutcome::started) {
            docker::ServiceSpec spec;
            spec.name = job;
            spec.image = pinned(image);
            spec.command = {"deploy"};
            spec.env = phase_variables(env, state::phase::k_deploy);
            spec.labels = lock_labels;
            spec.labels[state::label::k_phase] = state::phase::k_deploy;
            spec.container_labels = state::base_labels(env.name, state::phase::k_deploy);
            spec.network = state::network_name(env.name);
            mount_storage(spec, env, "/storage", "/static", false);
            spec.mode = "replicated";
            spec.replicas = 1;
            spec.restart_condition = k_once;  // a deploy runs once: never again by itself
            try {
                context.docker.create_service(spec);
            } catch (...) {
                context.docker.remove_configs({lock_name(env.name, "deploy")});
                throw;
            }
            if (context.docker.dry_run()) {
                return 0;
            }
            context.step("deploying {} to {} (swarm service {})", image.ref, env.name, job);
            auto locks =
                context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock));
            if (locks.empty()) {
                throw Error("the deploy lock of " + env.name + " vanished");
            }
            return follow_job(context, env, locks.front());
        }
        auto locks = context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock));
        if (locks.empty()) {
            continue;  // released meanwhile
        }
        const auto& holder = locks.front();
        const std::string holder_job = holder.label(state::label::k_job);
        auto tasks = context.docker.service_tasks(holder_job);
        const double age = context.docker.engine_now() - state::created_at(holder);
        const std::string who =
            fmt::format("{} (started by {}@{} {})", holder.label(state::label::k_version),
                        holder.label(state::label::k_user), holder.label(state::label::k_host),
                        state::time_ago(state::created_at(holder), context.docker.engine_now()));
        if (tasks.empty() && age > k_lock_being_taken_seconds) {
            // Its command died before the job started, or after recording its end.
            context.docker.remove_configs({holder.id});
            continue;
        }
        if (const auto done = std::find_if(tasks.begin(), tasks.end(), ran); done != tasks.end()) {
            record_result(context, env, holder, *done);  // its command died: record it now
            context.docker.remove_configs({holder.id});
            continue;
        }
        if (holder.label(state::label::k_image_id) == image.record.id && !tasks.empty()) {
            context.step("a deploy of the same version is running: {}; following it", who);
            return follow_job(context, env, holder);
        }
        if (!options.wait) {
            throw Error(fmt::format(
                "another version is being deployed to {}: {}.\nWait for it with "
                "--wait, or follow it with: {}",
                env.name, who, context.command(fmt::format("service logs -f {}", holder_job))));
        }
        if (options.wait->count() > 0 && Clock::now() - started_waiting > *options.wait) {
            throw Error(fmt::format("gave up waiting after {} for the deploy of {} to end",
                                    util::format_duration(*options.wait), who));
        }
        if (!announced) {
            context.step("waiting for the deploy of {} to end", who);
            announced = true;
        }
        cancel::sleep(std::chrono::milliseconds(500));
    }
}

std::string running_deploy(Context& context, const state::Environment& env) {
    for (const auto& lock :
         context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock))) {
        auto tasks = context.docker.service_tasks(lock.label(state::label::k_job));
        if (!tasks.empty() && std::none_of(tasks.begin(), tasks.end(), ran)) {
            return lock.label(state::label::k_version);
        }
    }
    return "";
}

int remove(Context& context, const state::Environment& env, bool volumes) {
    state::EnvironmentStore(context.docker).remove(env.name, false);
    // The router's node (the one addressed) made a volume for its configuration: nothing to keep.
    context.docker.remove_volumes({state::router_volume(env.name)});
    if (!volumes) {
        context.done("removed {}; its /storage and /static stay in {} (rm --volumes removes them)",
                     env.name, storage_place(env));
        return 0;
    }
    if (!context.docker.dry_run()) {
        docker::ServiceSpec job = one_off(env, router_image(context));
        if (env.volume_driver.empty()) {
            job.binds = {{env.shared_path, "/shared", false}};
            job.command = {"rm", "-rf", "--", "/shared/" + env.name};
        } else {
            mount_storage(job, env, "/environment/storage", "/environment/static", false);
            job.command = {
                "find", "/environment/storage", "/environment/static", "-mindepth", "1", "-delete"};
        }
        const auto task = run_once(context, job, "the removal of /storage and /static");
        if (task.state != "complete") {
            throw Error(fmt::format("removed {}, but not what {} holds: {}", env.name,
                                    storage_place(env), task_problem(task)));
        }
    }
    if (!env.volume_driver.empty()) {
        // The files are gone; the volume objects are the nodes' own: those of this one go too.
        context.docker.remove_volumes(
            {state::storage_volume(env.name), state::static_volume(env.name)});
        context.done(
            "removed {} and the files of its volumes (other nodes keep empty volume "
            "entries {} and {}: docker volume prune there)",
            env.name, state::storage_volume(env.name), state::static_volume(env.name));
        return 0;
    }
    context.done("removed {} and {}/{}", env.name, env.shared_path, env.name);
    return 0;
}

int logs(Context& context, const state::Environment& env, const std::string& phase, bool follow) {
    if (phase == state::phase::k_deploy) {
        // A running deploy's job; else what the last one printed, as recorded when it ended.
        for (const auto& lock :
             context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock))) {
            const std::string job = lock.label(state::label::k_job);
            if (!context.docker.service_tasks(job).empty()) {
                context.step("deploy of {} (running: swarm job {})",
                             lock.label(state::label::k_version), job);
                context.docker.stream_service_logs(job, follow);
                return 0;
            }
        }
        const auto outputs = configs_of(context, env.name, state::phase::k_deploy_output);
        if (outputs.empty()) {
            throw Error(fmt::format("{} has no deploy yet; run: {} deploy {} IMAGE", env.name,
                                    context.command("pallet"), env.name));
        }
        context.step("deploy of {} (ended)", outputs.front().label(state::label::k_version));
        fmt::print("{}", outputs.front().data);
        return 0;
    }
    auto services = context.docker.list_services(filters(env.name, state::phase::k_serve));
    if (services.empty()) {
        throw Error(fmt::format("{} serves nothing; see {} status {}", env.name,
                                context.command("pallet"), env.name));
    }
    std::sort(services.begin(), services.end(),
              [](const auto& a, const auto& b) { return a.created > b.created; });
    context.step("{} ({}, {} replica(s))", services.front().name,
                 services.front().label(state::label::k_version), services.front().replicas);
    context.docker.stream_service_logs(services.front().name, follow);
    return 0;
}

int serve(Context& context, const state::Environment& env, const ServeOptions& options,
          const ResolvedImage* known) {
    require_manager(context);
    SwarmServeLock lock(context, env, lock_stale_after(env));
    SwarmState state = read_state(context, env.name);
    std::string ref;
    if (options.image) {
        ref = *options.image;
    } else if (!state.serving.empty()) {
        ref = state.serving.front().label(state::label::k_version);
    } else {
        throw Error(fmt::format("{} serves nothing yet; name the version: {} serve {} IMAGE",
                                env.name, context.command("pallet"), env.name));
    }
    ResolvedImage image =
        known != nullptr && known->ref == ref ? *known : resolve_image(context, ref);
    bool deployed = false;
    for (const auto& result : state.deploy_results) {
        if (result.label(state::label::k_image_id) == image.record.id) {
            deployed = result.label(state::label::k_result) == "succeeded";
            break;
        }
    }
    if (!deployed) {
        throw Error(
            fmt::format("{} has no successful deploy to {} as its last one; a version is "
                        "served only after its deploy succeeded. Run: {} deploy {} {}",
                        image.ref, env.name, context.command("pallet"), env.name, image.ref));
    }
    const int replicas = options.replicas.value_or(
        state.serving.empty() ? 1 : std::max(1, state.serving.front().replicas));
    ensure_network(context, env);
    hand_storage_to(context, env, image);
    // The router first: when it cannot run, nothing else starts (and the one started goes).
    const bool router_was_running = state.router.has_value();
    if (!router_was_running) {
        start_router(context, env);
    }
    docker::ContainerRecord router_record;
    if (!context.docker.dry_run()) {
        try {
            router_record = router_task_container(context, env);
        } catch (...) {
            if (!router_was_running) {
                context.docker.remove_services({router_service(env.name)});
            }
            throw;
        }
    }
    const std::string name = fmt::format("pallet-{}-serve-{}", env.name, state::random_id());
    docker::ServiceSpec spec;
    spec.name = name;
    spec.image = pinned(image);
    spec.command = {"serve"};
    spec.env = phase_variables(env, state::phase::k_serve);
    spec.labels = state::base_labels(env.name, state::phase::k_serve);
    spec.labels[state::label::k_version] = image.ref;
    spec.labels[state::label::k_image_id] = image.record.id;
    spec.labels[state::label::k_user] = context.actor_user;
    spec.labels[state::label::k_host] = context.actor_host;
    spec.container_labels = state::base_labels(env.name, state::phase::k_serve);
    spec.network = state::network_name(env.name);
    mount_storage(spec, env, "/storage", "/static", false);
    spec.replicas = replicas;
    spec.endpoint_mode = "dnsrr";  // no virtual IP: stopped tasks leave DNS at once
    spec.restart_condition = "any";
    context.docker.create_service(spec);
    context.done("started the service {} of {} ({} replica(s))", name, image.ref, replicas);
    if (context.docker.dry_run()) {
        return 0;
    }
    const auto started = Clock::now();
    try {
        auto addresses =
            wait_running(context, name, replicas, std::chrono::seconds(env.health_timeout));
        Router router(context, env, router_record);
        gate_and_switch(context, env, router, name, addresses, addresses);
    } catch (const Cancelled&) {
        context.docker.remove_services({name});
        throw;
    } catch (const Error& e) {
        context.docker.remove_services({name});
        record_event(context, env, image, "failed health check", "", state.serve_records);
        throw Error(fmt::format("{} did not become healthy, so nothing changed for users: {}",
                                image.ref, e.what()));
    }
    std::vector<std::string> old;
    for (const auto& service : state.serving) {
        old.push_back(service.id);
    }
    if (!old.empty()) {
        context.step("switched {} to {}; letting requests in flight finish", env.name, name);
        cancel::sleep(std::chrono::milliseconds(env.drain_ms));
        context.step("removing {} old service(s)", old.size());
        context.docker.remove_services(old);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    record_event(context, env, image, "serving", name, state.serve_records);
    const std::string url = fmt::format("http://{}:{}/", env.bind_address, env.port);
    context.result(url);
    context.step("{} serves {} at {} ({} replica(s), {:.1f}s)", env.name, image.ref, url, replicas,
                 seconds);
    return 0;
}

int scale(Context& context, const state::Environment& env, int replicas) {
    require_manager(context);
    SwarmServeLock lock(context, env, lock_stale_after(env));
    SwarmState state = read_state(context, env.name);
    if (state.serving.empty() || !state.router) {
        throw Error(
            fmt::format("{} serves nothing to scale; serve a version first: {} serve {} IMAGE",
                        env.name, context.command("pallet"), env.name));
    }
    const auto& service = state.serving.front();
    const int now = service.replicas;
    if (replicas == now) {
        context.step("{} already runs {} replica(s)", env.name, now);
        return 0;
    }
    if (context.docker.dry_run()) {
        context.docker.scale_service(service.name, replicas);
        return 0;
    }
    Router router(context, env, router_task_container(context, env));
    if (replicas > now) {
        const auto before =
            wait_running(context, service.name, now, std::chrono::seconds(env.health_timeout));
        router.switch_to({before, ""});  // the new tasks join the DNS before they answer
        context.docker.scale_service(service.name, replicas);
        auto all =
            wait_running(context, service.name, replicas, std::chrono::seconds(env.health_timeout));
        std::vector<std::string> fresh;
        for (const auto& address : all) {
            if (std::find(before.begin(), before.end(), address) == before.end()) {
                fresh.push_back(address);
            }
        }
        gate_and_switch(context, env, router, service.name, fresh, all);
    } else {
        // Swarm removes the highest slots: route to the others first, then let the rest go.
        std::vector<std::string> keep;
        for (const auto& task : context.docker.service_tasks(service.name)) {
            if (task.desired_state == "running" && task.running() && task.slot <= replicas &&
                !task.addresses.empty()) {
                keep.push_back(task.addresses.front());
            }
        }
        if (keep.empty()) {
            throw Error(fmt::format("no task of {} would be left serving", service.name));
        }
        router.switch_to({keep, ""});
        cancel::sleep(std::chrono::milliseconds(env.drain_ms));
        context.docker.scale_service(service.name, replicas);
        switch_to_service(context, router, service.name, keep);
    }
    ResolvedImage image{service.label(state::label::k_version), docker::ImageRecord{}};
    image.record.id = service.label(state::label::k_image_id);
    record_event(context, env, image, fmt::format("scaled to {}", replicas), service.name,
                 state.serve_records);
    context.done("{} runs {} replica(s) of {}", env.name, replicas, image.ref);
    return 0;
}

int stop(Context& context, const state::Environment& env) {
    require_manager(context);
    SwarmServeLock lock(context, env, lock_stale_after(env));
    SwarmState state = read_state(context, env.name);
    std::vector<std::string> services;
    for (const auto& service : state.serving) {
        services.push_back(service.id);
    }
    if (state.router) {
        services.push_back(state.router->id);
    }
    context.docker.remove_services(services);
    context.done("{} is stopped", env.name);
    return 0;
}

}  // namespace pallet::phases::swarm
