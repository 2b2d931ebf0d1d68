#include "phases/serve.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "phases/phase_env.h"
#include "phases/router.h"
#include "state/environments.h"
#include "state/history.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

constexpr int k_stop_timeout_seconds = 10;
constexpr auto k_drain = std::chrono::milliseconds(1500);

std::vector<docker::ContainerRecord> serve_containers(Context& context, const std::string& env) {
    return context.docker.list_containers(
        {state::env_filter(env), state::phase_filter(state::phase::k_serve)});
}

std::vector<std::string> names_of(const std::vector<docker::ContainerRecord>& records) {
    std::vector<std::string> names;
    for (const auto& record : records) {
        names.push_back(record.name);
    }
    return names;
}

void sleep_or_cancel(std::chrono::milliseconds duration) {
    const auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end) {
        if (cancel::requested()) {
            throw Cancelled();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// Refuses a version whose last deploy in the environment did not succeed.
void require_deployed(Context& context, const std::string& env, const ResolvedImage& image) {
    for (const auto& record : state::deploy_records(context.docker, env)) {
        if (record.label(state::label::k_image_id) != image.record.id) {
            continue;
        }
        auto entry = state::deploy_entry(record);
        if (entry.result == "succeeded") {
            return;
        }
        if (entry.result == "running") {
            throw Error(fmt::format("the deploy of {} to {} is still running; serve it when it has "
                                    "succeeded (follow it: docker pallet logs {} --phase deploy -f)",
                                    image.ref, env, env));
        }
        throw Error(fmt::format("the last deploy of {} to {} {}; a version is served only after "
                                "its deploy succeeded. Run: docker pallet deploy {} {}",
                                image.ref, env, entry.result == "not started" ? "did not start"
                                                                              : entry.result,
                                env, image.ref));
    }
    throw Error(fmt::format("{} was never deployed to {}; deploy it first: docker pallet deploy {} "
                            "{} (or docker pallet release {} {})",
                            image.ref, env, env, image.ref, env, image.ref));
}

// Waits until every container answers HTTP; false with `evidence` when one does not in time.
bool wait_healthy(Context& context, const state::Environment& env, Router& router,
                  const std::vector<std::string>& names, std::string& evidence) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(env.health_timeout);
    for (const auto& name : names) {
        while (!router.answers(name, env.health_path)) {
            auto record = context.docker.inspect_container(name);
            if (!record || !record->running || std::chrono::steady_clock::now() > deadline) {
                evidence = fmt::format(
                    "{} {} on port 8000 at {}. Its last output:\n{}", name,
                    record && record->running ? "did not answer HTTP in time"
                                              : fmt::format("exited (exit {})", record ? record->exit_code : -1),
                    env.health_path, context.docker.logs_tail(name, 20));
                return false;
            }
            sleep_or_cancel(std::chrono::milliseconds(250));
        }
    }
    return true;
}

}  // namespace

