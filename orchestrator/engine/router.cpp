#include "orchestrator/engine/router.h"

#include <fmt/format.h>

#include <functional>
#include <random>

#include "docker/failure.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/together.h"

namespace pallet::orchestrator::engine {
namespace {

// Ports tried for a first router before the engine is asked for one.
constexpr int k_port_attempts = 2;

// A port of the range docker publishes random ports from (the kernel's default ephemeral range).
int random_port() {
    std::random_device device;
    return std::uniform_int_distribution<int>(32768, 60999)(device);
}

class EngineRouter : public Router {
  public:
    EngineRouter(Context& context, state::Environment& env,
                 const std::optional<docker::ContainerRecord>& known)
        : m_context(context), m_env(env), m_record(known), m_may_exist(known.has_value()) {}
    ~EngineRouter() override {
        if (m_started && !m_kept) {
            m_context.docker.remove_containers({name()});
            m_context.docker.remove_volumes({state::router_volume(m_env.name)});
        }
    }

    bool running() override { return m_record && m_record->running; }

    void start() override {
        try {
            int port = m_env.port;
            if (port == 0 && !m_context.docker.dry_run()) {
                port = start_on_a_free_port();
            } else {
                start_on(port, true);
            }
            m_started = true;
            m_started_port = port;
        } catch (...) {
            m_context.docker.remove_containers({name()});
            m_context.docker.remove_volumes({state::router_volume(m_env.name)});
            throw;
        }
    }

    void keep() override {
        // One started by docker-pallet 0.1 has unless-stopped: always, as for serve containers.
        // A first one's port becomes the environment's with it (a serve that fails keeps none).
        std::vector<std::function<void()>> lanes = {
            [&] { m_context.docker.set_restart_policy({name()}, k_serving_restart_policy); }};
        if (m_started && m_env.port == 0 && !m_context.docker.dry_run()) {
            lanes.emplace_back([&] { keep_port(m_started_port); });
        }
        util::run_together(lanes);  // one lane alone runs on this thread
        m_kept = true;
    }

    std::string url() override {
        if (m_started_port != 0) {
            return fmt::format("http://{}/", util::address_port(m_env.bind_address,
                                                                std::to_string(m_started_port)));
        }
        return m_record ? m_record->published_url() : "";
    }

    HealthAnswer probe(const std::string& target, const std::string& path) override {
        return probe_from(m_context, name(), m_env, target, path);
    }

    void send_to(Replicas& replicas) override { send_to(replicas.first(replicas.count())); }

    void send_to(const std::vector<std::string>& targets) override {
        if (m_sent && *m_sent == targets) {
            return;  // it sends requests there already: a reload would change nothing
        }
        // A router of docker-pallet 0.1 has no configuration file of its own.
        const bool legacy =
            !m_started && m_record && m_record->label(state::label::k_router_config).empty();
        write_router_config(m_context, name(), m_env, {targets, ""}, legacy);
        m_sent = targets;
    }

  private:
    std::string name() const { return state::router_container(m_env.name); }
    // The image it runs, or will: the environment keeps the one it was first served with.
    std::string image() const { return router_image(m_context, m_record ? m_record->image : ""); }

    // The first router of an environment keeps its port for good: after an engine restart,
    // docker would give a port it picked itself another one. So the port is chosen here, in the
    // range docker picks from, and the router starts once on it; when it is taken (by another
    // container or a program of the engine's host) another is tried, then the engine picks one
    // and the router starts again on that.
    int start_on_a_free_port() {
        for (int attempt = 0; attempt < k_port_attempts; ++attempt) {
            const int port = random_port();
            if (start_on(port, true, true)) {
                return port;
            }
        }
        start_on(0, false);
        auto record = m_context.docker.inspect_container(name());
        if (!record || !record->published_port()) {
            wait_started();  // says why it stopped
            throw Error(fmt::format("the router of {} got no port from the engine", m_env.name));
        }
        const int port = *record->published_port();
        start_on(port, true);
        return port;
    }

