#include "phases/rollout.h"

#include <fmt/format.h>

#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

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

}  // namespace pallet::phases
