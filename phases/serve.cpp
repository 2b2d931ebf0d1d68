#include "phases/serve.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "phases/edge.h"
#include "phases/launch.h"
#include "phases/phase_env.h"
#include "phases/router.h"
#include "phases/serve_lock.h"
#include "phases/services.h"
#include "phases/swarm.h"
#include "state/environments.h"
#include "state/history.h"
#include "state/labels.h"
#include "state/snapshot.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

constexpr int k_stop_timeout_seconds = 10;

std::vector<std::string> names_of(const std::vector<docker::ContainerRecord>& records) {
    std::vector<std::string> names;
    for (const auto& record : records) {
        names.push_back(record.name);
    }
    return names;
}

// Refuses a version whose last deploy in the environment (among `deploys`, newest first) did
// not succeed.
void require_deployed(Context& context, const std::vector<docker::ContainerRecord>& deploys,
                      const std::string& env, const ResolvedImage& image) {
    for (const auto& record : deploys) {
        if (record.label(state::label::k_image_id) != image.record.id) {
            continue;
        }
        auto entry = state::deploy_entry(record);
        if (entry.result == "succeeded") {
            return;
        }
        if (entry.result == "running") {
            throw Error(
                fmt::format("the deploy of {} to {} is still running; serve it when it has "
                            "succeeded (follow it: {pallet} logs {} --phase deploy -f)",
                            image.ref, env, env, fmt::arg("pallet", context.command("pallet"))));
        }
        throw Error(fmt::format(
            "the last deploy of {} to {} {}; a version is served only after "
            "its deploy succeeded. Run: {pallet} deploy {} {}",
            image.ref, env, entry.result == "not started" ? "did not start" : entry.result, env,
            image.ref, fmt::arg("pallet", context.command("pallet"))));
    }
    throw Error(
        fmt::format("{} was never deployed to {}; deploy it first: {pallet} deploy {} "
                    "{} (or {pallet} release {} {})",
                    image.ref, env, env, image.ref, env, image.ref,
                    fmt::arg("pallet", context.command("pallet"))));
}

// Why new serve containers are not healthy.
struct Unhealthy {
    std::string summary;   // one line, no application output: what the history records
    std::string evidence;  // the summary, the answer's first lines and the container's output
};

// Waits until every container answers a health request like a user's (any status below 400)
// and, for an image with a HEALTHCHECK, docker calls it healthy; false with `why` when one
// does not in time.
bool wait_healthy(Context& context, const state::Environment& env, Router& router,
                  const std::vector<std::string>& names, Unhealthy& why) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(env.health_timeout);
    for (const auto& name : names) {
        HealthAnswer answer;
        while (true) {
            auto record = context.docker.inspect_container(name);
            const bool running = record && record->running;
            const bool checked_healthy =
                record && (record->health.empty() || record->health == "healthy");
            if (running && checked_healthy) {
                answer = router.probe(name, env.health_path);
                if (answer.healthy) {
                    break;
                }
            }
            if (!running || std::chrono::steady_clock::now() > deadline) {
                std::string what;
                std::string detail;
                if (!running) {
                    what = fmt::format("exited (exit {})", record ? record->exit_code : -1);
                } else if (!checked_healthy) {
                    what = fmt::format("was {} by its HEALTHCHECK after {}s", record->health,
                                       env.health_timeout);
                } else {
                    what = fmt::format(
                        "did not answer GET {} (Host: {}) on port 8000 with a status "
                        "below 400 within {}s; the last answer: {}",
                        env.health_path, env.site_domain, env.health_timeout,
                        answer.status == 0 ? std::string("none")
                                           : util::split(answer.evidence, '\n').front());
                    detail = answer.evidence;
                }
                why.summary = fmt::format("{} {}", name, what);
                why.evidence = fmt::format("{}{}. Its last output:\n{}", why.summary,
                                           detail.empty() ? "" : "\n" + detail,
                                           context.docker.logs_tail(name, 20));
                return false;
            }
            cancel::sleep(std::chrono::milliseconds(250));
        }
    }
    return true;
}

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

state::HistoryEntry serve_event(const Context& context, const ResolvedImage& image,
                                const std::string& result, std::optional<double> duration) {
    return state::HistoryEntry{
        state::phase::k_serve, image.ref, image.record.id, result, 0, duration, context.actor_user,
        context.actor_host,    ""};
}

// Puts `serving` (running and healthy) behind the router, and only then commits `rollout`
// (its containers carry traffic now); then retires `old`: requests in flight finish during
// the drain, then old containers stop. A cancellation during the drain stops them at once.
void switch_traffic(Context& context, const state::Environment& env, Router& router,
                    const std::vector<std::string>& serving, const std::vector<std::string>& old,
                    Rollout* rollout) {
    router.switch_to({serving, ""});
    if (rollout != nullptr) {
        rollout->commit();
    }
    if (old.empty()) {
        return;
    }
    context.step("switched {} to the new containers; letting requests in flight finish ({} ms)",
                 env.name, env.drain_ms);
    try {
        cancel::sleep(std::chrono::milliseconds(env.drain_ms));
    } catch (const Cancelled&) {
        context.docker.stop_containers(old);
        context.docker.remove_containers(old);
        throw;
    }
    context.step("stopping {} old serve container(s)", old.size());
    context.docker.stop_containers(old);
    context.docker.remove_containers(old);
}

