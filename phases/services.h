#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "docker/records.h"
#include "phases/context.h"
#include "services/catalog.h"
#include "state/environments.h"

namespace pallet::phases {

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

// The container of a provisioned service: pallet-<scope>-<kind>.
std::string service_container(const std::string& scope, const std::string& kind);

// The standard's variables for every service of the map, the services' containers being
// named after `host_scope`.
std::vector<std::pair<std::string, std::string>> services_variables(const std::string& host_scope,
                                                                    const std::string& scope,
                                                                    const ServiceMap& services);

// Parses repeated --service NAME[=URL] into `into` (a name given twice: the last one wins).
void add_service_args(const std::vector<std::string>& args, ServiceMap& into,
                      const std::string& command_path);

// Services an image declares with the labels io.pallet.services (required) and
// io.pallet.services.optional, comma- or space-separated. Unknown names are an error.
std::vector<std::string> declared_services(const docker::Labels& labels, bool include_optional);

// Throws an Error naming the first service the image requires that `services` lacks, and the
// command that adds it.
void require_services(const docker::Labels& image_labels, const ServiceMap& services,
                      const std::string& env, const std::string& image,
                      const std::string& pallet_command = "docker pallet");

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

// Checks that the image's required services are there, then provisions the environment's.
void prepare_services(Context& context, const state::Environment& env,
                      const docker::Labels& image_labels, const std::string& image,
                      const std::vector<docker::ContainerRecord>* known = nullptr);

// Removes the service containers of `scope` (their data volumes too with `volumes`).
void remove_services(Context& context, const std::string& scope, const ServiceMap& services,
                     bool volumes);

}  // namespace pallet::phases
