#include "orchestrator/engine/engine.h"

#include <fmt/format.h>

#include "orchestrator/engine/container.h"
#include "orchestrator/engine/launch.h"
#include "orchestrator/engine/networks.h"
#include "orchestrator/engine/processes.h"
#include "orchestrator/engine/replicas.h"
#include "orchestrator/engine/router.h"
#include "orchestrator/engine/services.h"
#include "state/history.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::orchestrator::engine {
namespace {

// A container named as the deploy lock but never started is a deploy whose `docker run` is in
// progress; past this age its starter died and it no longer holds the lock.
constexpr double k_stale_created_seconds = 60;

EnvironmentState describe(const state::Snapshot& snapshot, bool routers) {
    EnvironmentState state;
    state.name = snapshot.env;
    state.settings = snapshot.settings;
    for (const auto& record : snapshot.deploys) {
        state.deploys.push_back(state::deploy_entry(record));
    }
    std::stable_sort(state.deploys.begin(), state.deploys.end(),
                     [](const auto& a, const auto& b) { return a.started > b.started; });
    state.serves = state::serve_entries(snapshot.serve_records);
    if (!snapshot.serving.empty()) {
        Served served;
        for (const auto& record : snapshot.serving) {
            ++served.wanted;
            if (record.running || served.version.empty()) {
                served.version = record.label(state::label::k_version);
                served.image_id = record.label(state::label::k_image_id);
            }
            served.running += record.running ? 1 : 0;
        }
        state.served = served;
    }
    if (snapshot.router && snapshot.router->running) {
        state.router_running = true;
        state.url = snapshot.router->published_url();
        const auto port = snapshot.router->published_port();
        if (routers && port && snapshot.settings) {
            const std::string& bind = snapshot.settings->bind_address;
            state.upstream =
                util::address_port(bind == "0.0.0.0" ? "127.0.0.1" : bind, std::to_string(*port));
        }
    }
    if (snapshot.settings) {
        for (const auto& [kind, service] : snapshot.settings->services) {
            state.services[kind] = service.provisioned() ? "not started" : "external";
        }
    }
    for (const auto& record : snapshot.services) {
        auto it = state.services.find(record.label(state::label::k_service));
        if (it != state.services.end() && it->second != "external") {
            it->second = record.status;
        }
    }
    for (const auto& record : snapshot.processes) {
        if (never_started(record)) {
            continue;
        }
        ProcessCount& count = state.processes[record.label(state::label::k_process)];
        ++count.wanted;
        count.running += record.running ? 1 : 0;
    }
    return state;
}

class EngineOrchestrator : public Orchestrator {
  public:
    EngineOrchestrator(Context& context, state::Snapshot snapshot)
        : m_context(context),
          m_snapshot(std::move(snapshot)),
          m_state(describe(m_snapshot, false)) {}

    const EnvironmentState& state() const override { return m_state; }

    void reread() override {
        m_snapshot = state::read_snapshot(m_context.docker, m_snapshot.env, m_snapshot.reading);
        m_state = describe(m_snapshot, false);
    }

    state::Environment ensure() override {
        // Its network first: a new environment in a full pool gets not even its settings.
        if (!m_snapshot.resources_in_use() &&
            !m_context.resources_ensured.contains(m_snapshot.env)) {
            ensure_resources(m_snapshot.env);
            m_context.resources_ensured.insert(m_snapshot.env);
        }
        if (m_snapshot.settings) {
            return *m_snapshot.settings;
        }
        const state::Environment env =
            state::EnvironmentStore(m_context.docker).ensure(m_snapshot.env);
        m_snapshot.settings = env;
        m_state.settings = env;
        return env;
    }

    void provide_services(const state::Environment& env) override {
        provide_environment_services(m_context, env, &m_snapshot.services);
    }

    void remove_service(const state::Environment& env, const std::string& kind,
                        bool volumes) override {
        remove_services(m_context, env.name, {{kind, env.services.at(kind)}}, volumes);
    }

    std::string service_web_url(const state::Environment& env, const std::string& kind) override {
        auto record = m_context.docker.inspect_container(service_container(env.name, kind));
        return record && record->running && !record->published.empty() ? record->published_url()
                                                                       : "";
    }

    void prepare_image(const state::Environment&, const ResolvedImage&) override {
        // Non-root images get /storage and /static as each container starts (launch.h).
    }

