#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "docker/records.h"
#include "orchestrator/phase.h"
#include "services/catalog.h"
#include "state/environments.h"

namespace pallet::orchestrator::engine {

using ServiceMap = std::map<std::string, services::ServiceConfig>;

// Where the provisioned services of an environment or a test run live.
struct ServiceSite {
    std::string scope;       // environment name, or test-<run id>: databases, prefixes, vhosts
    std::string host_scope;  // names the containers (pallet-<host_scope>-<kind>); "": scope
    std::string network;     // the network the application's containers use
    docker::Labels labels;
    bool keep_data = true;  // environments keep data in named volumes; test runs do not
    bool test_run = false;  // the application may create scratch databases (its test runner's)
    std::map<std::string, std::string> image_overrides;  // kind -> image (--service-image)
    std::chrono::seconds ready_timeout{120};
    // Create `network` (labelled with `labels`) before starting a container, if it is missing:
    // for shared services, whose network outlives any one command.
    bool ensure_network = false;
};

// Starts the provisioned services that do not run yet and waits until each is ready in its
// own protocol (creating the application's role, database, vhost). A container that runs
// already keeps its admin password, which `services` then takes. On failure, removes what
// this call started and throws an Error with the service's name and its last output.
// `known`: the service containers as they were just read (a snapshot), so that each need not be
// inspected again; nullptr to inspect them.
void provision_services(Context& context, const ServiceSite& site, ServiceMap& services,
                        const std::vector<docker::ContainerRecord>* known = nullptr);

// Drops what `site.scope` got from shared services (test runs that reuse warm services); the
// services do it in the background.
void release_services(Context& context, const ServiceSite& site, const ServiceMap& services);

// Connects to every server of the external services from a container on `network` (docker's
// default network when empty), with the router image; throws an Error naming the first server
// that does not accept a TCP connection within 3 seconds.
void check_external_services(Context& context, const std::string& network,
                             const ServiceMap& services);

// Provisions the environment's provided services (provision_services for its network).
void provide_environment_services(Context& context, const state::Environment& env,
                                  const std::vector<docker::ContainerRecord>* known = nullptr);

// Removes the service containers of `scope` (their data volumes too with `volumes`).
void remove_services(Context& context, const std::string& scope, const ServiceMap& services,
                     bool volumes);

}  // namespace pallet::orchestrator::engine
