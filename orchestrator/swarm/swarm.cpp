#include "orchestrator/swarm/swarm.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "docker/failure.h"
#include "docker/reference.h"
#include "orchestrator/engine/launch.h"
#include "orchestrator/swarm/processes.h"
#include "orchestrator/swarm/replicas.h"
#include "orchestrator/swarm/router.h"
#include "orchestrator/swarm/services.h"
#include "orchestrator/swarm/tasks.h"
#include "state/labels.h"
#include "state/snapshot.h"
#include "state/swarm_history.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::orchestrator::swarm {
namespace {

using Clock = std::chrono::steady_clock;
// A deploy lock whose job has no task this long after it was taken: its taker died first.
constexpr double k_lock_being_taken_seconds = 60;

std::vector<std::string> filters(const std::string& env, const char* phase) {
    return {fmt::format("{}=true", state::label::k_managed), state::env_filter(env),
            state::phase_filter(phase)};
}

// What the swarm's nodes run for `image`: exactly the bytes the manager resolved it to.
std::string pinned(const ResolvedImage& image) {
    return docker::pinned_image(image.ref, image.record.id, image.record.repo_digests);
}

// The environment's swarm objects, as one listing of its configs and one of its services read
// them.
struct SwarmObjects {
    state::swarm::Records records;
    std::vector<docker::ServiceRecord> serving;  // serve services, newest first
    std::optional<docker::ServiceRecord> router;
    std::vector<docker::ServiceRecord> provided;   // provided services
    std::vector<docker::ServiceRecord> processes;  // process types' services
};

// Removes volume entries of this node once nothing uses them: the containers of tasks that
// mounted them go a moment after their service. At most 20 s; cleanup, so it never throws (it
// also runs while an error is on its way out): a failed look or Ctrl-C ends the wait.
void remove_volumes_when_free(Context& context, const std::vector<std::string>& names) {
    const auto deadline = cancel::now() + std::chrono::seconds(20);
    try {
        while (true) {
            context.docker.remove_volumes(names);
            if (context.docker.dry_run()) {
                return;
            }
            const auto left = context.docker.list_volumes({});
            const bool gone = std::none_of(left.begin(), left.end(), [&](const auto& volume) {
                return std::find(names.begin(), names.end(), volume.name) != names.end();
            });
            if (gone || cancel::now() > deadline) {
                return;
            }
            cancel::sleep(std::chrono::milliseconds(300));
        }
    } catch (...) {
        // what is left stays; rm names it in its note to the user
    }
}

void sort_services(SwarmObjects& objects, std::vector<docker::ServiceRecord> services) {
    for (auto& service : services) {
        const std::string phase = service.label(state::label::k_phase);
        if (phase == state::phase::k_serve) {
            objects.serving.push_back(service);
        } else if (phase == state::phase::k_router) {
            objects.router = service;
        } else if (phase == state::phase::k_service) {
            objects.provided.push_back(service);
        } else if (phase == state::phase::k_process) {
            objects.processes.push_back(service);
        }
    }
    std::sort(objects.serving.begin(), objects.serving.end(),
              [](const auto& a, const auto& b) { return a.created > b.created; });
}

// The deploy history of the environment: recorded results, and a deploy that holds the lock.
std::vector<state::HistoryEntry> deploy_history(const state::swarm::Records& records) {
    std::vector<state::HistoryEntry> deploys;
    for (const auto& lock : records.deploy_locks) {
        state::HistoryEntry entry;
        entry.phase = state::phase::k_deploy;
        entry.version = lock.label(state::label::k_version);
        entry.image_id = lock.label(state::label::k_image_id);
        entry.result = "running";
        entry.started = state::created_at(lock);
        entry.user = lock.label(state::label::k_user);
        entry.host = lock.label(state::label::k_host);
        entry.container = lock.label(state::label::k_job);
        deploys.push_back(entry);
    }
    for (const auto& result : records.deploy_results) {
        deploys.push_back(state::deploy_result_entry(result));
    }
    std::stable_sort(deploys.begin(), deploys.end(),
                     [](const auto& a, const auto& b) { return a.started > b.started; });
    return deploys;
}

// The environment's state, but for what the services' tasks tell (running replicas, services).
EnvironmentState describe(const std::string& name, const std::optional<state::Environment>& env,
                          const state::swarm::Records& records) {
    EnvironmentState state;
    state.name = name;
    state.settings = env;
    state.deploys = deploy_history(records);
    state.serves = state::serve_entries(records.serve_records);
    if (env) {
        for (const auto& [kind, service] : env->services) {
            state.services[kind] = service.provisioned() ? "not started" : "external";
        }
    }
    return state;
}

std::string url_of(const state::Environment& env) {
    return fmt::format("http://{}/",
                       util::address_port(env.bind_address, std::to_string(env.port)));
}

class SwarmOrchestrator : public Orchestrator {
  public:
    SwarmOrchestrator(Context& context, state::Environment env, SwarmObjects objects)
        : m_context(context), m_env(std::move(env)), m_objects(std::move(objects)) {
        describe_objects();
    }

