#include "phases/swarm.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "phases/launch.h"
#include "phases/router.h"
#include "state/history.h"
#include "state/snapshot.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases::swarm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_start_timeout = std::chrono::seconds(120);  // a task to be scheduled and start
constexpr double k_lock_being_taken_seconds = 60;
constexpr int k_kept_deploys = 30;

std::string lock_name(const std::string& env, const char* what) {
    return fmt::format("pallet-{}-{}-lock", env, what);
}

std::vector<std::string> filters(const std::string& env, const char* phase) {
    return {fmt::format("{}=true", state::label::k_managed), state::env_filter(env),
            state::phase_filter(phase)};
}

// DIR/ENV/storage and DIR/ENV/static of the shared path.
std::vector<docker::ServiceSpec::Bind> storage_binds(const state::Environment& env) {
    const std::string base = env.shared_path + "/" + env.name;
    return {{base + "/storage", "/storage", false}, {base + "/static", "/static", false}};
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

// Waits until every task of the one-off job `service` has ended; returns them. Throws, naming the
// node, when one cannot start (a missing bind source, an image the node lacks).
std::vector<docker::TaskRecord> wait_job(Context& context, const std::string& service,
                                         std::chrono::seconds timeout, const char* what) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        auto tasks = context.docker.service_tasks(service);
        const bool all_ended = !tasks.empty() && std::all_of(tasks.begin(), tasks.end(),
                                                             [](const auto& t) { return t.ended(); });
        if (all_ended) {
            return tasks;
        }
        if (Clock::now() > deadline) {
            std::string state = tasks.empty() ? "no task yet" : tasks.front().state;
            throw Error(fmt::format("{} did not end within {}s (its task: {})", what,
                                    timeout.count(), state));
        }
        cancel::sleep(std::chrono::milliseconds(300));
    }
}

// Hands DIR/ENV/storage and /static to the user `image` runs as (a job on the shared path; not
// world-writable; the directories themselves only, as on an engine).
void hand_storage_to(Context& context, const state::Environment& env, const ResolvedImage& image) {
    const auto ids = image_user_ids(context, image);
    if (!ids || context.docker.dry_run()) {
        return;
    }
    docker::ServiceSpec job;
    job.name = fmt::format("pallet-{}-check-{}", env.name, state::random_id());
    job.image = router_image(context);
    job.mode = "replicated-job";
    job.restart_condition = "none";
    job.labels = state::base_labels(env.name, state::phase::k_check);
    job.binds = {{env.shared_path + "/" + env.name, "/environment", false}};
    job.command = {"sh", "-c", fmt::format("chown {}:{} /environment/storage /environment/static && "
                                           "chmod 755 /environment/storage /environment/static",
                                           ids->uid, ids->gid)};
    context.docker.create_service(job);
    std::vector<docker::TaskRecord> tasks;
    try {
        tasks = wait_job(context, job.name, std::chrono::seconds(90), "handing /storage to the image's user");
    } catch (...) {
        context.docker.remove_services({job.name});
        throw;
    }
    context.docker.remove_services({job.name});
    if (tasks.empty() || tasks.front().state != "complete") {
        throw Error(fmt::format("could not hand {}/{} to uid {}: {}", env.shared_path, env.name, ids->uid,
                                tasks.empty() ? "no task" : tasks.front().error));
    }
}

