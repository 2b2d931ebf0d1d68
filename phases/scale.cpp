#include "phases/scale.h"

#include <fmt/format.h>

#include "phases/rollout.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

int run_scale(Context& context, const std::string& env_name, int replicas) {
    state::validate_env_name(env_name, "docker pallet scale");
    if (replicas < 1) {
        throw UsageError("scale needs at least 1 serve replica; to stop serving use: " +
                             context.command("pallet stop " + env_name),
                         "docker pallet scale");
    }
    Locked locked = lock_environment(context, env_name, false);
    orchestrator::Orchestrator& opened = *locked.opened;
    state::Environment& env = locked.env;
    auto serving = opened.serving(env);
    auto router = opened.router(env);
    if (!serving || serving->count() == 0 || !router->running()) {
        throw Error(
            fmt::format("{} serves nothing to scale; serve a version first: {pallet} "
                        "serve {} IMAGE",
                        env.name, env.name, fmt::arg("pallet", context.command("pallet"))));
    }
    const int now = serving->count();
    if (replicas == now) {
        context.outcome("{} already runs {} replica(s)", env.name, now);
        return 0;
    }
    const auto timeout = std::chrono::seconds(env.health_timeout);
    if (replicas > now) {
        if (context.docker.dry_run()) {
            serving->grow(replicas, *router, timeout);
            serving->keep();
            return 0;
        }
        // New replicas get requests once they answer as a user's request would.
        const auto fresh = serving->grow(replicas, *router, timeout);
        Unhealthy why;
        if (!wait_healthy(env, *router, *serving, fresh, why)) {
            throw Error(
                fmt::format("the new replicas did not become healthy, so nothing "
                            "changed: {}",
                            why.evidence));
        }
        router->send_to(*serving);
        serving->keep();
    } else {
        // Those that go get no new request, and finish those in flight first.
        if (!context.docker.dry_run()) {
            const auto kept = serving->first(replicas);
            if (kept.empty()) {
                throw Error(fmt::format("no replica of {} would be left serving", env.name));
            }
            router->send_to(kept);
            cancel::sleep(std::chrono::milliseconds(env.drain_ms));
        }
        serving->shrink(replicas);
        if (!context.docker.dry_run()) {
            router->send_to(*serving);
        }
    }
    if (!context.docker.dry_run()) {
        opened.record_serve(env,
                            serve_event(context, serving->version(), serving->image_id(),
                                        fmt::format("scaled to {}", replicas)),
                            util::join(serving->first(replicas), " "));
    }
    context.done("{} runs {} replica(s) of {}", env.name, replicas, serving->version());
    return 0;
}

}  // namespace pallet::phases
