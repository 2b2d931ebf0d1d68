#include "orchestrator/swarm/services.h"

#include <fmt/format.h>

#include "orchestrator/phase.h"
#include "orchestrator/router_nginx.h"
#include "orchestrator/swarm/tasks.h"
#include "services/catalog.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::orchestrator::swarm {
namespace {

// Where the check leaves its mark once it passed in a task's container: later checks then pass
// at once, so that a busy database is never restarted for a slow answer.
constexpr const char* k_ready_mark = "/tmp/pallet-ready";

std::string data_volume(const std::string& env, const std::string& kind) {
    return fmt::format("pallet-{}-{}-data", env, kind);
}

std::string image_of(Context& context, const services::ServiceKind& kind) {
    return context.setting(kind.name + "-image").value_or(kind.default_image);
}

docker::ServiceSpec service_spec(Context& context, const state::Environment& env,
                                 const services::ServiceConfig& service,
                                 const std::string& constraint) {
    const services::ServiceKind& kind = *services::find_kind(service.kind);
    docker::ServiceSpec spec;
    spec.name = service_container(env.name, service.kind);
    spec.image = image_of(context, kind);
    spec.env = services::container_variables(service);
    for (auto& variable : services::check_variables(service)) {
        spec.env.push_back(variable);
    }
    spec.labels = state::base_labels(env.name, state::phase::k_service);
    spec.labels[state::label::k_service] = service.kind;
    spec.container_labels = spec.labels;
    spec.network = state::network_name(env.name);
    spec.endpoint_mode = "dnsrr";
    if (!kind.data_path.empty()) {
        spec.mounts = {{data_volume(env.name, service.kind), kind.data_path}};
    }
    spec.constraints = {constraint};
    spec.restart_condition = "any";
    spec.stop_grace_seconds = 30;  // a database shuts down cleanly
    const std::string check =
        services::ready_check(service, services::Endpoint{spec.name, env.name});
    spec.health_command =
        fmt::format("[ -f {0} ] && exit 0\n( {1}) || exit 1\ntouch {0}\n", k_ready_mark, check);
    spec.health_interval_seconds = 2;
    spec.health_retries = 3;
    spec.health_start_seconds = env.service_timeout;
    return spec;
}

}  // namespace

std::string service_node_constraint(Context& context, const state::Environment& env) {
    const std::string& node = env.service_node.empty() ? env.router_node : env.service_node;
    return node.empty() ? "node.id==" + this_node(context) : "node.hostname==" + node;
}

void provide_services(Context& context, const state::Environment& env,
                      const std::vector<docker::ServiceRecord>& existing) {
    std::vector<std::string> pending;
    std::string constraint;
    for (const auto& [kind, service] : env.services) {
        if (!service.provisioned()) {
            continue;
        }
        const std::string name = service_container(env.name, kind);
        pending.push_back(name);
        bool found = false;
        for (const auto& record : existing) {
            found = found || record.name == name;
        }
        if (found) {
            continue;
        }
        if (constraint.empty()) {
            constraint = service_node_constraint(context, env);
        }
        const auto spec = service_spec(context, env, service, constraint);
        context.step("starting {} ({}) on {}", kind, spec.image,
                     constraint.substr(constraint.find("==") + 2));
        context.docker.create_service(spec);  // name taken: started concurrently just now
    }
    if (context.docker.dry_run()) {
        return;
    }
    const auto timeout = std::chrono::seconds(env.service_timeout);
    for (const auto& name : pending) {
        try {
            wait_running(context, name, 1, timeout);
        } catch (const Error& e) {
            const auto lines = util::split(util::trim(context.docker.service_logs(name)), '\n');
            const size_t from = lines.size() > 15 ? lines.size() - 15 : 0;
            throw Error(fmt::format(
                "the service {} did not get ready within {}s ({}); allow more with "
                "--service-timeout. Its last output:\n{}",
                name, timeout.count(), e.what(),
                util::join({lines.begin() + static_cast<long>(from), lines.end()}, "\n")));
        }
    }
}

void remove_provided_service(Context& context, const state::Environment& env,
                             const std::string& kind, bool volumes) {
    context.docker.remove_services({service_container(env.name, kind)});
    const services::ServiceKind* found = services::find_kind(kind);
    if (!volumes || found == nullptr || found->data_path.empty() || context.docker.dry_run()) {
        return;
    }
    // The data is in a volume of the service's node: a task there empties it (the volume entry
    // stays on that node: docker volume prune there).
    docker::ServiceSpec job = one_off(env, router_image(context));
    job.mounts = {{data_volume(env.name, kind), "/data"}};
    job.constraints = {service_node_constraint(context, env)};
    job.command = {"find", "/data", "-mindepth", "1", "-delete"};
    const auto task = run_once(context, job, "the removal of the service's data");
    if (task.state != "complete") {
        throw Error(
            fmt::format("removed the service {}, but not its data: {}", kind, task_problem(task)));
    }
    context.docker.remove_volumes({data_volume(env.name, kind)});  // when it is this node's
}

}  // namespace pallet::orchestrator::swarm
