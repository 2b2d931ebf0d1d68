// `docker pallet env service ENV add|rm`.
#include <fmt/format.h>

#include "orchestrator/engine/services.h"
#include "orchestrator/open.h"
#include "phases/env_commands.h"
#include "phases/services.h"
#include "state/environments.h"
#include "state/labels.h"
#include "util/error.h"

namespace pallet::phases {

int run_env_service_add(Context& context, const std::string& name,
                        const std::vector<std::string>& services, bool check) {
    state::validate_env_name(name, "docker pallet env service");
    ServiceMap added;
    add_service_args(services, added, "docker pallet env service");
    state::EnvironmentStore store(context.docker);
    state::Environment env = store.get(name);
    auto opened = orchestrator::open(context, name);
    if (check) {
        const bool has_network =
            !context.docker.list_networks({state::env_filter(env.name)}).empty();
        orchestrator::engine::check_external_services(
            context, has_network ? state::network_name(env.name) : "", added);
    }
    for (auto& [kind, service] : added) {
        auto it = env.services.find(kind);
        if (it != env.services.end() && it->second.provisioned() && service.provisioned()) {
            continue;  // provided already: keep its passwords
        }
        if (it != env.services.end() && it->second.provisioned()) {
            opened->remove_service(env, kind, false);
        }
        env.services[kind] = service;
    }
    store.save(env);
    context.done("{} has {} service(s); provided ones start with the next deploy or serve",
                 env.name, env.services.size());
    return 0;
}

int run_env_service_rm(Context& context, const std::string& name,
                       const std::vector<std::string>& kinds, bool volumes) {
    state::validate_env_name(name, "docker pallet env service");
    state::EnvironmentStore store(context.docker);
    state::Environment env = store.get(name);
    auto opened = orchestrator::open(context, name);
    for (const auto& text : kinds) {
        const services::ServiceKind* kind = services::find_kind(text);
        auto it = kind == nullptr ? env.services.end() : env.services.find(kind->name);
        if (it == env.services.end()) {
            throw Error(fmt::format("{} has no service {}", name, text));
        }
        if (it->second.provisioned()) {
            opened->remove_service(env, it->first, volumes);
        }
        env.services.erase(it);
    }
    store.save(env);
    context.done(
        "removed {} service(s) of {}{}", kinds.size(), name,
        volumes ? " and their data" : "; their data volumes are kept (--volumes removes them)");
    return 0;
}

}  // namespace pallet::phases
