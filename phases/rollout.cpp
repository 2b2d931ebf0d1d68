#include "phases/rollout.h"

#include <fmt/format.h>

#include "orchestrator/open.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

void require_deployed(Context& context, const std::vector<state::HistoryEntry>& deploys,
                      const std::string& env, const ResolvedImage& image) {
    for (const auto& entry : deploys) {
        if (entry.image_id != image.record.id) {
            continue;
        }
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

bool wait_healthy(const state::Environment& env, orchestrator::Router& router,
                  orchestrator::Replicas& replicas, const std::vector<std::string>& targets,
                  Unhealthy& why) {
    const auto deadline = cancel::now() + std::chrono::seconds(env.health_timeout);
    for (const auto& target : targets) {
        orchestrator::HealthAnswer answer;
        while (true) {
            const orchestrator::ReplicaState state = replicas.state(target);
            if (state.up && state.ready) {
                answer = router.probe(target, env.health_path);
                if (answer.healthy) {
                    break;
                }
            }
            if (!state.up || cancel::now() > deadline) {
                std::string what;
                std::string detail;
                if (!state.up) {
                    what = state.problem;
                } else if (!state.ready) {
                    what = fmt::format("was {} by its HEALTHCHECK after {}s", state.problem,
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
                why.summary = fmt::format("{} {}", target, what);
                why.evidence =
                    fmt::format("{}{}. Its last output:\n{}", why.summary,
                                detail.empty() ? "" : "\n" + detail, replicas.output(target));
                return false;
            }
            cancel::sleep(std::chrono::milliseconds(250));
        }
    }
    return true;
}

state::HistoryEntry serve_event(const Context& context, const std::string& version,
                                const std::string& image_id, const std::string& result,
                                std::optional<double> duration) {
    state::HistoryEntry entry;
    entry.phase = state::phase::k_serve;
    entry.version = version;
    entry.image_id = image_id;
    entry.result = result;
    entry.duration = duration;
    entry.user = context.actor_user;
    entry.host = context.actor_host;
    return entry;
}

void drain_and_remove(Context& context, const state::Environment& env,
                      orchestrator::Replicas& old) {
    context.step("switched {} to the new version; letting requests in flight finish ({} ms)",
                 env.name, env.drain_ms);
    try {
        cancel::sleep(std::chrono::milliseconds(env.drain_ms));
    } catch (const Cancelled&) {
        old.remove();
        throw;
    }
    context.step("stopping the old version's {} replica(s)", old.count());
    old.remove();
}

std::chrono::seconds lock_stale_after(const state::Environment& env) {
    return std::chrono::seconds(env.health_timeout + env.service_timeout + env.drain_ms / 1000 +
                                10 + 120);
}

Locked lock_environment(Context& context, const std::string& name, bool create) {
    Locked locked;
    locked.opened = orchestrator::open(context, name);
    if (!locked.opened->state().settings && !create) {
        state::EnvironmentStore(context.docker).get(name);  // throws: no such environment
    }
    locked.env = locked.opened->ensure();
    locked.lock = std::make_unique<ServeLock>(context, *locked.opened, locked.env,
                                              lock_stale_after(locked.env));
    if (locked.lock->waited()) {
        locked.opened->reread();
        if (locked.opened->state().settings) {
            locked.env = *locked.opened->state().settings;
        }
    }
    return locked;
}

}  // namespace pallet::phases
