#include "phases/scale.h"

#include <fmt/format.h>

#include "phases/edge.h"
#include "phases/rollout.h"
#include "phases/services.h"
#include "phases/swarm.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

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

}  // namespace pallet::phases