    std::optional<DeployHolder> start_deploy(const state::Environment& env,
                                             const ResolvedImage& image) override {
        // A finished deploy keeps the lock's name until the next one archives it: this one.
        if (const auto* last = m_snapshot.deploy_lock();
            !m_archived_last && last != nullptr && !last->running && last->status != "created") {
            state::archive_deploy(m_context.docker, env.name, *last, m_snapshot.deploys);
        }
        m_archived_last = true;
        docker::ContainerSpec spec = phase_container(m_context, env, state::phase::k_deploy, image);
        spec.name = state::deploy_container(env.name);
        docker::StartOutcome outcome;
        try {
            outcome = launch_detached(m_context, image, spec);
        } catch (const Error& e) {
            // The container exists but could not start (no deploy command, bad user...): keep it
            // as a failed deploy in the history and free the lock.
            if (auto record = m_context.docker.inspect_container(spec.name);
                record && !record->running &&
                record->label(state::label::k_image_id) == image.record.id) {
                state::archive_deploy(m_context.docker, env.name, *record, m_snapshot.deploys);
            }
            throw;
        }
        if (outcome == docker::StartOutcome::name_taken) {
            return std::nullopt;
        }
        DeployHolder holder;
        holder.version = image.ref;
        holder.image_id = image.record.id;
        holder.user = m_context.actor_user;
        holder.host = m_context.actor_host;
        holder.id = spec.name;
        return holder;
    }

    std::optional<DeployHolder> deploy_holder(const state::Environment& env) override {
        auto record = m_context.docker.inspect_container(state::deploy_container(env.name));
        if (!record) {
            return std::nullopt;
        }
        DeployHolder holder;
        holder.version = record->label(state::label::k_version);
        holder.image_id = record->label(state::label::k_image_id);
        holder.user = record->label(state::label::k_user);
        holder.host = record->label(state::label::k_host);
        holder.started = state::created_at(*record);
        holder.id = record->id;
        if (record->running) {
            holder.state = DeployHolder::State::running;
        } else if (record->status == "created" &&
                   m_context.docker.engine_now() - holder.started < k_stale_created_seconds) {
            holder.state = DeployHolder::State::starting;  // being started right now
        } else {
            holder.state = DeployHolder::State::ended;  // or a start that was abandoned
        }
        m_holder_record = *record;
        return holder;
    }

    void end_deploy(const state::Environment& env, const DeployHolder& holder) override {
        docker::ContainerRecord record = m_holder_record;
        record.id = holder.id;
        state::archive_deploy(m_context.docker, env.name, record, m_snapshot.deploys);
    }

    DeployEnd follow_deploy(const state::Environment& env, const DeployHolder& holder) override {
        try {
            // The deploy's output is progress of this command: stderr, so stdout stays data.
            if (m_context.shows_logs()) {
                m_context.output_follows();
                m_context.docker.stream_logs(holder.id, true, docker::Output::stderr);
            }
            const int code = m_context.docker.wait_container(holder.id);
            return DeployEnd{code, code == 0 ? "" : fmt::format("exit {}", code), ""};
        } catch (const Cancelled&) {
            throw;
        } catch (const Error& e) {
            // The engine went away (or restarted) while the deploy ran.
            throw Error(fmt::format(
                "lost the deploy of {} to {} while following it: {}\nWhether it succeeded is "
                "unknown here. Once the engine answers, {} tells; a deploy that did not succeed is "
                "never served, and nothing needs unlocking by hand: deploy again if it did not "
                "succeed",
                holder.version, env.name, e.what(),
                m_context.command(fmt::format("pallet history {}", env.name))));
        }
    }

    std::string deploy_name(const DeployHolder&) override {
        return "container " + state::deploy_container(m_snapshot.env);
    }

    bool take_serve_lock(const state::Environment& env, std::chrono::seconds lease) override {
        // The lease: a container that runs `sleep` for as long as any change may take, with no
        // restart policy. It is the lock while it runs; it ends by itself if its holder dies, and
        // at once if the engine restarts.
        docker::ContainerSpec spec;
        spec.name = serve_lock_name(env);
        // Any image with `sleep`: the router's, which the engine has when it serves.
        spec.image = router_image(m_context, m_snapshot.router ? m_snapshot.router->image : "");
        spec.command = {"sleep", std::to_string(lease.count())};
        spec.labels = state::base_labels(env.name, state::phase::k_serve_lock);
        spec.labels[state::label::k_user] = m_context.actor_user;
        spec.labels[state::label::k_host] = m_context.actor_host;
        try {
            return m_context.docker.run_detached(spec) == docker::StartOutcome::started;
        } catch (const Error&) {
            explain_missing_router_image(m_context, spec.image);
            throw;
        }
    }