    const EnvironmentState& state() const override { return m_state; }

    void reread() override {
        m_objects = read(m_context, m_env.name);
        if (!m_objects.records.settings.empty()) {
            auto envs =
                state::newest_environments(m_objects.records.settings, m_context.command("pallet"));
            if (auto it = envs.find(m_env.name); it != envs.end()) {
                m_env = it->second;
                state::learn_secrets(m_context.docker.redactor(), m_env);
            }
        }
        describe_objects();
    }

    state::Environment ensure() override {
        if (!m_context.docker.list_networks({state::env_filter(m_env.name)}).empty()) {
            return m_env;
        }
        try {
            m_context.docker.create_overlay_network(
                state::network_name(m_env.name),
                state::base_labels(m_env.name, state::phase::k_environment));
        } catch (const docker::DockerError& e) {
            if (e.failure() != docker::Failure::exists) {
                throw;
            }
        }
        return m_env;
    }

    void provide_services(const state::Environment& env) override {
        swarm::provide_services(m_context, env, m_objects.provided);
    }

    void remove_service(const state::Environment& env, const std::string& kind,
                        bool volumes) override {
        remove_provided_service(m_context, env, kind, volumes);
    }

    std::string service_web_url(const state::Environment&, const std::string&) override {
        return "";  // a swarm's host-mode ports bind every address: no web view is published
    }

    void prepare_image(const state::Environment& env, const ResolvedImage& image) override {
        check_image_everywhere(env, image);
        hand_storage_to(env, image);
    }

