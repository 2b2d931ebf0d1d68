#pragma once

#include <optional>
#include <string>
#include <vector>

#include "docker/records.h"
#include "phases/context.h"
#include "state/environments.h"

namespace pallet::phases {

// What the router sends requests to (port 8000 of each): serve containers or swarm tasks listed
// (names resolved when nginx loads the configuration), or, when `service` is set, a swarm
// service resolved through the swarm's DNS as its tasks come and go (a task that replaces one
// on a lost node gets requests without a command of ours).
struct Upstreams {
    std::vector<std::string> servers;
    std::string service;
};

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
std::string router_image(const Context& context);

// The main context every nginx configuration of the plugin starts with (routers, the edge): the
// entry script's user file, workers, the pid file, errors on stderr, events.
std::string nginx_main_context();

// The mime types the plugin's nginx configurations name (a `types` block's lines).
std::string mime_types();

// Replaces the nginx configuration of a running router (or edge) `container` that runs with the
// plugin's own file, with a graceful reload: returns once the old workers take no connections.
// The old configuration stays when nginx rejects the new one (then it throws).
void write_nginx_config(Context& context, const std::string& container, const std::string& config);

// The router of an environment: one nginx container that owns the environment's host port.
class Router {
  public:
    Router(Context& context, const state::Environment& env) : m_context(context), m_env(env) {}
    // With its container as just read (or nullopt when there is none): not inspected again. A
    // record with an id and no name stands for a swarm router's task container.
    Router(Context& context, const state::Environment& env,
           const std::optional<docker::ContainerRecord>& known)
        : m_context(context), m_env(env), m_inspected(true), m_record(known) {}

    // True when the router container runs.
    bool running();
    // Starts the router, sending no traffic yet; replaces a stopped one. Fails, leaving nothing
    // behind, when the port is taken or the image lacks what the router needs. Returns the host
    // port it listens on: without one set, the engine picks a free one, on which the router is
    // then started for good, so that it keeps it when it starts again (after an engine restart
    // docker would pick another).
    int start();
    // Where users reach it: "http://127.0.0.1:8080/".
    std::string url();
    // Points the running router at `upstreams` with a graceful reload (in-flight requests finish).
    void switch_to(const Upstreams& upstreams);
    // Sends `container` a health request at `path` on port 8000 from the router, as a user's
    // request arrives through it: Host SITE_DOMAIN, X-Forwarded-Proto, X-Forwarded-For.
    // `target`: a serve container's name, or a swarm task's address.
    HealthAnswer probe(const std::string& target, const std::string& path);
    // The IPv4 addresses `name` resolves to where the router runs, sorted (none when it does not).
    std::vector<std::string> resolve(const std::string& name);
    std::string image() const { return router_image(m_context); }

  private:
    // The container to exec nginx commands in.
    std::string container() const;
    // Starts the router container publishing `port` (0: any free one).
    void start_on(int port, bool wait);
    // The running router container, inspected once.
    const std::optional<docker::ContainerRecord>& record();
    // Waits until nginx runs in the new router; throws with its output when it stopped.
    void wait_started(const std::string& name);

    Context& m_context;
    const state::Environment& m_env;
    bool m_inspected = false;
    std::optional<docker::ContainerRecord> m_record;
    int m_started_port = 0;  // the port of a router this object started
};

}  // namespace pallet::phases