    std::optional<LockHolder> serve_lock_holder(const state::Environment& env,
                                                std::chrono::seconds lease) override {
        auto record = m_context.docker.inspect_container(serve_lock_name(env));
        if (!record) {
            return std::nullopt;
        }
        LockHolder holder{record->label(state::label::k_user), record->label(state::label::k_host),
                          state::created_at(*record), record->running, record->id};
        if (!holder.live && record->image == state::k_record_image) {
            // A lock of docker-pallet 0.1: a record that never runs, live until it is older than
            // any change may take, by the engine's clock.
            holder.live =
                m_context.docker.engine_now() - holder.taken <= static_cast<double>(lease.count());
        }
        return holder;
    }

    void break_serve_lock(const LockHolder& holder) override {
        m_context.docker.remove_containers({holder.id});
    }

    void release_serve_lock(const state::Environment& env) override {
        m_context.docker.remove_containers({serve_lock_name(env)});
    }

    std::unique_ptr<Router> router(state::Environment& env) override {
        return make_router(m_context, env, m_snapshot.router);
    }

    std::unique_ptr<Replicas> serving(const state::Environment& env) override {
        if (m_snapshot.serving.empty()) {
            return nullptr;
        }
        return existing_containers(m_context, env, m_snapshot.serving);
    }

    std::unique_ptr<Replicas> start_replicas(const state::Environment& env,
                                             const ResolvedImage& image, int count) override {
        return start_containers(m_context, env, image, count);
    }

    std::unique_ptr<Processes> processes(const state::Environment& env) override {
        ResolvedImage served;
        if (m_state.served) {
            served.ref = m_state.served->version;
            served.record.id = m_state.served->image_id;
        }
        return existing_process_containers(m_context, env, m_snapshot.processes, served);
    }

    std::unique_ptr<Processes> prepare_processes(
        const state::Environment& env, const ResolvedImage& image,
        const std::map<std::string, int>& counts) override {
        return prepare_process_containers(m_context, env, image, counts);
    }

    void stop(const state::Environment& env) override {
        std::vector<std::string> names;
        for (const auto& record : m_snapshot.processes) {
            names.push_back(record.name);  // with their grace period, as the serve containers
        }
        for (const auto& record : m_snapshot.serving) {
            names.push_back(record.name);
        }
        if (m_snapshot.router) {
            names.push_back(state::router_container(env.name));
        }
        m_context.docker.stop_containers(names);
        m_context.docker.remove_containers(names);
        m_context.docker.remove_volumes({state::router_volume(env.name)});
    }

    void record_serve(const state::Environment& env, const state::HistoryEntry& entry,
                      const std::string& detail) override {
        state::record_serve(m_context.docker, env.name, entry, detail, m_snapshot.serve_records);
    }

    int run(const state::Environment& env, const ResolvedImage& image,
            const OneOff& one_off) override {
        docker::ContainerSpec spec = phase_container(m_context, env, state::phase::k_serve, image);
        spec.name = fmt::format("pallet-{}-run-{}", env.name, state::random_id());
        spec.labels[state::label::k_phase] = state::phase::k_run;
        spec.command = one_off.command;
        spec.interactive = one_off.interactive;
        spec.tty = one_off.tty;
        spec.remove_on_exit = true;
        try {
            return launch_attached(m_context, image, spec);
        } catch (...) {
            // Cancelled: the container goes even if docker could not see to it.
            m_context.docker.remove_containers({spec.name});
            throw;
        }
    }

    std::optional<OutputSource> output(const state::Environment& env, const std::string& phase,
                                       const std::string& process) override {
        if (phase == state::phase::k_process) {
            std::vector<std::string> names;
            for (const auto& record : m_snapshot.processes) {
                if (record.label(state::label::k_process) == process) {
                    names.push_back(record.name);
                }
            }
            if (names.empty()) {
                return std::nullopt;
            }
            return OutputSource{
                fmt::format("{} {} process(es) of {}", names.size(), process, env.name),
                [this, names](bool follow, const auto& print) {
                    // Each line after its replica's name, as docker service logs shows tasks.
                    m_context.docker.read_logs(
                        names, follow, [&names, &print](size_t index, const std::string& line) {
                            print(fmt::format("{} | {}", names[index], line));
                        });
                }};
        }
        if (phase == state::phase::k_deploy) {
            auto records = m_snapshot.deploys;
            if (records.empty()) {
                return std::nullopt;
            }
            const auto newest = records.front();
            return OutputSource{
                fmt::format("deploy of {} ({})", newest.label(state::label::k_version),
                            state::deploy_entry(newest).result),
                [this, id = newest.id](bool follow, const auto&) {
                    m_context.docker.stream_logs(id, follow);
                }};
        }
        if (m_snapshot.serving.empty()) {
            return std::nullopt;
        }
        const auto serving = m_snapshot.serving;
        const std::string& first = serving.front().name;
        return OutputSource{
            serving.size() > 1
                ? fmt::format("{} serve containers of {}", serving.size(), env.name)
                : fmt::format("{} ({})", first, serving.front().label(state::label::k_version)),
            [this, serving](bool follow, const auto&) {
                if (follow && serving.size() > 1) {
                    m_context.step("following {} of {} serve containers", serving.front().name,
                                   serving.size());
                }
                for (const auto& record : serving) {
                    if (!follow && serving.size() > 1) {
                        m_context.step("{} ({})", record.name,
                                       record.label(state::label::k_version));
                    }
                    m_context.docker.stream_logs(record.name, follow);
                    if (follow) {
                        break;
                    }
                }
            }};
    }