    std::optional<DeployHolder> start_deploy(const state::Environment& env,
                                             const ResolvedImage& image) override {
        const std::string job = state::swarm::new_deploy_job(env.name);
        const auto labels = state::swarm::deploy_lock_labels(
            env.name, image.ref, image.record.id, m_context.actor_user, m_context.actor_host, job);
        const std::string lock = state::swarm::lock_config(env.name, "deploy");
        if (m_context.docker.create_config(lock, labels, "") != docker::StartOutcome::started) {
            return std::nullopt;
        }
        docker::ServiceSpec spec;
        spec.name = job;
        spec.image = pinned(image);
        spec.command = {"deploy"};
        spec.env = phase_variables(env, state::phase::k_deploy);
        spec.labels = labels;
        spec.labels[state::label::k_phase] = state::phase::k_deploy;
        spec.container_labels = state::base_labels(env.name, state::phase::k_deploy);
        spec.network = state::network_name(env.name);
        spec.mounts = storage_mounts(env, "/storage", "/static", false);
        spec.restart_condition = "none";  // a deploy runs once: never again by itself
        try {
            m_context.docker.create_service(spec);
        } catch (...) {
            m_context.docker.remove_configs({lock});
            throw;
        }
        DeployHolder holder{image.ref,
                            image.record.id,
                            m_context.actor_user,
                            m_context.actor_host,
                            0,
                            DeployHolder::State::running,
                            job};
        if (m_context.docker.dry_run()) {
            return holder;
        }
        auto locks = m_context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock));
        if (locks.empty()) {
            throw Error("the deploy lock of " + env.name + " vanished");
        }
        m_lock = locks.front();
        holder.started = state::created_at(m_lock);
        return holder;
    }

    std::optional<DeployHolder> deploy_holder(const state::Environment& env) override {
        auto locks = m_context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock));
        if (locks.empty()) {
            return std::nullopt;
        }
        m_lock = locks.front();
        DeployHolder holder{m_lock.label(state::label::k_version),
                            m_lock.label(state::label::k_image_id),
                            m_lock.label(state::label::k_user),
                            m_lock.label(state::label::k_host),
                            state::created_at(m_lock),
                            DeployHolder::State::running,
                            m_lock.label(state::label::k_job)};
        const auto tasks = m_context.docker.service_tasks(holder.id);
        m_ended_task.reset();
        if (const auto done = std::find_if(tasks.begin(), tasks.end(), ran); done != tasks.end()) {
            m_ended_task = *done;  // its command died: its end is recorded now
            holder.state = DeployHolder::State::ended;
        } else if (tasks.empty()) {
            // Its command died before the job started, or after recording its end.
            const double age = m_context.docker.engine_now() - holder.started;
            holder.state = age > k_lock_being_taken_seconds ? DeployHolder::State::ended
                                                            : DeployHolder::State::starting;
        }
        return holder;
    }

    void end_deploy(const state::Environment& env, const DeployHolder&) override {
        if (m_ended_task) {
            record_result(env, *m_ended_task);
        }
        m_context.docker.remove_configs({m_lock.id});
    }

    DeployEnd follow_deploy(const state::Environment& env, const DeployHolder& holder) override {
        const std::string& job = holder.id;
        std::unique_ptr<docker::BackgroundProcess> output;
        if (m_context.shows_logs()) {
            m_context.output_follows();
            output = m_context.docker.follow_service_logs(job);
        }
        const auto deadline = Clock::now() + k_start_timeout;
        while (true) {
            auto tasks = m_context.docker.service_tasks(job);
            if (tasks.empty() && !holds_lock(env, job)) {
                output.reset();
                return recorded_end(env, job);  // another command recorded it
            }
            const auto done = std::find_if(tasks.begin(), tasks.end(), ran);
            if (done != tasks.end()) {
                cancel::sleep(std::chrono::milliseconds(500));  // the last lines arrive
                output.reset();
                const docker::TaskRecord task = *done;
                record_result(env, task);
                m_context.docker.remove_configs({m_lock.id});
                if (task.state == "complete") {
                    return DeployEnd{0, "",
                                     fmt::format(" (on {})", node_name(m_context, task.node_id))};
                }
                const int code = task.exit_code.value_or(1) == 0 ? 1 : task.exit_code.value_or(1);
                return DeployEnd{
                    code,
                    fmt::format(
                        "{}{}",
                        task.exit_code ? fmt::format("exit {}", *task.exit_code) : task.state,
                        task.error.empty() ? "" : ": " + task.error),
                    ""};
            }
            const bool started =
                std::any_of(tasks.begin(), tasks.end(), [](const auto& t) { return t.running(); });
            if (all_rejected(tasks) || (!started && Clock::now() > deadline)) {
                // It never ran: removing it kills nothing.
                std::string why = "no task";
                for (const auto& task : tasks) {
                    why = fmt::format("{} on {}", task_problem(task),
                                      node_name(m_context, task.node_id));
                }
                m_context.docker.remove_services({job});
                m_context.docker.remove_configs({m_lock.id});
                throw Error(
                    fmt::format("the deploy of {} could not start within {}s ({}); nothing ran",
                                holder.version, k_start_timeout.count(), why));
            }
            cancel::sleep(std::chrono::milliseconds(500));
        }
    }

    std::string deploy_name(const DeployHolder& holder) override {
        return "the swarm service " + holder.id;
    }

    bool take_serve_lock(const state::Environment& env, std::chrono::seconds) override {
        auto labels = state::base_labels(env.name, state::phase::k_serve_lock);
        labels[state::label::k_user] = m_context.actor_user;
        labels[state::label::k_host] = m_context.actor_host;
        return m_context.docker.create_config(state::swarm::lock_config(env.name, "serve"), labels,
                                              "") == docker::StartOutcome::started;
    }

    std::optional<LockHolder> serve_lock_holder(const state::Environment& env,
                                                std::chrono::seconds lease) override {
        auto holders = m_context.docker.list_configs(filters(env.name, state::phase::k_serve_lock));
        if (holders.empty()) {
            return std::nullopt;
        }
        const auto& holder = holders.front();
        const double taken = state::created_at(holder);
        // A config is no process: it is live while younger than any change may take (and the
        // waits of the swarm's tasks to start).
        const bool live = m_context.docker.engine_now() - taken <=
                          static_cast<double>((lease + k_start_timeout).count());
        return LockHolder{holder.label(state::label::k_user), holder.label(state::label::k_host),
                          taken, live, holder.id};
    }

    void break_serve_lock(const LockHolder& holder) override {
        m_context.docker.remove_configs({holder.id});
    }

    void release_serve_lock(const state::Environment& env) override {
        m_context.docker.remove_configs({state::swarm::lock_config(env.name, "serve")});
    }

    std::unique_ptr<Router> router(state::Environment& env) override {
        return make_router(m_context, env, m_objects.router);
    }

    std::unique_ptr<Replicas> serving(const state::Environment& env) override {
        if (m_objects.serving.empty()) {
            return nullptr;
        }
        return existing_service(m_context, env, m_objects.serving);
    }

    std::unique_ptr<Replicas> start_replicas(const state::Environment& env,
                                             const ResolvedImage& image, int count) override {
        return start_service(m_context, env, image, count);
    }

    std::unique_ptr<Processes> processes(const state::Environment& env) override {
        return existing_process_services(m_context, env, m_objects.processes);
    }

    std::unique_ptr<Processes> prepare_processes(
        const state::Environment& env, const ResolvedImage& image,
        const std::map<std::string, int>& counts) override {
        return prepare_process_services(m_context, env, image, counts);
    }

    void stop(const state::Environment&) override {
        std::vector<std::string> services;
        for (const auto& service : m_objects.processes) {
            services.push_back(service.id);  // their tasks get their grace period
        }
        for (const auto& service : m_objects.serving) {
            services.push_back(service.id);
        }
        if (m_objects.router) {
            services.push_back(m_objects.router->id);
        }
        m_context.docker.remove_services(services);
    }

    void record_serve(const state::Environment& env, const state::HistoryEntry& entry,
                      const std::string& detail) override {
        state::swarm::record_serve(m_context.docker, env.name, entry, detail,
                                   m_objects.records.serve_records);
    }

    int run(const state::Environment& env, const ResolvedImage& image,
            const OneOff& one_off) override {
        // A container on the manager addressed, on the environment's overlay network (it is
        // attachable) with its shared /storage and /static: the user's terminal, signals and
        // exit status as with docker run.
        docker::ContainerSpec spec;
        spec.name = fmt::format("pallet-{}-run-{}", env.name, state::random_id());
        spec.image = image.runnable();
        spec.command = one_off.command;
        spec.env = phase_variables(env, state::phase::k_serve);
        spec.labels = phase_labels(m_context, env, state::phase::k_run, image);
        spec.network = state::network_name(env.name);
        spec.mounts = storage_mounts(env, "/storage", "/static", false);
        spec.interactive = one_off.interactive;
        spec.tty = one_off.tty;
        spec.remove_on_exit = true;
        try {
            return engine::launch_attached(m_context, image, spec);
        } catch (...) {
            m_context.docker.remove_containers({spec.name});
            throw;
        }
    }

    std::optional<OutputSource> output(const state::Environment& env, const std::string& phase,
                                       const std::string& process) override {
        if (phase == state::phase::k_process) {
            for (const auto& service : m_objects.processes) {
                if (service.label(state::label::k_process) == process) {
                    return OutputSource{fmt::format("{} ({} replica(s) of {})", service.name,
                                                    service.replicas, process),
                                        [this, name = service.name](bool follow, const auto&) {
                                            // Each line after its task's name and node.
                                            m_context.docker.stream_service_logs(name, follow,
                                                                                 false);
                                        }};
                }
            }
            return std::nullopt;
        }
        if (phase == state::phase::k_deploy) {
            // A running deploy's job; else what the last one printed, as recorded when it ended.
            for (const auto& lock : m_objects.records.deploy_locks) {
                const std::string job = lock.label(state::label::k_job);
                if (!m_context.docker.service_tasks(job).empty()) {
                    return OutputSource{fmt::format("deploy of {} (running: swarm service {})",
                                                    lock.label(state::label::k_version), job),
                                        [this, job](bool follow, const auto&) {
                                            m_context.docker.stream_service_logs(job, follow);
                                        }};
                }
            }
            const auto& outputs = m_objects.records.deploy_outputs;
            if (outputs.empty()) {
                return std::nullopt;
            }
            const std::string data = outputs.front().data;
            return OutputSource{
                fmt::format("deploy of {} (ended)", outputs.front().label(state::label::k_version)),
                [data](bool, const auto& print) {
                    std::string text = data;
                    if (!text.empty() && text.back() == '\n') {
                        text.pop_back();
                    }
                    if (text.empty()) {
                        return;
                    }
                    for (const auto& line : util::split(text, '\n')) {
                        print(line);
                    }
                }};
        }
        if (m_objects.serving.empty()) {
            return std::nullopt;
        }
        const auto& service = m_objects.serving.front();
        (void)env;
        return OutputSource{fmt::format("{} ({}, {} replica(s))", service.name,
                                        service.label(state::label::k_version), service.replicas),
                            [this, name = service.name](bool follow, const auto&) {
                                m_context.docker.stream_service_logs(name, follow);
                            }};
    }

    int run_data_job(const state::Environment& env, const DataJob& job,
                     std::string& output) override {
        // A container on the manager addressed, as run's, on the environment's overlay network;
        // the backups in the shared path, which every node sees. On volumes of a driver, one of
        // its own would need a place made by hand (a directory of the export its options
        // name): this manager keeps them, as an engine does.
        std::vector<docker::Mount> mounts;
        std::string script = job.script;
        if (env.volume_driver.empty()) {
            mounts = {docker::Mount::bind_of(fmt::format("{}/{}", env.shared_path, env.name),
                                             "/environment")};
            script =
                "mkdir -p /environment/backups && chmod 700 /environment/backups && "
                "ln -s /environment/backups /backups || exit 1\n" +
                script;
        } else {
            mounts = {m_job_places.backups(m_context, env)};
        }
        if (job.storage) {
            mounts.push_back(environment_volume(env, "storage", "/storage", !job.storage_writable));
        }
        return engine::run_data_container(m_context, env, job, data_job_image(job.service), script,
                                          mounts, output);
    }

    std::string backups_place(const state::Environment& env) override {
        return env.volume_driver.empty() ? fmt::format("{}/{}/backups", env.shared_path, env.name)
                                         : fmt::format("the volume {} of the manager addressed",
                                                       state::backups_volume(env.name));
    }

    std::string storage_place(const state::Environment& env) override {
        return swarm::storage_place(env);
    }

    std::string remove(const state::Environment& env, bool volumes) override {
        std::vector<std::string> objects;
        for (const auto& service : m_context.docker.list_services({state::env_filter(env.name)})) {
            objects.push_back(service.id);
        }
        m_context.docker.remove_services(objects);
        if (volumes) {
            for (const auto& [kind, service] : env.services) {
                if (service.provisioned()) {
                    remove_provided_service(m_context, env, kind, true);
                }
            }
        }
        objects.clear();
        for (const auto& config : m_context.docker.list_configs({state::env_filter(env.name)})) {
            objects.push_back(config.id);
        }
        m_context.docker.remove_configs(objects);
        // The tasks' containers on the node addressed go now, not when the swarm gets to them:
        // the volumes they use are removed next.
        std::vector<std::string> containers;
        for (const auto& record : m_context.docker.list_containers({state::env_filter(env.name)})) {
            containers.push_back(record.id);
        }
        m_context.docker.remove_containers(containers);
        m_context.docker.remove_networks(
            m_context.docker.list_networks({state::env_filter(env.name)}));
        // The router's node (the one addressed) made a volume for its configuration.
        m_context.docker.remove_volumes({state::router_volume(env.name)});
        if (!volumes) {
            return "";
        }
        if (!m_context.docker.dry_run()) {
            docker::ServiceSpec job = one_off(env, router_image(m_context));
            if (env.volume_driver.empty()) {
                job.mounts = {docker::Mount::bind_of(env.shared_path, "/shared")};
                job.command = {"rm", "-rf", "--", "/shared/" + env.name};
            } else {
                job.mounts =
                    storage_mounts(env, "/environment/storage", "/environment/static", false);
                job.command = {
                    "find",   "/environment/storage", "/environment/static", "-mindepth", "1",
                    "-delete"};
            }
            const auto task = run_once(m_context, job, "the removal of /storage and /static");
            if (task.state != "complete") {
                throw Error(fmt::format("removed {}, but not what {} holds: {}", env.name,
                                        storage_place(env), task_problem(task)));
            }
        }
        if (!env.volume_driver.empty()) {
            // The files are gone; the volume objects are the nodes' own: this one's go too,
            // once the removal task's container, which the node removes a moment after its
            // service, no longer holds them; and its backups, which this manager keeps.
            remove_volumes_when_free(
                m_context, {state::storage_volume(env.name), state::static_volume(env.name),
                            state::backups_volume(env.name)});
            return fmt::format(
                "other nodes keep empty volume entries {} and {}: docker volume prune there",
                state::storage_volume(env.name), state::static_volume(env.name));
        }
        return "";
    }

    static SwarmObjects read(Context& context, const std::string& env) {
        SwarmObjects objects;
        objects.records =
            state::swarm::sort_records(context.docker.list_configs({state::env_filter(env)}));
        if (!objects.records.settings.empty()) {
            sort_services(objects, context.docker.list_services({state::env_filter(env)}));
        }
        return objects;
    }

  private:
    // What a data job runs: the image the swarm runs the provided service from, or the router's.
    std::string data_job_image(const std::string& service) {
        if (service.empty()) {
            return m_job_places.image([this] {
                return resolve_image(
                           m_context,
                           router_image(m_context, m_objects.router ? m_objects.router->image : ""))
                    .runnable();
            });
        }
        for (const auto& record : m_objects.provided) {
            if (record.label(state::label::k_service) == service) {
                return record.image;
            }
        }
        throw Error(fmt::format("the {} service of {} does not run", service, m_state.name));
    }

    void describe_objects() {
        m_state = describe(m_env.name, m_env, m_objects.records);
        if (!m_objects.serving.empty()) {
            const auto& newest = m_objects.serving.front();
            // Wanted as the swarm keeps it; tasks are not asked here (status does).
            m_state.served =
                Served{newest.label(state::label::k_version),
                       newest.label(state::label::k_image_id), newest.replicas, newest.replicas};
        }
        m_state.router_running = m_objects.router.has_value();
        m_state.url = m_state.router_running ? url_of(m_env) : "";
        for (const auto& service : m_objects.provided) {
            m_state.services[service.label(state::label::k_service)] = "created";
        }
        for (const auto& service : m_objects.processes) {
            // Wanted as the swarm keeps it; tasks are not asked here (status does).
            // Summed: during a release (or after one that was killed) a type has two.
            ProcessCount& count = m_state.processes[service.label(state::label::k_process)];
            count.running += service.replicas;
            count.wanted += service.replicas;
        }
    }

    // Without a registry every node needs its own copy of the image: a job on every node finds
    // those that lack it, before anything of the version runs.
    void check_image_everywhere(const state::Environment& env, const ResolvedImage& image) {
        if (m_context.docker.dry_run()) {
            return;
        }
        docker::ServiceSpec job = one_off(env, pinned(image));
        job.entrypoint = "true";  // nothing of the application runs
        std::string missing;
        for (const auto& [node, problem] :
             run_on_every_node(m_context, job, "the check of the image")) {
            if (docker::classify(problem) == docker::Failure::no_such_image) {
                missing += (missing.empty() ? "" : ", ") + node;
            }
            // Anything else (an image without `true`) is no missing image.
        }
        if (!missing.empty()) {
            throw Error(fmt::format(
                "{} ({}) is not on node(s) {}: every node runs exactly the image of the manager. "
                "Load it there (docker save {} | docker -H NODE load; a node with another build "
                "under that name needs this one) or push it to a registry every node can pull "
                "from",
                image.ref, pinned(image).substr(0, 19), missing, image.ref));
        }
    }

    // Hands /storage and /static to the user `image` runs as (a one-off task; not
    // world-writable; the directories themselves only, as on an engine).
    void hand_storage_to(const state::Environment& env, const ResolvedImage& image) {
        const auto ids = engine::image_user_ids(m_context, image);
        if (!ids || m_context.docker.dry_run()) {
            return;
        }
        docker::ServiceSpec job = one_off(env, router_image(m_context));
        job.mounts = storage_mounts(env, "/environment/storage", "/environment/static", false);
        job.command = {"sh", "-c",
                       fmt::format("chown {}:{} /environment/storage /environment/static && "
                                   "chmod 755 /environment/storage /environment/static",
                                   ids->uid, ids->gid)};
        const auto task = run_once(m_context, job, "handing /storage to the image's user");
        if (task.state != "complete") {
            throw Error(fmt::format("could not hand {} to uid {}: {}", storage_place(env), ids->uid,
                                    task_problem(task)));
        }
    }

    // Records how the deploy job under the lock ended and what it printed (once; a later
    // command may find it ended first), then removes the job, so that the swarm never runs that
    // deploy again by itself (a job can run again after a change of leader).
    void record_result(const state::Environment& env, const docker::TaskRecord& task) {
        const std::string job = m_lock.label(state::label::k_job);
        const std::string result = task.state == "complete" ? "succeeded"
                                   : task.exit_code && task.state == "failed"
                                       ? fmt::format("failed (exit {})", *task.exit_code)
                                   : task.state == "shutdown" || task.state == "orphaned"
                                       ? "failed (its node was lost)"
                                       : fmt::format("failed ({})", task_problem(task));
        state::swarm::record_deploy(
            m_context.docker, env.name, m_lock,
            docker::parse_docker_time(task.updated).value_or(m_context.docker.engine_now()), result,
            m_context.docker.service_logs(job));
        m_context.docker.remove_services({job});
    }

    // True while the deploy lock names `job`.
    bool holds_lock(const state::Environment& env, const std::string& job) {
        const auto locks =
            m_context.docker.list_configs(filters(env.name, state::phase::k_deploy_lock));
        return std::any_of(locks.begin(), locks.end(), [&](const auto& lock) {
            return lock.label(state::label::k_job) == job;
        });
    }

    // How a deploy job that another command recorded ended.
    DeployEnd recorded_end(const state::Environment& env, const std::string& job) {
        auto results =
            m_context.docker.list_configs(filters(env.name, state::phase::k_deploy_result));
        for (const auto& result : results) {
            if (result.label(state::label::k_job) != job) {
                continue;
            }
            std::string outcome = result.label(state::label::k_result);
            if (outcome == "succeeded") {
                return DeployEnd{0, "", ""};
            }
            // "failed (exit 3)" -> "exit 3"
            if (outcome.rfind("failed (", 0) == 0 && outcome.back() == ')') {
                outcome = outcome.substr(8, outcome.size() - 9);
            }
            return DeployEnd{1, outcome, ""};
        }
        throw Error(fmt::format("the deploy service {} is gone and left no result", job));
    }

    Context& m_context;
    state::Environment m_env;
    SwarmObjects m_objects;
    EnvironmentState m_state;
    engine::DataJobPlaces m_job_places;
    docker::ContainerRecord m_lock;  // the deploy lock as last read
    std::optional<docker::TaskRecord> m_ended_task;
};

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