// The serve lock of a swarm environment: a config named after it (names are unique on a swarm);
// one older than any change may take is left by a command that died, and is taken over.
class SwarmServeLock {
public:
    SwarmServeLock(Context& context, const state::Environment& env, std::chrono::seconds stale_after)
        : m_context(context), m_name(lock_name(env.name, "serve")) {
        if (context.docker.dry_run()) {
            return;
        }
        auto labels = state::base_labels(env.name, state::phase::k_serve_lock);
        labels[state::label::k_user] = context.actor_user;
        labels[state::label::k_host] = context.actor_host;
        bool announced = false;
        while (context.docker.create_config(m_name, labels, "") != docker::StartOutcome::started) {
            auto holders = context.docker.list_configs(filters(env.name, state::phase::k_serve_lock));
            if (!holders.empty()) {
                const auto& holder = holders.front();
                const double age = context.docker.engine_now() - state::created_at(holder);
                if (age > static_cast<double>(stale_after.count())) {
                    context.step("taking over the lock of {} left by {}@{} {}", env.name,
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
        context.docker.create_overlay_network(state::network_name(env.name),
                                              state::base_labels(env.name, state::phase::k_environment));
    } catch (const Error& e) {
        if (std::string(e.what()).find("already exists") == std::string::npos) {
            throw;
        }
    }
}

// Records how a deploy job ended (once; a later command may find it ended first).
void record_result(Context& context, const state::Environment& env, const docker::ContainerRecord& lock,
                   const docker::TaskRecord& task) {
    const std::string job = lock.label(state::label::k_job);
    auto labels = state::base_labels(env.name, state::phase::k_deploy_result);
    for (const char* key : {state::label::k_version, state::label::k_image_id, state::label::k_user,
                            state::label::k_host}) {
        labels[key] = lock.label(key);
    }
    labels[state::label::k_job] = job;
    labels[state::label::k_started] = fmt::format("{:.0f}", state::created_at(lock));
    labels[state::label::k_finished] =
        fmt::format("{:.0f}", docker::parse_docker_time(task.updated).value_or(context.docker.engine_now()));
    labels[state::label::k_result] =
        task.state == "complete" ? "succeeded"
        : task.exit_code         ? fmt::format("failed (exit {})", *task.exit_code)
                                 : fmt::format("failed ({}: {})", task.state, task.error);
    context.docker.create_config(fmt::format("pallet-{}-deployed-{}", env.name, job.substr(job.rfind('-') + 1)),
                                 labels, "");
}

// Follows the deploy job: its output live, until its task ends. On cancellation it goes on.
int follow_job(Context& context, const state::Environment& env, const docker::ContainerRecord& lock) {
    const std::string job = lock.label(state::label::k_job);
    try {
        auto output = context.docker.follow_service_logs(job);
        const auto deadline = Clock::now() + k_start_timeout;
        while (true) {
            auto tasks = context.docker.service_tasks(job);
            if (!tasks.empty() && tasks.front().ended()) {
                cancel::sleep(std::chrono::milliseconds(500));  // the last lines arrive
                output.reset();
                const auto& task = tasks.front();
                record_result(context, env, lock, task);
                context.docker.remove_configs({lock.id});
                const std::string version = lock.label(state::label::k_version);
                if (task.state == "complete") {
                    context.step("deploy of {} to {} succeeded (on {})", version, env.name,
                                 node_name(context, task.node_id));
                    return 0;
                }
                fmt::print(stderr,
                           "docker-pallet: error: deploy of {} to {} failed ({}{}); it will not be "
                           "served\n",
                           version, env.name, task.exit_code ? fmt::format("exit {}", *task.exit_code) : task.state,
                           task.error.empty() ? "" : ": " + task.error);
                return task.exit_code.value_or(1) == 0 ? 1 : task.exit_code.value_or(1);
            }
            const bool started = !tasks.empty() && (tasks.front().running() || tasks.front().ended());
            if (!started && Clock::now() > deadline) {
                throw Error(fmt::format("the deploy job {} has not started within {}s ({}); it may "
                                        "still: follow it with {}",
                                        job, k_start_timeout.count(),
                                        tasks.empty() ? "no task" : tasks.front().state + " " + tasks.front().error,
                                        context.command(fmt::format("service logs -f {}", job))));
            }
            cancel::sleep(std::chrono::milliseconds(500));
        }
    } catch (const Cancelled&) {
        fmt::print(stderr,
                   "docker-pallet: the deploy goes on as the swarm job {} (a deploy is never "
                   "killed); follow it with: {}\n",
                   job, context.command(fmt::format("service logs -f {}", job)));
        throw;
    }
}

// Removes deploy jobs beyond the newest k_kept_deploys (their results stay as records).
void prune_jobs(Context& context, const state::Environment& env) {
    auto jobs = context.docker.list_services(filters(env.name, state::phase::k_deploy));
    std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.created > b.created; });
    std::vector<std::string> old;
    for (size_t i = k_kept_deploys; i < jobs.size(); ++i) {
        old.push_back(jobs[i].id);
    }
    context.docker.remove_services(old);
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
                problems = fmt::format("{} on {}: {}", task.state, node_name(context, task.node_id), task.error);
            }
        }
        if (static_cast<int>(addresses.size()) >= replicas) {
            addresses.resize(static_cast<size_t>(replicas));
            return addresses;
        }
        if (Clock::now() > deadline) {
            throw Error(fmt::format("{} runs {} of {} task(s) after {}s{}", service, addresses.size(),
                                    replicas, timeout.count(), problems.empty() ? "" : " (" + problems + ")"));
        }
        cancel::sleep(std::chrono::milliseconds(300));
    }
}