// Keeps the port the engine picked for the environment's router as its own, so that its URL
// stays the same when the router starts again. Settings changed meanwhile are read again.
void keep_port(state::EnvironmentStore& store, state::Environment& env, int port) {
    for (int attempt = 0;; ++attempt) {
        state::Environment latest = attempt == 0 ? env : store.get(env.name);
        latest.port = port;
        try {
            store.save(latest);
            env = latest;
            env.generation += 1;
            return;
        } catch (const Error&) {
            if (attempt == 2) {
                throw;
            }
        }
    }
}

// The environment's state and its serve lock: read first (the lock's lease depends on the
// settings), and read again if another command held the lock first. A lock taken at once means
// nobody changed what it serves since the read: any change holds the lock longer than that.
struct Locked {
    state::Snapshot snapshot;
    state::Environment env;
    std::unique_ptr<ServeLock> lock;
};

// Longer than any serve, scale or stop of the environment may take.
std::chrono::seconds lock_stale_after(const state::Environment& env) {
    return std::chrono::seconds(env.health_timeout + env.service_timeout + env.drain_ms / 1000 +
                                k_stop_timeout_seconds + 120);
}

Locked lock_environment(Context& context, state::Snapshot snapshot, bool create) {
    const std::string name = snapshot.env;
    Locked locked;
    locked.snapshot = std::move(snapshot);
    state::EnvironmentStore store(context.docker);
    if (!locked.snapshot.settings && !create) {
        store.get(name);  // throws: no such environment, and how to make one
    }
    locked.env = store.ensure(locked.snapshot);
    locked.lock = std::make_unique<ServeLock>(context, name, lock_stale_after(locked.env));
    if (locked.lock->waited()) {
        locked.snapshot = state::read_snapshot(context.docker, name);
        if (locked.snapshot.settings) {
            locked.env = *locked.snapshot.settings;
        }
    }
    return locked;
}

}  // namespace

int run_serve(Context& context, const ServeOptions& options) {
    return serve_image(context, options, nullptr);
}