    int run_data_job(const state::Environment& env, const DataJob& job,
                     std::string& output) override {
        std::vector<docker::Mount> mounts = {m_job_places.backups(m_context, env)};
        if (job.storage) {
            mounts.push_back({state::storage_volume(env.name), "/storage", !job.storage_writable});
        }
        return run_data_container(m_context, env, job, data_job_image(env, job.service), job.script,
                                  mounts, output);
    }

    std::string backups_place(const state::Environment& env) override {
        return fmt::format("the volume {}", state::backups_volume(env.name));
    }

    std::string storage_place(const state::Environment& env) override {
        return fmt::format("the volumes {} and {}", state::storage_volume(env.name),
                           state::static_volume(env.name));
    }

    std::string remove(const state::Environment& env, bool volumes) override {
        m_context.resources_ensured.erase(env.name);
        std::vector<std::string> containers;
        for (const auto& record : m_context.docker.list_containers({state::env_filter(env.name)})) {
            containers.push_back(record.name);
        }
        m_context.docker.remove_containers(containers);
        m_context.docker.remove_networks(
            m_context.docker.list_networks({state::env_filter(env.name)}));
        if (volumes) {
            std::vector<std::string> names;
            for (const auto& volume :
                 m_context.docker.list_volumes({state::env_filter(env.name)})) {
                names.push_back(volume.name);
            }
            m_context.docker.remove_volumes(names);
        }
        return "";
    }

  private:
    // What a data job runs: exactly the image the provided service runs (its own client), or
    // the router's.
    std::string data_job_image(const state::Environment& env, const std::string& service) {
        if (service.empty()) {
            return m_job_places.image([this] {
                return resolve_image(
                           m_context,
                           router_image(m_context,
                                        m_snapshot.router ? m_snapshot.router->image : ""))
                    .runnable();
            });
        }
        for (const auto& record : m_snapshot.services) {
            if (record.label(state::label::k_service) == service && record.running) {
                return record.image_id;
            }
        }
        const auto record =
            m_context.docker.inspect_container(service_container(env.name, service));
        if (!record || !record->running) {
            throw Error(fmt::format("the {} service of {} does not run", service, env.name));
        }
        return record->image_id;
    }

    static std::string serve_lock_name(const state::Environment& env) {
        return fmt::format("pallet-{}-serve-lock", env.name);
    }

    // The environment's network and its /storage and /static volumes.
    void ensure_resources(const std::string& name) {
        auto labels = state::base_labels(name, state::phase::k_environment);
        if (m_context.docker.list_networks({state::env_filter(name)}).empty()) {
            create_environment_network(m_context, state::network_name(name), labels);
        }
        labels[state::label::k_role] = "storage";
        m_context.docker.create_volume(state::storage_volume(name), labels);
        labels[state::label::k_role] = "static";
        m_context.docker.create_volume(state::static_volume(name), labels);
    }

    Context& m_context;
    state::Snapshot m_snapshot;
    EnvironmentState m_state;
    DataJobPlaces m_job_places;
    bool m_archived_last = false;
    docker::ContainerRecord m_holder_record;
};

}  // namespace

std::unique_ptr<Orchestrator> open(Context& context, state::Snapshot snapshot) {
    return std::make_unique<EngineOrchestrator>(context, std::move(snapshot));
}

std::vector<EnvironmentState> describe_all(const std::vector<docker::ContainerRecord>& records,
                                           const std::string& pallet_command, bool routers) {
    std::vector<EnvironmentState> states;
    for (const auto& [name, snapshot] : state::group_snapshots(records, pallet_command)) {
        if (snapshot.settings) {
            states.push_back(describe(snapshot, routers));
        }
    }
    return states;
}

}  // namespace pallet::orchestrator::engine
