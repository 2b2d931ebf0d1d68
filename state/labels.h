#pragma once

#include <string>
#include <vector>

#include "docker/records.h"

namespace pallet::state {

// Labels on everything the plugin creates. The engine is the only store: these are the schema.
namespace label {
inline constexpr const char* k_managed = "io.pallet.managed";            // "true"
inline constexpr const char* k_env = "io.pallet.env";                    // environment name
inline constexpr const char* k_phase = "io.pallet.phase";                // see phase::
inline constexpr const char* k_version = "io.pallet.version";            // image reference as given
inline constexpr const char* k_image_id = "io.pallet.image-id";          // sha256:...
inline constexpr const char* k_user = "io.pallet.user";                  // who ran the command
inline constexpr const char* k_host = "io.pallet.host";                  // where
inline constexpr const char* k_started = "io.pallet.started";            // unix time, seconds
inline constexpr const char* k_generation = "io.pallet.generation";      // config records
inline constexpr const char* k_settings = "io.pallet.settings";          // config records: JSON
inline constexpr const char* k_result = "io.pallet.result";              // serve records
inline constexpr const char* k_detail = "io.pallet.detail";              // serve records
inline constexpr const char* k_duration = "io.pallet.duration";          // serve records: seconds
inline constexpr const char* k_service = "io.pallet.service";            // service containers: kind
inline constexpr const char* k_service_data = "io.pallet.service-data";  // their data volumes
inline constexpr const char* k_warm = "io.pallet.warm";  // warm services: warm-<user>
// Process types: the type of a process container or service (worker, clock, ...).
inline constexpr const char* k_process = "io.pallet.process";
// Serve records: the process counts a version was served with ("clock=1 worker=2").
inline constexpr const char* k_processes = "io.pallet.processes";
// Set by applications on their images: the services they require, and those they can use.
inline constexpr const char* k_services_required = "io.pallet.services";
inline constexpr const char* k_services_optional = "io.pallet.services.optional";
// And the other processes they run next to serve (the commands they answer): io.pallet.processes,
// the same key as the serve records' (k_processes).
inline constexpr const char* k_test_run = "io.pallet.test-run";  // test runs
inline constexpr const char* k_role = "io.pallet.role";          // volumes: storage, static
// Routers: the nginx configuration file the router was started with (nginx -c). Routers
// started by docker-pallet 0.1 lack it: theirs is a conf.d snippet of the image's own nginx.conf.
inline constexpr const char* k_router_config = "io.pallet.router-config";
// Swarm: the deploy job a lock or a result is about; a deploy's start and end (unix seconds).
inline constexpr const char* k_job = "io.pallet.job";
inline constexpr const char* k_finished = "io.pallet.finished";
// The edge: the address and port it listens on for HTTP.
inline constexpr const char* k_edge_http = "io.pallet.edge-http";
inline constexpr const char* k_edge_https = "io.pallet.edge-https";
// Every key above that the plugin's containers carry: what a listing of them asks for (a
// listing gives only the labels it names). A label added above belongs here too.
const std::vector<std::string>& container_keys();
}  // namespace label

namespace phase {
inline constexpr const char* k_test = "test";
inline constexpr const char* k_deploy = "deploy";
inline constexpr const char* k_serve = "serve";
inline constexpr const char* k_router = "router";
inline constexpr const char* k_config = "config";
inline constexpr const char* k_serve_record = "serve-record";
inline constexpr const char* k_service = "service";  // provided service containers
inline constexpr const char* k_serve_lock = "serve-lock";
inline constexpr const char* k_run = "run";          // one-off commands
inline constexpr const char* k_process = "process";  // a process type's replicas
inline constexpr const char* k_edge = "edge";        // the engine's one front door
inline constexpr const char* k_acme = "acme";        // the ACME client, asking for a certificate
inline constexpr const char* k_backup = "backup";    // a backup's or restore's job
// Swarm environments' records (configs) and checks.
inline constexpr const char* k_deploy_lock = "deploy-lock";
inline constexpr const char* k_deploy_result = "deploy-result";
inline constexpr const char* k_deploy_output = "deploy-output";  // what a deploy job printed
inline constexpr const char* k_check = "check";
inline constexpr const char* k_environment = "environment";  // networks and volumes
}  // namespace phase

// Names of an environment's objects on the engine.
std::string network_name(const std::string& env);
std::string storage_volume(const std::string& env);
std::string static_volume(const std::string& env);
std::string deploy_container(const std::string& env);
std::string router_container(const std::string& env);
std::string router_volume(const std::string& env);   // the router's nginx configuration
std::string backups_volume(const std::string& env);  // its backups, at /backups of a data job
std::string acme_container(const std::string& env);  // the ACME client asking for its certificate

// The engine's own objects: the edge (and a new one until it replaces the old), the volume the
// ACME client and the edge share.
inline constexpr const char* k_edge_container = "pallet-edge";
inline constexpr const char* k_edge_next_container = "pallet-edge-next";
inline constexpr const char* k_acme_volume = "pallet-acme";

// "io.pallet.env=staging": a label filter for docker's --filter label=...
std::string env_filter(const std::string& env);
std::string phase_filter(const std::string& phase);

// The labels every object of this environment carries.
docker::Labels base_labels(const std::string& env, const std::string& phase);

// The image every label-only record container is created from: an empty image the plugin
// imports itself when missing (no registry needed).
inline constexpr const char* k_record_image = "pallet-record:1";

// Seconds since the epoch, now.
long long now_seconds();
// Milliseconds since the epoch, now: unique-enough suffixes for record names.
long long now_millis();
// A random 8-hex-digit id.
std::string random_id();

}  // namespace pallet::state
