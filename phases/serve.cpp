#include "phases/serve.h"

#include <fmt/format.h>

#include "phases/edge.h"
#include "phases/rollout.h"
#include "phases/services.h"
#include "phases/swarm.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

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

}  // namespace pallet::phases