// The container of the router's task (on the node this plugin talks to, where it is pinned).
docker::ContainerRecord router_task_container(Context& context, const std::string& env) {
    const auto deadline = Clock::now() + k_start_timeout;
    while (true) {
        auto containers = context.docker.list_containers(
            {fmt::format("com.docker.swarm.service.name=pallet-{}-router", env)});
        for (auto& container : containers) {
            if (container.running) {
                docker::ContainerRecord task;
                task.id = container.id;  // an id without a name: a swarm task's container
                task.running = true;
                task.labels[state::label::k_router_config] = "/pallet/nginx.conf";
                return task;
            }
        }
        if (Clock::now() > deadline) {
            throw Error(fmt::format("the router of {} did not start on this node within {}s", env,
                                    k_start_timeout.count()));
        }
        cancel::sleep(std::chrono::milliseconds(300));
    }
}

std::string this_node(Context& context) { return context.docker.info("{{.Swarm.NodeID}}"); }

// Starts the router service, pinned to the node addressed (or --router-node) and published in
// host mode on the environment's port there.
void start_router(Context& context, const state::Environment& env) {
    docker::ServiceSpec spec;
    spec.name = fmt::format("pallet-{}-router", env.name);
    spec.image = router_image(context);
    spec.command = {"sh", "-c", router_entry()};
    spec.env = {{"PALLET_ROUTER_CONFIG", router_config(env, {})}};
    spec.labels = state::base_labels(env.name, state::phase::k_router);
    spec.container_labels = spec.labels;
    spec.container_labels[state::label::k_router_config] = "/pallet/nginx.conf";
    spec.network = state::network_name(env.name);
    spec.volumes = {{state::router_volume(env.name), "/pallet", false}};
    spec.binds = {{env.shared_path + "/" + env.name + "/static", "/static", true}};
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
    return std::chrono::seconds(env.health_timeout + k_start_timeout.count() +
                                env.drain_ms / 1000 + 180);
}

// Puts `addresses` behind the router once each answers like a user's request would.
void gate_and_switch(const state::Environment& env, Router& router,
                     const std::vector<std::string>& fresh, const std::vector<std::string>& all) {
    const auto deadline = Clock::now() + std::chrono::seconds(env.health_timeout);
    for (const auto& address : fresh) {
        while (true) {
            HealthAnswer answer = router.probe(address, env.health_path);
            if (answer.healthy) {
                break;
            }
            if (Clock::now() > deadline) {
                throw Error(fmt::format("the task at {} did not answer GET {} (Host: {}) with a "
                                        "status below 400 within {}s; the last answer: {}",
                                        address, env.health_path, env.site_domain, env.health_timeout,
                                        answer.evidence));
            }
            cancel::sleep(std::chrono::milliseconds(250));
        }
    }
    router.switch_to(all);
}

}  // namespace

