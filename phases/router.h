#pragma once

#include <string>
#include <vector>

#include "phases/context.h"
#include "state/environments.h"

namespace pallet::phases {

// The nginx configuration of an environment's router: proxies to the serve containers' port
// 8000 and serves /static from the static volume with immutable caching.
std::string router_config(const state::Environment& env, const std::vector<std::string>& upstreams);

// The router of an environment: one nginx container that owns the environment's host port.
class Router {
public:
    Router(Context& context, const state::Environment& env) : m_context(context), m_env(env) {}

    // True when the router container runs.
    bool running();
    // Starts the router sending traffic to `upstreams`; replaces a stopped one.
    void start(const std::vector<std::string>& upstreams);
    // Points the running router at `upstreams` with a graceful reload (in-flight requests finish).
    void switch_to(const std::vector<std::string>& upstreams);
    // True when `container` answers HTTP on port 8000 at `path`, asked from the router.
    bool answers(const std::string& container, const std::string& path);
    // The router image: plugins.pallet router-image / PALLET_ROUTER_IMAGE, else nginx.
    std::string image() const;

private:
    Context& m_context;
    const state::Environment& m_env;
};

}  // namespace pallet::phases