void require_manager(Context& context) {
    const std::string role = context.docker.swarm_role();
    if (role != "manager") {
        throw Error(fmt::format(
            "the engine addressed is {}; a swarm environment needs a swarm manager. Make this "
            "engine one with: {}, or address a manager (--context, --host)",
            role.empty() ? "in no swarm" : "a swarm worker", context.command("swarm init")));
    }
}

// The nodes' host names, by ID, and whether `name` is one of them.
void check_node(Context& context, const std::string& name, const char* option) {
    if (name.empty()) {
        return;
    }
    for (const auto& node : context.docker.list_nodes()) {
        if (node.hostname == name) {
            return;
        }
    }
    throw UsageError(fmt::format("{} {}: no node of the swarm has that host name (docker node ls "
                                 "lists them)",
                                 option, name),
                     "docker pallet env create");
}

}  // namespace

std::unique_ptr<Orchestrator> open(Context& context, const std::string& env) {
    SwarmObjects objects = SwarmOrchestrator::read(context, env);
    if (objects.records.settings.empty()) {
        return nullptr;
    }
    auto envs = state::newest_environments(objects.records.settings, context.command("pallet"));
    auto it = envs.find(env);
    if (it == envs.end()) {
        return nullptr;
    }
    state::learn_secrets(context.docker.redactor(), it->second);
    return std::make_unique<SwarmOrchestrator>(context, it->second, std::move(objects));
}

