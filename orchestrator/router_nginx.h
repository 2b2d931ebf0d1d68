#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "docker/records.h"
#include "orchestrator/context.h"
#include "state/environments.h"

namespace pallet::orchestrator {

// What the router sends requests to (port 8000 of each): serve containers or swarm tasks listed
// (names resolved when nginx loads the configuration), or, when `service` is set, a swarm
// service resolved through the swarm's DNS as its tasks come and go (a task that replaces one
// on a lost node gets requests without a command of ours).
struct Upstreams {
    std::vector<std::string> servers;
    std::string service;
};

// What an environment in maintenance says when its settings give no message, and after how many
// seconds a client may come back (Retry-After).
inline constexpr const char* k_default_maintenance_message =
    "This site is down for maintenance. Please try again in a few minutes.";
inline constexpr int k_maintenance_retry_after = 120;

// The page of an environment in maintenance, `message` written as text.
std::string maintenance_page(const std::string& message);

// The http-level part of the router's nginx configuration: proxies to the upstreams and
// serves /static from the static volume with immutable caching.
std::string router_site_config(const state::Environment& env, const Upstreams& upstreams);

// The router's whole nginx configuration (nginx -c): nothing of the image's own configuration
// (default sites, conf.d, mime types, log paths) is used.
std::string router_config(const state::Environment& env, const Upstreams& upstreams);

// What a health request to a serve container got.
struct HealthAnswer {
    bool healthy = false;  // an HTTP status below 400
    int status = 0;        // 0 when nothing answered HTTP
    std::string evidence;  // the status line and the first lines of the body, or why none
};

// Reads the raw HTTP answer of a health request (as the probe prints it).
HealthAnswer parse_health_answer(const std::string& raw);

// The router's entry command (sh -c): checks the image, seeds the configuration from
// PALLET_ROUTER_CONFIG on first start, runs nginx with it alone.
const char* router_entry();

// The router image: plugins.pallet router-image / PALLET_ROUTER_IMAGE, else nginx.
// The router image: plugins.pallet router-image / PALLET_ROUTER_IMAGE when set, else the one the
// environment's router runs already (`running`: it keeps the image it was first served with,
// also in a shell without that setting), else nginx:stable-alpine.
std::string router_image(const Context& context, const std::string& running = "");

// After a command with the router image failed: throws an Error that says the image is missing,
// what it is for and which setting picks another, when it is not on the engine and cannot be
// pulled; returns (the caller rethrows its own error) otherwise.
void explain_missing_router_image(Context& context, const std::string& image);

// The main context every nginx configuration of the plugin starts with (routers, the edge): the
// entry script's user file, workers, the pid file, errors on stderr, events.
std::string nginx_main_context();

// The mime types the plugin's nginx configurations name (a `types` block's lines).
std::string mime_types();

// Replaces the nginx configuration of a running router (or edge) `container` that runs with the
// plugin's own file, with a graceful reload: returns once the old workers take no connections.
// The old configuration stays when nginx rejects the new one (then it throws).
void write_nginx_config(Context& context, const std::string& container, const std::string& config);

// Points the nginx of the router `container` (the environment's own configuration file, or for
// a router of docker-pallet 0.1 (`legacy`) its conf.d snippet) at `upstreams`, with a graceful
// reload: returns once in-flight requests are the old workers' alone.
void write_router_config(Context& context, const std::string& container,
                         const state::Environment& env, const Upstreams& upstreams, bool legacy);

// Sends `target` (a container's name or an address) a health request at `path` on port 8000 from
// the router `container`, as a user's request arrives through it: Host SITE_DOMAIN,
// X-Forwarded-Proto, X-Forwarded-For.
HealthAnswer probe_from(Context& context, const std::string& container,
                        const state::Environment& env, const std::string& target,
                        const std::string& path);

// The IPv4 addresses `name` resolves to in the router `container`, sorted (none when it does not).
std::vector<std::string> resolve_from(Context& context, const std::string& container,
                                      const std::string& name);

// Waits until nginx runs in the router (or edge) `container` (it writes its pid file once it
// listens); false when it stopped, or did not within `timeout`.
bool nginx_started(Context& context, const std::string& container, std::chrono::seconds timeout);

// The label of a router container that names its nginx configuration, and the file.
inline constexpr const char* k_router_config_file = "/pallet/nginx.conf";
inline constexpr const char* k_router_config_dir = "/pallet";
// The exit status of the router's entry script when its image lacks what the router needs.
inline constexpr int k_exit_unusable_image = 66;

}  // namespace pallet::orchestrator