int run_serve(Context& context, const ServeOptions& options) {
    state::validate_env_name(options.env, "docker pallet serve");
    state::EnvironmentStore store(context.docker);
    state::Environment env = store.ensure(options.env);

    auto old_containers = serve_containers(context, env.name);
    std::string ref;
    if (options.image) {
        ref = *options.image;
    } else if (!old_containers.empty()) {
        ref = old_containers.front().label(state::label::k_version);
    } else {
        throw Error(fmt::format("{} serves nothing yet; name the version: docker pallet serve {} "
                                "IMAGE",
                                env.name, env.name));
    }
    ResolvedImage image = resolve_image(context, ref);
    require_deployed(context, env.name, image);
    const int replicas = options.replicas.value_or(
        old_containers.empty() ? 1 : static_cast<int>(old_containers.size()));

    Router router(context, env);
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::string> fresh;
    try {
        for (int i = 0; i < replicas; ++i) {
            docker::ContainerSpec spec = phase_container(context, env, state::phase::k_serve, image);
            spec.name = fmt::format("pallet-{}-serve-{}", env.name, state::random_id());
            spec.restart = "unless-stopped";
            spec.stop_timeout = k_stop_timeout_seconds;
            context.docker.run_detached(spec);
            fresh.push_back(spec.name);
        }
        context.step("started {} serve container(s) of {}", replicas, image.ref);
        if (context.docker.dry_run()) {
            return 0;
        }
        const bool router_was_running = router.running();
        if (!router_was_running) {
            router.start(fresh);
        }
        std::string evidence;
        if (!wait_healthy(context, env, router, fresh, evidence)) {
            if (!router_was_running) {
                context.docker.remove_containers({state::router_container(env.name)});
            }
            context.docker.remove_containers(fresh);
            state::HistoryEntry entry{state::phase::k_serve, image.ref, image.record.id,
                                      "failed health check", 0, std::nullopt, context.actor_user,
                                      context.actor_host, ""};
            state::record_serve(context.docker, env.name, entry, evidence.substr(0, 2000));
            throw Error(fmt::format("{} did not become healthy, so nothing changed for users: {}",
                                    image.ref, evidence));
        }
        if (router_was_running) {
            router.switch_to(fresh);
            context.step("switched {} to {}; letting requests in flight finish", env.name, image.ref);
            sleep_or_cancel(k_drain);
        }
    } catch (const Cancelled&) {
        context.docker.remove_containers(fresh);
        throw;
    }
    if (!old_containers.empty()) {
        context.step("stopping {} old serve container(s)", old_containers.size());
        context.docker.stop_containers(names_of(old_containers));
        context.docker.remove_containers(names_of(old_containers));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    state::HistoryEntry entry{state::phase::k_serve, image.ref, image.record.id, "serving", 0,
                              seconds, context.actor_user, context.actor_host, ""};
    state::record_serve(context.docker, env.name, entry, util::join(fresh, " "));
    auto router_record = context.docker.inspect_container(state::router_container(env.name));
    std::string where = router_record && !router_record->published.empty()
                            ? router_record->published.front()
                            : std::string("?");
    const std::string address = where.substr(0, where.find("->"));
    fmt::print("http://{}/\n", address);
    context.step("{} serves {} at http://{}/ ({} replica(s))", env.name, image.ref, address, replicas);
    return 0;
}

int run_release(Context& context, const DeployOptions& deploy, std::optional<int> replicas) {
    const int code = run_deploy(context, deploy);
    if (code != 0 || context.docker.dry_run()) {
        if (context.docker.dry_run()) {
            ServeOptions serve{deploy.env, deploy.image, replicas};
            context.step("then: docker pallet serve {} {}", serve.env, *serve.image);
        }
        return code;
    }
    return run_serve(context, ServeOptions{deploy.env, deploy.image, replicas});
}

int run_stop(Context& context, const std::string& env_name) {
    state::validate_env_name(env_name, "docker pallet stop");
    state::EnvironmentStore store(context.docker);
    state::Environment env = store.get(env_name);
    auto serving = serve_containers(context, env.name);
    std::vector<std::string> names = names_of(serving);
    if (context.docker.inspect_container(state::router_container(env.name))) {
        names.push_back(state::router_container(env.name));
    }
    context.docker.stop_containers(names);
    context.docker.remove_containers(names);
    context.docker.remove_volumes({fmt::format("pallet-{}-router", env.name)});
    if (!serving.empty() && !context.docker.dry_run()) {
        state::HistoryEntry entry{state::phase::k_serve, serving.front().label(state::label::k_version),
                                  serving.front().label(state::label::k_image_id), "stopped", 0,
                                  std::nullopt, context.actor_user, context.actor_host, ""};
        state::record_serve(context.docker, env.name, entry, "");
    }
    context.step("{} is stopped", env.name);
    return 0;
}

int run_rm(Context& context, const std::string& env_name, bool volumes) {
    state::validate_env_name(env_name, "docker pallet rm");
    state::EnvironmentStore store(context.docker);
    store.get(env_name);
    store.remove(env_name, volumes);
    if (volumes) {
        context.step("removed {} and its volumes", env_name);
    } else {
        context.step("removed {}; its /storage and /static volumes are kept (rm --volumes removes "
                     "them)",
                     env_name);
    }
    return 0;
}

}  // namespace pallet::phases
