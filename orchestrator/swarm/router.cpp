#include "orchestrator/swarm/router.h"

#include <fmt/format.h>

#include <algorithm>

#include "docker/failure.h"
#include "orchestrator/swarm/tasks.h"
#include "state/labels.h"
#include "state/swarm_history.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::orchestrator::swarm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_dns_timeout = std::chrono::seconds(15);  // the swarm's DNS to list new tasks

class SwarmRouter : public Router {
  public:
    SwarmRouter(Context& context, const state::Environment& env, bool running, std::string image)
        : m_context(context), m_env(env), m_running(running), m_image(std::move(image)) {}
    ~SwarmRouter() override {
        if (m_started && !m_kept) {
            m_context.docker.remove_services({state::swarm::router_service(m_env.name)});
        }
    }

    bool running() override { return m_running; }

    void start() override {
        docker::ServiceSpec spec;
        spec.name = state::swarm::router_service(m_env.name);
        spec.image = router_image(m_context, m_image);
        spec.command = {"sh", "-c", router_entry()};
        spec.env = {{"PALLET_ROUTER_CONFIG", router_config(m_env, {})}};
        spec.labels = state::base_labels(m_env.name, state::phase::k_router);
        spec.container_labels = spec.labels;
        spec.container_labels[state::label::k_router_config] = k_router_config_file;
        spec.network = state::network_name(m_env.name);
        spec.mounts = storage_mounts(m_env, "", "/static", true);
        spec.mounts.push_back({state::router_volume(m_env.name), k_router_config_dir, false});
        // --port none: a port docker picks on the node, where the edge finds it (host mode binds
        // every address of the node: a firewall keeps it from outside).
        spec.publish = {m_env.port == 0
                            ? std::string("mode=host,target=80")
                            : fmt::format("mode=host,target=80,published={}", m_env.port)};
        spec.constraints = {m_env.router_node.empty() ? "node.id==" + this_node(m_context)
                                                      : "node.hostname==" + m_env.router_node};
        spec.restart_condition = "any";
        explain_missing_router_image(m_context, spec.image);  // the node addressed runs it
        if (m_context.docker.create_service(spec) == docker::StartOutcome::name_taken) {
            m_running = true;  // started concurrently
            return;
        }
        m_started = true;
        m_running = true;
        if (!m_context.docker.dry_run()) {
            container();  // it runs, or why not
        }
    }

    void keep() override { m_kept = true; }

    std::string url() override {
        const int port = m_env.port != 0 ? m_env.port : published_port(m_context, m_env);
        return port == 0 ? ""
                         : fmt::format("http://{}/", util::address_port(m_env.bind_address,
                                                                        std::to_string(port)));
    }

    HealthAnswer probe(const std::string& target, const std::string& path) override {
        return probe_from(m_context, container(), m_env, target, path);
    }

    // Through the swarm's DNS once the router's node resolves the service to exactly the
    // replicas' addresses (the gated ones), never before; when the DNS does not agree in time,
    // the router names the addresses instead.
    void send_to(Replicas& replicas) override {
        const std::string service = replicas.dns_name();
        std::vector<std::string> addresses = replicas.first(replicas.count());
        std::sort(addresses.begin(), addresses.end());
        const auto deadline = Clock::now() + k_dns_timeout;
        while (resolve_from(m_context, container(), service) != addresses) {
            if (Clock::now() > deadline) {
                m_context.step(
                    "warning: the swarm's DNS did not list just the tasks of {} within {}s; "
                    "the router names them instead (tasks the swarm replaces get requests "
                    "after the next serve or scale)",
                    service, k_dns_timeout.count());
                send_to(addresses);
                return;
            }
            cancel::sleep(std::chrono::milliseconds(200));
        }
        write_router_config(m_context, container(), m_env, {{}, service}, false);
    }

    void send_to(const std::vector<std::string>& targets) override {
        write_router_config(m_context, container(), m_env, {targets, ""}, false);
    }

  private:
    // The running task container of the router, which the plugin reaches through the engine
    // addressed. Says at once when the router runs on another node, and why the swarm cannot
    // place it (its port taken there) once that has lasted 10s.
    const std::string& container() {
        if (!m_container.empty()) {
            return m_container;
        }
        const std::string service = state::swarm::router_service(m_env.name);
        const auto placing = Clock::now() + std::chrono::seconds(10);
        const auto deadline = Clock::now() + k_start_timeout;
        std::string here;
        while (true) {
            std::string failed;  // why a task of the router failed (the swarm starts another)
            for (const auto& task : m_context.docker.service_tasks(service)) {
                if (!task.error.empty()) {
                    failed = task.error;
                }
                if (task.desired_state != "running" || !task.running()) {
                    continue;
                }
                if (here.empty()) {
                    here = this_node(m_context);
                }
                if (task.node_id != here) {
                    throw Error(fmt::format(
                        "the router of {} runs on node {}: address that node's engine (docker "
                        "--host or --context) to serve, scale or roll back",
                        m_env.name, node_name(m_context, task.node_id)));
                }
                for (const auto& record : m_context.docker.list_containers(
                         {"com.docker.swarm.service.name=" + service})) {
                    if (record.running) {
                        m_container = record.id;
                        return m_container;
                    }
                }
            }
            if (!failed.empty() && Clock::now() > placing) {
                const bool port_taken = docker::classify(failed) == docker::Failure::port_taken;
                throw Error(fmt::format(
                    "the router of {} cannot start{}: {}", m_env.name,
                    port_taken ? fmt::format(" (port {} of its node is in use by something else: "
                                             "free it)",
                                             m_env.port)
                               : "",
                    failed));
            }
            if (Clock::now() > deadline) {
                throw Error(fmt::format("the router of {} did not start within {}s", m_env.name,
                                        k_start_timeout.count()));
            }
            cancel::sleep(std::chrono::milliseconds(300));
        }
    }

    Context& m_context;
    const state::Environment& m_env;
    bool m_running;
    std::string m_image;  // of the router that runs ("" when none)
    bool m_started = false;
    bool m_kept = false;
    std::string m_container;
};

}  // namespace

int published_port(Context& context, const state::Environment& env) {
    if (env.port != 0) {
        return env.port;
    }
    for (const auto& task : context.docker.service_tasks(state::swarm::router_service(env.name))) {
        if (task.desired_state == "running" && task.running() && !task.published_ports.empty()) {
            return task.published_ports.front();
        }
    }
    return 0;
}

std::unique_ptr<Router> make_router(Context& context, const state::Environment& env,
                                    const std::optional<docker::ServiceRecord>& service) {
    return std::make_unique<SwarmRouter>(context, env, service.has_value(),
                                         service ? service->image : "");
}

}  // namespace pallet::orchestrator::swarm
