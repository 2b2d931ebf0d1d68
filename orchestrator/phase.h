#pragma once

#include <string>
#include <utility>
#include <vector>

#include "docker/records.h"
#include "orchestrator/context.h"
#include "services/catalog.h"
#include "state/environments.h"

// What a process of an application's phase gets, whichever orchestrator runs it: the standard's
// variables, its labels; and the image it runs, resolved on the engine addressed.
namespace pallet::orchestrator {

// An image to run, resolved on the engine.
struct ResolvedImage {
    std::string ref;  // as the user named it
    docker::ImageRecord record;
    // What docker is given to run: the ID the reference resolved to (the version deployed is the
    // one checked), the reference when it is not known (dry run).
    std::string runnable() const { return record.id.empty() ? ref : record.id; }
};

// Inspects the image, pulling it when missing; throws a clear Error when neither works.
ResolvedImage resolve_image(Context& context, const std::string& ref);

// The name of a provided service's container or swarm service: pallet-<scope>-<kind>, which is
// also the host name the application reaches it at on the environment's network.
std::string service_container(const std::string& scope, const std::string& kind);

// The standard's variables for every service of the map, the services being named after
// `host_scope`.
std::vector<std::pair<std::string, std::string>> services_variables(
    const std::string& host_scope, const std::string& scope,
    const std::map<std::string, services::ServiceConfig>& services);

// The variables the standard gives a phase: SITE_*, ENVIRONMENT, the environment's own
// variables (names with DEPLOY only to deploy; WEB_/WORKER_CONCURRENCY only to serve), its
// services'.
std::vector<std::pair<std::string, std::string>> phase_variables(const state::Environment& env,
                                                                 const std::string& phase);

// The labels of a phase's process: the environment, the phase, the version and who started it.
docker::Labels phase_labels(const Context& context, const state::Environment& env,
                            const std::string& phase, const ResolvedImage& image);

}  // namespace pallet::orchestrator