    // Starts the router container publishing `port` (0: any free one). False when the port is
    // taken and `may_be_taken` (nothing is left of the attempt), else an error says so.
    bool start_on(int port, bool wait, bool may_be_taken = false) {
        const std::string config_volume = state::router_volume(m_env.name);
        if (m_may_exist) {
            m_context.docker.remove_containers({name()});
        }
        m_context.docker.remove_volumes({config_volume});  // seeded afresh
        docker::ContainerSpec spec;
        spec.name = name();
        spec.image = image();
        spec.command = {"sh", "-c", router_entry()};
        spec.env = {{"PALLET_ROUTER_CONFIG", router_config(m_env, {})}};
        spec.labels = state::base_labels(m_env.name, state::phase::k_router);
        spec.labels[state::label::k_router_config] = k_router_config_file;
        spec.network = state::network_name(m_env.name);
        spec.mounts = {{state::static_volume(m_env.name), "/static", true},
                       {config_volume, k_router_config_dir, false}};
        spec.publish = util::address_port(m_env.bind_address,
                                          port == 0 ? std::string() : std::to_string(port)) +
                       ":80";
        spec.stop_timeout = 10;  // restart policy: set by the serve that keeps it
        m_context.docker.create_volume(config_volume,
                                       state::base_labels(m_env.name, state::phase::k_router));
        try {
            m_may_exist = true;
            m_context.docker.run_detached(spec);
            if (wait && !m_context.docker.dry_run()) {
                wait_started();
            }
        } catch (const Error& e) {
            m_context.docker.remove_containers({name()});
            m_context.docker.remove_volumes({config_volume});
            m_may_exist = false;
            const auto* failure = dynamic_cast<const docker::DockerError*>(&e);
            const bool taken =
                failure != nullptr && failure->failure() == docker::Failure::port_taken;
            if (taken && may_be_taken) {
                return false;
            }
            explain_missing_router_image(m_context, spec.image);
            if (taken) {
                throw Error(
                    fmt::format("port {} on {} is taken on the engine's host; choose another: "
                                "{pallet} env update {} --port PORT",
                                port, m_env.bind_address, m_env.name,
                                fmt::arg("pallet", m_context.command("pallet"))));
            }
            throw;
        }
        return true;
    }

    // Waits until nginx runs in the new router; throws with its output when it stopped.
    void wait_started() {
        if (nginx_started(m_context, name(), std::chrono::seconds(20))) {
            return;
        }
        const auto state = m_context.docker.inspect_container(name());
        const std::string output = util::trim(m_context.docker.logs_tail(name(), 10));
        const std::string image = this->image();
        if (state && state->exit_code == k_exit_unusable_image) {
            throw Error(fmt::format(
                "the router image {} cannot be used: {}\nChoose an nginx image with sh and bash "
                "or nc (nginx:stable-alpine, nginx:stable, Debian's nginx-light): "
                "PALLET_ROUTER_IMAGE or router-image under plugins.pallet",
                image, output));
        }
        if (state && state->running) {
            throw Error(fmt::format(
                "the router ({}) did not start nginx within 20s. Its output:\n{}", image, output));
        }
        throw Error(fmt::format("the router ({}) stopped at once (exit {}). Its output:\n{}", image,
                                state ? state->exit_code : -1, output));
    }

    // Keeps the port the engine picked as the environment's own, so that its URL stays the same
    // when the router starts again. Settings changed meanwhile are read again.
    void keep_port(int port) {
        state::EnvironmentStore(m_context.docker).update(m_env, [port](state::Environment& latest) {
            latest.port = port;
        });
    }

    Context& m_context;
    state::Environment& m_env;
    std::optional<docker::ContainerRecord> m_record;
    bool m_may_exist;  // a router container may be there: removed before one starts
    bool m_started = false;
    bool m_kept = false;
    int m_started_port = 0;
    std::optional<std::vector<std::string>> m_sent;  // what this object last sent requests to
};

}  // namespace

std::unique_ptr<Router> make_router(Context& context, state::Environment& env,
                                    const std::optional<docker::ContainerRecord>& known) {
    return std::make_unique<EngineRouter>(context, env, known);
}

}  // namespace pallet::orchestrator::engine
