#include "phases/serve.h"

#include <fmt/format.h>

#include "phases/deploy.h"
#include "phases/edge.h"
#include "phases/processes.h"
#include "phases/rollout.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/together.h"

namespace pallet::phases {

int run_serve(Context& context, const ServeOptions& options) {
    return serve_image(context, options, nullptr);
}

int serve_image(Context& context, const ServeOptions& options, const ResolvedImage* known) {
    state::validate_env_name(options.env, "docker pallet serve");
    Locked locked = lock_environment(context, options.env, true);
    orchestrator::Orchestrator& opened = *locked.opened;
    state::Environment& env = locked.env;
    const orchestrator::EnvironmentState& state = opened.state();

    std::unique_ptr<orchestrator::Replicas> old = opened.serving(env);
    std::string ref;
    if (options.image) {
        ref = *options.image;
    } else if (old && !old->version().empty()) {
        ref = old->version();
    } else {
        throw Error(fmt::format("{} serves nothing yet; name the version: {pallet} serve {} IMAGE",
                                env.name, env.name, fmt::arg("pallet", context.command("pallet"))));
    }
    ResolvedImage image =
        known != nullptr && known->ref == ref ? *known : resolve_image(context, ref);
    require_deployed(context, state.deploys, env.name, image);
    prepare_services(context, opened, env, image);
    opened.prepare_image(env, image);
    const int replicas = options.replicas.value_or(old ? std::max(1, old->count()) : 1);

    const auto started = std::chrono::steady_clock::now();
    // A router that does not run starts first, sending no traffic yet: an image it cannot use,
    // or a port it cannot have, is found before any replica starts.
    auto router = opened.router(env);
    const bool router_was_running = router->running();
    if (!router_was_running) {
        router->start();
        refresh_edge(context);  // an edge that runs sends the domain's requests to this router
    }
    auto old_processes = opened.processes(env);  // as the environment was read: no docker call
    std::unique_ptr<orchestrator::Replicas> fresh;
    std::unique_ptr<orchestrator::Processes> processes;
    auto start_web = [&] {
        fresh = opened.start_replicas(env, image, replicas);
        context.done(
            "started {} serve replica(s) of {}; waiting for GET {} to answer (at most {}s)",
            replicas, image.ref, env.health_path, env.health_timeout);
    };
    if (context.docker.dry_run()) {
        start_web();
        processes = prepare_processes(opened, env, image);
        hand_over_processes(context, env, image, *old_processes, processes);
        fresh->keep();
        router->keep();
        processes->keep();
        old_processes->remove();
        return 0;
    }
    // While the web replicas start and come up, the new version's processes are made, to
    // start the moment the old ones have stopped.
    Unhealthy why;
    std::vector<std::string> targets;
    bool healthy = false;
    util::run_together(
        {[&] { processes = prepare_processes(opened, env, image); },
         [&] {
             start_web();
             try {
                 targets = fresh->wait_started(std::chrono::seconds(env.health_timeout));
             } catch (const Error& e) {
                 why.summary = e.what();
                 why.evidence = e.what();
             }
             healthy = !targets.empty() && wait_healthy(env, *router, *fresh, targets, why);
         }});
    if (!healthy) {
        opened.record_serve(env,
                            serve_event(context, image.ref, image.record.id, "failed health check"),
                            why.summary);
        throw Error(fmt::format("{} did not become healthy, so nothing changed for users: {}",
                                image.ref, why.evidence));
    }
    // The new web replicas answer, but get no request yet: first the processes change version,
    // one version of each type at a time. When the new ones do not stay up, nothing switched.
    try {
        hand_over_processes(context, env, image, *old_processes, processes);
    } catch (const Error& e) {
        opened.record_serve(
            env, serve_event(context, image.ref, image.record.id, "failed: a process exited"),
            util::split(e.what(), '\n').front());
        throw;
    }
    router->send_to(*fresh);
    // Their restart policies are independent calls; the old processes go only when the new
    // ones are kept (else they run again).
    util::run_together(
        {[&] { fresh->keep(); }, [&] { router->keep(); }, [&] { processes->keep(); }});
    // The old processes go while the old replicas drain.
    util::run_together({[&] { old_processes->remove(); },
                        [&] {
                            if (!old) {
                                return;
                            }
                            if (router_was_running) {
                                drain_and_remove(context, env, *old);
                            } else {
                                old->remove();  // behind a router that did not run: no traffic
                            }
                        }});
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto served = serve_event(context, image.ref, image.record.id, "serving", seconds);
    for (const auto& [type, count] : processes->counts()) {
        served.processes[type] = count.wanted;
    }
    opened.record_serve(env, served, util::join(targets, " "));
    const std::string url = router->url();
    context.result(url);
    context.outcome("{} serves {} at {} ({} replica(s), {:.1f}s)", env.name, image.ref, url,
                    replicas, seconds);
    return 0;
}

}  // namespace pallet::phases
