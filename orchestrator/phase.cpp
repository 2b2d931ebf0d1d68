#include "orchestrator/phase.h"

#include <fmt/format.h>

#include "docker/reference.h"
#include "state/labels.h"
#include "util/error.h"

namespace pallet::orchestrator {

ResolvedImage resolve_image(Context& context, const std::string& ref) {
    if (!docker::is_image_reference(ref)) {
        throw UsageError(fmt::format("invalid image reference \"{}\": use NAME[:TAG][@DIGEST], for "
                                     "example myapp:1.4 or registry.example.org/team/app:2",
                                     ref),
                         "docker pallet");
    }
    if (auto record = context.docker.inspect_image(ref)) {
        return ResolvedImage{ref, *record};
    }
    context.step("pulling {}", ref);
    std::string why;
    const bool pulled = context.docker.pull_image(ref, why);
    if (context.docker.dry_run()) {
        return ResolvedImage{ref, docker::ImageRecord{}};  // not pulled: what it holds is unknown
    }
    if (!pulled) {
        throw Error(
            fmt::format("image {} is not on the engine and could not be pulled: {}\nBuild "
                        "it ({}) or check its name.",
                        ref, why, context.command(fmt::format("build -t {} .", ref))));
    }
    if (auto record = context.docker.inspect_image(ref)) {
        return ResolvedImage{ref, *record};
    }
    throw Error(fmt::format("image {} could not be found after pulling it", ref));
}

std::string service_container(const std::string& scope, const std::string& kind) {
    return fmt::format("pallet-{}-{}", scope, kind);
}

std::vector<std::pair<std::string, std::string>> services_variables(
    const std::string& host_scope, const std::string& scope,
    const std::map<std::string, services::ServiceConfig>& services) {
    std::vector<std::pair<std::string, std::string>> vars;
    for (const auto& [kind, service] : services) {
        auto more = services::service_variables(
            service, services::Endpoint{service_container(host_scope, kind), scope});
        vars.insert(vars.end(), more.begin(), more.end());
    }
    return vars;
}

std::vector<std::pair<std::string, std::string>> phase_variables(const state::Environment& env,
                                                                 const std::string& phase) {
    std::vector<std::pair<std::string, std::string>> vars = {
        {"SITE_PROTOCOL", env.site_protocol},
        {"SITE_DOMAIN", env.site_domain},
        {"ENVIRONMENT", env.kind},
    };
    for (const auto& [key, value] : env.variables) {
        if (key == "SITE_PROTOCOL" || key == "SITE_DOMAIN" || key == "ENVIRONMENT") {
            continue;
        }
        if (key.find("DEPLOY") != std::string::npos && phase != state::phase::k_deploy) {
            continue;
        }
        if ((key == "WEB_CONCURRENCY" || key == "WORKER_CONCURRENCY") &&
            phase != state::phase::k_serve) {
            continue;
        }
        vars.emplace_back(key, value);
    }
    for (auto& [key, value] : services_variables(env.name, env.name, env.services)) {
        if (env.variables.count(key) == 0) {  // a variable set by hand wins
            vars.emplace_back(key, value);
        }
    }
    return vars;
}

docker::Labels phase_labels(const Context& context, const state::Environment& env,
                            const std::string& phase, const ResolvedImage& image) {
    docker::Labels labels = state::base_labels(env.name, phase);
    labels[state::label::k_version] = image.ref;
    labels[state::label::k_image_id] = image.record.id;
    labels[state::label::k_user] = context.actor_user;
    labels[state::label::k_host] = context.actor_host;
    return labels;
}

}  // namespace pallet::orchestrator
