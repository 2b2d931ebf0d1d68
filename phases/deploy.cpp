#include "phases/deploy.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

#include "phases/launch.h"
#include "phases/phase_env.h"
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

// A container named as the lock but never started is a deploy whose `docker run` is in
// progress; past this age its starter died and it no longer holds the lock.
constexpr double k_stale_created_seconds = 60;

// "v2 (started by ann@ci-7 3m10s ago)", the age by the engine's clock.
std::string describe(Context& context, const docker::ContainerRecord& record) {
    return fmt::format("{} (started by {}@{} {})", record.label(state::label::k_version),
                       record.label(state::label::k_user), record.label(state::label::k_host),
                       state::time_ago(state::created_at(record), context.docker.engine_now()));
}

// Shows the deploy's output live and returns its exit code. On cancellation the deploy goes on.
int follow(Context& context, const std::string& env, const std::string& container,
           const std::string& version) {
    try {
        // The deploy's output is progress of this command: stderr, so stdout stays data.
        if (context.shows_logs()) {
            context.output_follows();
            context.docker.stream_logs(container, true, docker::Output::stderr);
        }
        const int code = context.docker.wait_container(container);
        if (code == 0) {
            context.step("deploy of {} to {} succeeded", version, env);
        } else {
            context.note(
                "docker-pallet: error: deploy of {} to {} failed (exit {}); it will not be "
                "served. See {}\n",
                version, env, code,
                context.command(fmt::format("pallet logs {} --phase deploy", env)));
        }
        return code;
    } catch (const Cancelled&) {
        context.note(
            "docker-pallet: the deploy goes on in container {} (a deploy is never killed); "
            "follow it with: {}\n",
            container, context.command(fmt::format("pallet logs {} --phase deploy -f", env)));
        throw;
    } catch (const Error& e) {
        // The engine went away (or restarted) while the deploy ran.
        throw Error(fmt::format(
            "lost the deploy of {} to {} while following it: {}\nWhether it succeeded is unknown "
            "here. Once the engine answers, {} tells; a deploy that did not succeed is never "
            "served, and nothing needs unlocking by hand: deploy again if it did not succeed",
            version, env, e.what(), context.command(fmt::format("pallet history {}", env))));
    }
}

}  // namespace

int run_deploy(Context& context, const DeployOptions& options) {
    state::validate_env_name(options.env, "docker pallet deploy");
    return deploy_image(context, options, resolve_image(context, options.image));
}

int deploy_image(Context& context, const DeployOptions& options, const ResolvedImage& image) {
    const state::Snapshot snapshot = state::read_snapshot(context.docker, options.env);
    if (!snapshot.settings) {
        if (auto env = swarm::find(context, options.env)) {
            return swarm::deploy(context, *env, options, image);
        }
    }
    state::EnvironmentStore store(context.docker);
    state::Environment env = store.ensure(snapshot);
    prepare_services(context, env, image.record.labels, options.image, &snapshot.services);
    // A finished deploy keeps the lock's name until the next one archives it: this one.
    if (const auto* last = snapshot.deploy_lock();
        last != nullptr && !last->running && last->status != "created") {
        state::archive_deploy(context.docker, env.name, *last, snapshot.deploys);
    }

    docker::ContainerSpec spec = phase_container(context, env, state::phase::k_deploy, image);
    spec.name = state::deploy_container(env.name);

    const auto started_waiting = std::chrono::steady_clock::now();
    bool announced_wait = false;
    while (true) {
        if (cancel::requested()) {
            throw Cancelled();
        }
        docker::StartOutcome outcome;
        try {
            outcome = launch_detached(context, image, spec);
        } catch (const Error& e) {
            // The container exists but could not start (no deploy command, bad user...):
            // keep it as a failed deploy in the history and free the lock.
            if (auto record = context.docker.inspect_container(spec.name);
                record && !record->running &&
                record->label(state::label::k_image_id) == image.record.id) {
                state::archive_deploy(context.docker, env.name, *record, snapshot.deploys);
            }
            throw Error(
                fmt::format("the deploy of {} could not start: {}", options.image, e.what()));
        }
        if (outcome == docker::StartOutcome::started) {
            if (context.docker.dry_run()) {
                return 0;
            }
            context.step("deploying {} to {} (container {})", options.image, env.name, spec.name);
            return follow(context, env.name, spec.name, options.image);
        }

        auto holder = context.docker.inspect_container(spec.name);
        if (!holder) {
            continue;  // removed meanwhile: try again
        }
        if (holder->running) {
            if (holder->label(state::label::k_image_id) == image.record.id) {
                context.step("a deploy of the same version is running: {}; following it",
                             describe(context, *holder));
                return follow(context, env.name, holder->id, options.image);
            }
            if (!options.wait) {
                throw Error(fmt::format(
                    "another version is being deployed to {}: {}.\nWait for it with --wait, or "
                    "follow it with: {pallet} logs {} --phase deploy -f",
                    env.name, describe(context, *holder), env.name,
                    fmt::arg("pallet", context.command("pallet"))));
            }
            if (options.wait->count() > 0 &&
                std::chrono::steady_clock::now() - started_waiting > *options.wait) {
                throw Error(fmt::format("gave up waiting after {} for the deploy of {} to end",
                                        util::format_duration(*options.wait),
                                        describe(context, *holder)));
            }
            if (!announced_wait) {
                context.step("waiting for the deploy of {} to end ({})", describe(context, *holder),
                             options.wait->count() > 0
                                 ? "at most " + util::format_duration(*options.wait)
                                 : std::string("as long as it runs: --wait"));
                announced_wait = true;
            }
            cancel::sleep(std::chrono::milliseconds(500));
            continue;
        }
        if (holder->status == "created" &&
            context.docker.engine_now() - state::created_at(*holder) < k_stale_created_seconds) {
            cancel::sleep(std::chrono::milliseconds(200));  // being started right now
            continue;
        }
        // Finished (or a start that was abandoned): it becomes history, the lock is free.
        state::archive_deploy(context.docker, env.name, *holder, snapshot.deploys);
    }
}

}  // namespace pallet::phases
