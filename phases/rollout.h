#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "phases/context.h"
#include "phases/launch.h"
#include "phases/phase_env.h"
#include "phases/router.h"
#include "phases/serve_lock.h"
#include "state/environments.h"
#include "state/history.h"
#include "state/labels.h"
#include "state/snapshot.h"

// What serve, scale and stop share: the serve containers' rollout behind the router, its health
// checks, the switch of traffic and the environment's serve lock.
namespace pallet::phases {

inline constexpr int k_stop_timeout_seconds = 10;

std::vector<std::string> names_of(const std::vector<docker::ContainerRecord>& records);

// Refuses a version whose last deploy in the environment (among `deploys`, newest first) did
// not succeed.
void require_deployed(Context& context, const std::vector<docker::ContainerRecord>& deploys,
                      const std::string& env, const ResolvedImage& image);

// Why new serve containers are not healthy.
struct Unhealthy {
    std::string summary;   // one line, no application output: what the history records
    std::string evidence;  // the summary, the answer's first lines and the container's output
};

// Waits until every container answers a health request like a user's (any status below 400)
// and, for an image with a HEALTHCHECK, docker calls it healthy; false with `why` when one
// does not in time.
bool wait_healthy(Context& context, const state::Environment& env, Router& router,
                  const std::vector<std::string>& names, Unhealthy& why);

// Containers this command started: removed again unless the command commits to them.
class Rollout {
  public:
    explicit Rollout(Context& context) : m_context(context) {}
    Rollout(const Rollout&) = delete;
    Rollout& operator=(const Rollout&) = delete;
    ~Rollout() {
        if (m_committed) {
            return;
        }
        m_context.docker.remove_containers(m_fresh);
        if (m_router_started) {
            m_context.docker.remove_containers({state::router_container(m_env)});
            m_context.docker.remove_volumes({state::router_volume(m_env)});
        }
    }

    // Starts `count` serve containers of the image.
    void start(const state::Environment& env, const ResolvedImage& image, int count) {
        m_env = env.name;
        std::vector<docker::ContainerSpec> specs;
        for (int i = 0; i < count; ++i) {
            docker::ContainerSpec spec =
                phase_container(m_context, env, state::phase::k_serve, image);
            spec.name = fmt::format("pallet-{}-serve-{}", env.name, state::random_id());
            // No restart policy until they carry traffic (commit): an engine that dies during a
            // rollout must not bring back containers nothing routes to.
            spec.stop_timeout = k_stop_timeout_seconds;
            m_fresh.push_back(spec.name);
            specs.push_back(std::move(spec));
        }
        launch_replicas(m_context, image, specs);
    }

    // The router of `env` was started by this command: it goes too unless the command commits.
    void router_started(const std::string& env) {
        m_env = env;
        m_router_started = true;
    }
    const std::vector<std::string>& fresh() const { return m_fresh; }
    // They carry traffic now: they are kept, and come back after the engine restarts (always:
    // an engine started again without live-restore stops every container as if by hand, and
    // unless-stopped would then leave them down).
    // The router too (one started by docker-pallet 0.1 has unless-stopped).
    void commit() {
        std::vector<std::string> kept = m_fresh;
        kept.push_back(state::router_container(m_env));
        m_context.docker.set_restart_policy(kept, k_serving_restart_policy);
        m_committed = true;
    }

  private:
    Context& m_context;
    std::vector<std::string> m_fresh;
    std::string m_env;
    bool m_router_started = false;
    bool m_committed = false;
};

// A serve event of the history, by this command's user.
state::HistoryEntry serve_event(const Context& context, const ResolvedImage& image,
                                const std::string& result, std::optional<double> duration);

// Puts `serving` (running and healthy) behind the router, and only then commits `rollout`
// (its containers carry traffic now); then retires `old`: requests in flight finish during
// the drain, then old containers stop. A cancellation during the drain stops them at once.
void switch_traffic(Context& context, const state::Environment& env, Router& router,
                    const std::vector<std::string>& serving, const std::vector<std::string>& old,
                    Rollout* rollout);

// Keeps the port the engine picked for the environment's router as its own, so that its URL
// stays the same when the router starts again. Settings changed meanwhile are read again.
void keep_port(state::EnvironmentStore& store, state::Environment& env, int port);

// The environment's state and its serve lock: read first (the lock's lease depends on the
// settings), and read again if another command held the lock first. A lock taken at once means
// nobody changed what it serves since the read: any change holds the lock longer than that.
struct Locked {
    state::Snapshot snapshot;
    state::Environment env;
    std::unique_ptr<ServeLock> lock;
};

// Longer than any serve, scale or stop of the environment may take.
std::chrono::seconds lock_stale_after(const state::Environment& env);

// Reads the environment (created with `create`) and takes its serve lock.
Locked lock_environment(Context& context, state::Snapshot snapshot, bool create);

}  // namespace pallet::phases