std::vector<EnvironmentState> describe_all(Context& context,
                                           const std::vector<docker::ContainerRecord>& configs,
                                           const std::vector<std::string>& filters, bool routers) {
    std::map<std::string, std::vector<docker::ContainerRecord>> by_env;
    for (const auto& config : configs) {
        by_env[config.label(state::label::k_env)].push_back(config);
    }
    std::vector<EnvironmentState> states;
    std::map<std::string, std::string> replicas;  // service -> running/wanted
    bool listed = false;
    std::map<std::string, docker::NodeRecord> nodes;
    std::string here;
    for (auto& [name, records] : by_env) {
        const auto sorted = state::swarm::sort_records(records);
        auto envs = state::newest_environments(sorted.settings, context.command("pallet"));
        auto it = envs.find(name);
        if (it == envs.end()) {
            continue;
        }
        const state::Environment& env = it->second;
        if (!listed) {
            // What the environments' services run, running and wanted: one listing for all.
            replicas = context.docker.service_replicas(filters);
            listed = true;
        }
        EnvironmentState state = describe(name, env, sorted);
        for (const auto& [service, count] : replicas) {
            const auto slash = count.find('/');
            const int running = std::atoi(count.substr(0, slash).c_str());
            const int wanted = std::atoi(count.substr(slash + 1).c_str());
            if (state::swarm::is_serve_service(name, service)) {
                Served served;
                served.running = running;
                served.wanted = wanted;
                for (const auto& entry : state.serves) {
                    if (entry.result == "serving") {
                        served.version = entry.version;  // the version the last serve put there
                        served.image_id = entry.image_id;
                        break;
                    }
                }
                state.served = served;
            } else if (const std::string type = process_type_of(name, service); !type.empty()) {
                state.processes[type].running += running;  // summed, as above
                state.processes[type].wanted += wanted;
            } else if (service.rfind("pallet-" + name + "-", 0) == 0) {
                const std::string kind = service.substr(name.size() + 8);
                if (auto found = state.services.find(kind);
                    found != state.services.end() && found->second != "external") {
                    found->second = running > 0 ? "running" : "starting";
                }
            }
        }
        if (replicas.count(state::swarm::router_service(name)) > 0) {
            state.router_running = true;
            state.url = url_of(env);
            if (routers) {
                // The edge runs on the node addressed: a router there is on 127.0.0.1.
                if (nodes.empty()) {
                    for (const auto& node : context.docker.list_nodes()) {
                        nodes[node.id] = node;
                    }
                    here = this_node(context);
                }
                for (const auto& task :
                     context.docker.service_tasks(state::swarm::router_service(name))) {
                    if (task.desired_state == "running" && task.running()) {
                        const std::string address =
                            task.node_id == here ? "127.0.0.1" : nodes[task.node_id].address;
                        const int port = env.port != 0 ? env.port
                                         : task.published_ports.empty()
                                             ? 0
                                             : task.published_ports.front();
                        state.upstream = util::address_port(address, std::to_string(port));
                    }
                }
            }
        }
        if (state.served && state.served->running == 0) {
            state.served->version.clear();
        }
        states.push_back(std::move(state));
    }
    return states;
}

void check_new_environment(Context& context, const state::Environment& env) {
    require_manager(context);
    check_storage_settings(env);
    check_node(context, env.router_node, "--router-node");
    check_node(context, env.service_node, "--service-node");
    if (env.port == 0 && !env.edge_only) {
        throw UsageError(
            "a swarm environment needs --port PORT (its router publishes that port on its "
            "node), or --port none to be reached through the edge alone",
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
        if (name != env.name && env.port != 0 && other.port == env.port &&
            other.router_node == env.router_node) {
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
        check.mounts = {docker::Mount::bind_of(env.shared_path, env.shared_path)};
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
        check.mounts = storage_mounts(env, "/environment/storage", "/environment/static", false);
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
        std::map<std::string, std::string> unusable;
        try {
            unusable = run("touch \"$1\"", false);
        } catch (const Error& e) {
            throw Error(
                fmt::format("the volumes of driver {} cannot be used: {}; is its plugin "
                            "installed on every node?",
                            env.volume_driver, e.what()));
        }
        for (const auto& [node, problem] : unusable) {
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
        remove_volumes_when_free(context,
                                 {state::storage_volume(env.name), state::static_volume(env.name)});
        throw;
    }
}

}  // namespace pallet::orchestrator::swarm