int serve_image(Context& context, const ServeOptions& options, const ResolvedImage* known) {
    state::validate_env_name(options.env, "docker pallet serve");
    auto read = state::read_snapshot(context.docker, options.env);
    if (!read.settings) {
        if (auto env = swarm::find(context, options.env)) {
            return swarm::serve(context, *env, options, known);
        }
    }
    Locked locked = lock_environment(context, std::move(read), true);
    state::Environment& env = locked.env;
    const state::Snapshot& snapshot = locked.snapshot;
    state::EnvironmentStore store(context.docker);

    const auto& old_containers = snapshot.serving;
    std::string ref;
    if (options.image) {
        ref = *options.image;
    } else if (!old_containers.empty()) {
        ref = old_containers.front().label(state::label::k_version);
    } else {
        throw Error(
            fmt::format("{} serves nothing yet; name the version: {pallet} serve {} "
                        "IMAGE",
                        env.name, env.name, fmt::arg("pallet", context.command("pallet"))));
    }
    ResolvedImage image =
        known != nullptr && known->ref == ref ? *known : resolve_image(context, ref);
    require_deployed(context, snapshot.deploys, env.name, image);
    prepare_services(context, env, image.record.labels, image.ref, &snapshot.services);
    const int replicas = options.replicas.value_or(
        old_containers.empty() ? 1 : static_cast<int>(old_containers.size()));

    Router router(context, env, snapshot.router);
    const auto started = std::chrono::steady_clock::now();
    Rollout rollout(context);
    // A router that does not run starts first, sending no traffic yet: an image it cannot use
    // is found before any serve container starts.
    const bool router_was_running = router.running();
    if (!router_was_running) {
        const int port = router.start();
        rollout.router_started(env.name);
        if (env.port == 0 && !context.docker.dry_run()) {
            keep_port(store, env, port);
        }
        refresh_edge(context);  // an edge that runs sends the domain's requests to this router
    }
    rollout.start(env, image, replicas);
    context.done("started {} serve container(s) of {}; waiting for GET {} to answer (at most {}s)",
                 replicas, image.ref, env.health_path, env.health_timeout);
    if (context.docker.dry_run()) {
        rollout.commit();
        return 0;
    }
    Unhealthy why;
    if (!wait_healthy(context, env, router, rollout.fresh(), why)) {
        state::record_serve(context.docker, env.name,
                            serve_event(context, image, "failed health check", std::nullopt),
                            why.summary, snapshot.serve_records);
        throw Error(fmt::format("{} did not become healthy, so nothing changed for users: {}",
                                image.ref, why.evidence));
    }
    // Old containers behind a router that was not running had no traffic to drain.
    switch_traffic(context, env, router, rollout.fresh(),
                   router_was_running ? names_of(old_containers) : std::vector<std::string>{},
                   &rollout);
    if (!router_was_running) {
        context.docker.stop_containers(names_of(old_containers));
        context.docker.remove_containers(names_of(old_containers));
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    state::record_serve(context.docker, env.name, serve_event(context, image, "serving", seconds),
                        util::join(rollout.fresh(), " "), snapshot.serve_records);
    const std::string url = router.url();
    context.result(url);
    context.step("{} serves {} at {} ({} replica(s))", env.name, image.ref, url, replicas);
    return 0;
}

int run_scale(Context& context, const std::string& env_name, int replicas) {
    state::validate_env_name(env_name, "docker pallet scale");
    if (replicas < 1) {
        throw UsageError("scale needs at least 1 serve container; to stop serving use: " +
                             context.command("pallet stop " + env_name),
                         "docker pallet scale");
    }
    auto read = state::read_snapshot(context.docker, env_name);
    if (!read.settings) {
        if (auto env = swarm::find(context, env_name)) {
            return swarm::scale(context, *env, replicas);
        }
    }
    Locked locked = lock_environment(context, std::move(read), false);
    const state::Environment& env = locked.env;
    std::vector<docker::ContainerRecord> running;
    for (const auto& record : locked.snapshot.serving) {
        if (record.running) {
            running.push_back(record);
        }
    }
    Router router(context, env, locked.snapshot.router);
    if (running.empty() || !router.running()) {
        throw Error(
            fmt::format("{} serves nothing to scale; serve a version first: {pallet} "
                        "serve {} IMAGE",
                        env.name, env.name, fmt::arg("pallet", context.command("pallet"))));
    }
    const int now = static_cast<int>(running.size());
    if (replicas == now) {
        context.step("{} already runs {} serve container(s)", env.name, now);
        return 0;
    }
    ResolvedImage image{running.front().label(state::label::k_version), docker::ImageRecord{}};
    image.record.id = running.front().label(state::label::k_image_id);
    std::vector<std::string> keep = names_of(running);
    if (replicas > now) {
        // The very image that serves (by ID), for the user its containers run as.
        auto record = context.docker.inspect_image(image.record.id);
        if (!record) {
            throw Error(
                fmt::format("the image of {} ({}) is no longer on the engine; serve a "
                            "version again: {pallet} serve {} IMAGE",
                            image.ref, image.record.id, env.name,
                            fmt::arg("pallet", context.command("pallet"))));
        }
        image.record = *record;
        Rollout rollout(context);
        rollout.start(env, image, replicas - now);
        if (context.docker.dry_run()) {
            rollout.commit();
            return 0;
        }
        Unhealthy why;
        if (!wait_healthy(context, env, router, rollout.fresh(), why)) {
            throw Error(
                fmt::format("the new serve containers did not become healthy, so "
                            "nothing changed: {}",
                            why.evidence));
        }
        keep.insert(keep.end(), rollout.fresh().begin(), rollout.fresh().end());
        switch_traffic(context, env, router, keep, {}, &rollout);
    } else {
        std::vector<std::string> retire(keep.begin() + replicas, keep.end());
        keep.resize(static_cast<size_t>(replicas));
        switch_traffic(context, env, router, keep, retire, nullptr);
    }
    if (!context.docker.dry_run()) {
        state::record_serve(
            context.docker, env.name,
            serve_event(context, image, fmt::format("scaled to {}", replicas), std::nullopt),
            util::join(keep, " "), locked.snapshot.serve_records);
    }
    context.done("{} runs {} serve container(s) of {}", env.name, replicas, image.ref);
    return 0;
}

int run_stop(Context& context, const std::string& env_name) {
    state::validate_env_name(env_name, "docker pallet stop");
    auto read = state::read_snapshot(context.docker, env_name);
    if (!read.settings) {
        if (auto env = swarm::find(context, env_name)) {
            return swarm::stop(context, *env);
        }
    }
    Locked locked = lock_environment(context, std::move(read), false);
    const state::Environment& env = locked.env;
    const auto& serving = locked.snapshot.serving;
    std::vector<std::string> names = names_of(serving);
    if (locked.snapshot.router) {
        names.push_back(state::router_container(env.name));
    }
    context.docker.stop_containers(names);
    context.docker.remove_containers(names);
    context.docker.remove_volumes({state::router_volume(env.name)});
    if (!serving.empty() && !context.docker.dry_run()) {
        state::HistoryEntry entry{state::phase::k_serve,
                                  serving.front().label(state::label::k_version),
                                  serving.front().label(state::label::k_image_id),
                                  "stopped",
                                  0,
                                  std::nullopt,
                                  context.actor_user,
                                  context.actor_host,
                                  ""};
        state::record_serve(context.docker, env.name, entry, "", locked.snapshot.serve_records);
    }
    context.done("{} is stopped", env.name);
    refresh_edge(context);  // its domain answers 503 at the edge until it serves again
    return 0;
}

}  // namespace pallet::phases