std::optional<state::Environment> find(Context& context, const std::string& env) {
    auto envs = state::newest_environments(context.docker.list_configs(filters(env, state::phase::k_config)),
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

void check_new_environment(Context& context, const state::Environment& env) {
    require_manager(context);
    if (env.shared_path.empty() || env.shared_path[0] != '/') {
        throw UsageError("a swarm environment needs --shared-path DIR: an absolute path that is "
                         "the same filesystem on every node (an NFS mount), for /storage and "
                         "/static",
                         "docker pallet env create");
    }
    if (env.port == 0) {
        throw UsageError("a swarm environment needs --port [ADDRESS:]PORT: its router publishes "
                         "that port on its node",
                         "docker pallet env create");
    }
    if (context.docker.dry_run()) {
        return;
    }
    // One task on every node: it fails where the shared path is missing, and makes the
    // environment's directories (once is enough on a shared filesystem).
    docker::ServiceSpec check;
    check.name = fmt::format("pallet-{}-check-{}", env.name, state::random_id());
    check.image = router_image(context);
    check.mode = "global-job";
    check.restart_condition = "none";
    check.labels = state::base_labels(env.name, state::phase::k_check);
    check.binds = {{env.shared_path, env.shared_path, false}};
    check.command = {"sh", "-c", fmt::format("mkdir -p '{0}/{1}/storage' '{0}/{1}/static'",
                                             env.shared_path, env.name)};
    context.step("checking {} on every node", env.shared_path);
    context.docker.create_service(check);
    std::vector<docker::TaskRecord> tasks;
    try {
        tasks = wait_job(context, check.name, std::chrono::seconds(90), "the check of the shared path");
    } catch (...) {
        context.docker.remove_services({check.name});
        throw;
    }
    context.docker.remove_services({check.name});
    for (const auto& task : tasks) {
        if (task.state != "complete") {
            throw Error(fmt::format("{} is not usable on node {}: {}; it must exist on every node "
                                    "(the same shared filesystem)",
                                    env.shared_path, node_name(context, task.node_id),
                                    task.error.empty() ? task.state : task.error));
        }
    }
}

int deploy(Context& context, const state::Environment& env, const DeployOptions& options,
           const ResolvedImage& image) {
    require_manager(context);
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
            spec.image = image.ref;
            spec.command = {"deploy"};
            spec.env = phase_variables(env, state::phase::k_deploy);
            spec.labels = lock_labels;
            spec.labels[state::label::k_phase] = state::phase::k_deploy;
            spec.container_labels = state::base_labels(env.name, state::phase::k_deploy);
            spec.network = state::network_name(env.name);
            spec.binds = storage_binds(env);
            spec.mode = "replicated-job";
            spec.restart_condition = "none";  // a deploy runs once: never again by itself
            try {
                context.docker.create_service(spec);
            } catch (...) {
                context.docker.remove_configs({lock_name(env.name, "deploy")});
                throw;
            }
            if (context.docker.dry_run()) {
                return 0;
            }
            context.step("deploying {} to {} (swarm job {})", image.ref, env.name, job);
            auto locks = context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock));
            if (locks.empty()) {
                throw Error("the deploy lock of " + env.name + " vanished");
            }
            const int code = follow_job(context, env, locks.front());
            prune_jobs(context, env);
            return code;
        }
        auto locks = context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock));
        if (locks.empty()) {
            continue;  // released meanwhile
        }
        const auto& holder = locks.front();
        const std::string holder_job = holder.label(state::label::k_job);
        auto tasks = context.docker.service_tasks(holder_job);
        const double age = context.docker.engine_now() - state::created_at(holder);
        const std::string who = fmt::format("{} (started by {}@{} {})", holder.label(state::label::k_version),
                                            holder.label(state::label::k_user), holder.label(state::label::k_host),
                                            state::time_ago(state::created_at(holder), context.docker.engine_now()));
        if (tasks.empty() && age > k_lock_being_taken_seconds) {
            context.docker.remove_configs({holder.id});  // its command died before the job
            continue;
        }
        if (!tasks.empty() && tasks.front().ended()) {
            record_result(context, env, holder, tasks.front());  // its command died: record it now
            context.docker.remove_configs({holder.id});
            continue;
        }
        if (holder.label(state::label::k_image_id) == image.record.id && !tasks.empty()) {
            context.step("a deploy of the same version is running: {}; following it", who);
            return follow_job(context, env, holder);
        }
        if (!options.wait) {
            throw Error(fmt::format("another version is being deployed to {}: {}.\nWait for it with "
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
        throw Error(fmt::format("{} serves nothing yet; name the version: {} serve {} IMAGE", env.name,
                                context.command("pallet"), env.name));
    }
    ResolvedImage image = known != nullptr && known->ref == ref ? *known : resolve_image(context, ref);
    bool deployed = false;
    for (const auto& result : state.deploy_results) {
        if (result.label(state::label::k_image_id) == image.record.id) {
            deployed = result.label(state::label::k_result) == "succeeded";
            break;
        }
    }
    if (!deployed) {
        throw Error(fmt::format("{} has no successful deploy to {} as its last one; a version is "
                                "served only after its deploy succeeded. Run: {} deploy {} {}",
                                image.ref, env.name, context.command("pallet"), env.name, image.ref));
    }
    const int replicas = options.replicas.value_or(
        state.serving.empty() ? 1 : std::max(1, state.serving.front().replicas));
    ensure_network(context, env);
    hand_storage_to(context, env, image);
    const bool router_was_running = state.router.has_value();
    if (!router_was_running) {
        start_router(context, env);
    }
    const std::string name = fmt::format("pallet-{}-serve-{}", env.name, state::random_id());
    docker::ServiceSpec spec;
    spec.name = name;
    spec.image = image.ref;
    spec.command = {"serve"};
    spec.env = phase_variables(env, state::phase::k_serve);
    spec.labels = state::base_labels(env.name, state::phase::k_serve);
    spec.labels[state::label::k_version] = image.ref;
    spec.labels[state::label::k_image_id] = image.record.id;
    spec.labels[state::label::k_user] = context.actor_user;
    spec.labels[state::label::k_host] = context.actor_host;
    spec.container_labels = state::base_labels(env.name, state::phase::k_serve);
    spec.network = state::network_name(env.name);
    spec.binds = storage_binds(env);
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
        auto addresses = wait_running(context, name, replicas, std::chrono::seconds(env.health_timeout));
        Router router(context, env, router_task_container(context, env.name));
        gate_and_switch(env, router, addresses, addresses);
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
    fmt::print("{}\n", url);
    context.step("{} serves {} at {} ({} replica(s), {:.1f}s)", env.name, image.ref, url, replicas, seconds);
    return 0;
}

int scale(Context& context, const state::Environment& env, int replicas) {
    require_manager(context);
    SwarmServeLock lock(context, env, lock_stale_after(env));
    SwarmState state = read_state(context, env.name);
    if (state.serving.empty() || !state.router) {
        throw Error(fmt::format("{} serves nothing to scale; serve a version first: {} serve {} IMAGE",
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
    Router router(context, env, router_task_container(context, env.name));
    if (replicas > now) {
        const auto before = wait_running(context, service.name, now, std::chrono::seconds(env.health_timeout));
        context.docker.scale_service(service.name, replicas);
        auto all = wait_running(context, service.name, replicas, std::chrono::seconds(env.health_timeout));
        std::vector<std::string> fresh;
        for (const auto& address : all) {
            if (std::find(before.begin(), before.end(), address) == before.end()) {
                fresh.push_back(address);
            }
        }
        gate_and_switch(env, router, fresh, all);
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
        router.switch_to(keep);
        cancel::sleep(std::chrono::milliseconds(env.drain_ms));
        context.docker.scale_service(service.name, replicas);
    }
    ResolvedImage image{service.label(state::label::k_version), docker::ImageRecord{}};
    image.record.id = service.label(state::label::k_image_id);
    record_event(context, env, image, fmt::format("scaled to {}", replicas), service.name, state.serve_records);
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
