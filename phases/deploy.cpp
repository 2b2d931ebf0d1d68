#include "phases/deploy.h"

#include <fmt/format.h>

#include <chrono>

#include "orchestrator/open.h"
#include "phases/backup.h"
#include "phases/processes.h"
#include "phases/services.h"
#include "state/history.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

using orchestrator::DeployHolder;

// "v2 (started by ann@ci-7 3m10s ago)", the age by the engine's clock.
std::string describe(Context& context, const DeployHolder& holder) {
    return fmt::format("{} (started by {}@{} {})", holder.version, holder.user, holder.host,
                       state::time_ago(holder.started, context.docker.engine_now()));
}

std::string follow_command(Context& context, const std::string& env) {
    return context.command(fmt::format("pallet logs {} --phase deploy -f", env));
}

// Shows the deploy's output live and returns its exit code. On cancellation the deploy goes on.
int follow(Context& context, orchestrator::Orchestrator& opened, const state::Environment& env,
           const DeployHolder& holder) {
    try {
        const orchestrator::DeployEnd end = opened.follow_deploy(env, holder);
        if (end.exit_code == 0) {
            context.outcome("deploy of {} to {} succeeded{}", holder.version, env.name, end.where);
        } else {
            context.note(
                "docker-pallet: error: deploy of {} to {} failed ({}); it will not be served. "
                "See {}\n",
                holder.version, env.name, end.why,
                context.command(fmt::format("pallet logs {} --phase deploy", env.name)));
        }
        return end.exit_code;
    } catch (const Cancelled&) {
        context.note(
            "docker-pallet: the deploy goes on in {} (a deploy is never killed); follow it "
            "with: {}\n",
            opened.deploy_name(holder), follow_command(context, env.name));
        throw;
    }
}

// The backup before a deploy; the error says how to go without it.
void backup_before(Context& context, orchestrator::Orchestrator& opened,
                   const state::Environment& env, const std::string& image) {
    try {
        take_backup(context, opened, env, "before deploy of " + image, "", true);
    } catch (const Error& e) {
        throw Error(fmt::format(
            "{}\nThe deploy of {} did not run: the backup before it failed. Deploy without it "
            "this once with {}, or never take one before a deploy of {} with {}",
            e.what(), image,
            context.command(fmt::format("pallet deploy --no-backup {} {}", env.name, image)),
            env.name,
            context.command(
                fmt::format("pallet env update {} --no-backup-before-deploy", env.name))));
    }
}

}  // namespace

void prepare_services(Context& context, orchestrator::Orchestrator& opened,
                      const state::Environment& env, const ResolvedImage& image) {
    require_services(image.record.labels, env.services, env.name, image.ref,
                     context.command("pallet"));
    opened.provide_services(env);
}

int run_deploy(Context& context, const DeployOptions& options) {
    state::validate_env_name(options.env, "docker pallet deploy");
    const ResolvedImage image = resolve_image(context, options.image);
    auto opened = orchestrator::open(context, options.env);
    return deploy_image(context, *opened, options, image);
}

int deploy_image(Context& context, orchestrator::Orchestrator& opened, const DeployOptions& options,
                 const ResolvedImage& image) {
    // An image that needs a service the environment lacks is refused before the environment
    // gets anything (an environment of that name not created yet has none).
    state::Environment known;
    known.name = options.env;
    require_services(image.record.labels, opened.state().settings.value_or(known).services,
                     options.env, image.ref, context.command("pallet"));
    declared_processes(image.record.labels, image.ref);  // a bad name, before anything runs
    const state::Environment env = opened.ensure();
    opened.provide_services(env);
    opened.prepare_image(env, image);

    // The backup before the deploy is taken while the lock is free, right before it is taken:
    // a deploy of the same version that runs is joined and takes none; after another
    // version's, which changed the data, it is taken again.
    const bool backs_up = !options.no_backup && backs_up_before_deploy(opened, env);
    bool backup_due = backs_up;
    bool lock_free =
        opened.state().deploys.empty() || opened.state().deploys.front().result != "running";
    const auto started_waiting = cancel::now();
    bool announced_wait = false;
    while (true) {
        if (cancel::requested()) {
            throw Cancelled();
        }
        std::optional<DeployHolder> holder;
        if (backup_due && !lock_free) {
            holder = opened.deploy_holder(env);
            lock_free = !holder.has_value();
        }
        if (backup_due && lock_free) {
            backup_before(context, opened, env, options.image);
            backup_due = false;
        }
        if (!holder) {
            std::optional<DeployHolder> mine;
            try {
                mine = opened.start_deploy(env, image);
            } catch (const Error& e) {
                throw Error(
                    fmt::format("the deploy of {} could not start: {}", options.image, e.what()));
            }
            if (mine) {
                if (context.docker.dry_run()) {
                    return 0;
                }
                context.step("deploying {} to {} ({})", options.image, env.name,
                             opened.deploy_name(*mine));
                return follow(context, opened, env, *mine);
            }
            holder = opened.deploy_holder(env);
        }
        lock_free = false;
        if (!holder) {
            lock_free = true;
            continue;  // released meanwhile: try again
        }
        switch (holder->state) {
            case DeployHolder::State::starting:
                cancel::sleep(std::chrono::milliseconds(200));  // being started right now
                continue;
            case DeployHolder::State::ended:
                // Its follower is gone: its end becomes history, the lock is free.
                opened.end_deploy(env, *holder);
                lock_free = true;
                continue;
            case DeployHolder::State::running:
                break;
        }
        if (holder->image_id == image.record.id) {
            context.step("a deploy of the same version is running: {}; following it",
                         describe(context, *holder));
            return follow(context, opened, env, *holder);
        }
        if (!options.wait) {
            throw Error(fmt::format(
                "another version is being deployed to {}: {}.\nWait for it with --wait, or "
                "follow it with: {}",
                env.name, describe(context, *holder), follow_command(context, env.name)));
        }
        if (options.wait->count() > 0 && cancel::now() - started_waiting > *options.wait) {
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
        backup_due = backs_up;  // after that deploy
        cancel::sleep(std::chrono::milliseconds(500));
    }
}

}  // namespace pallet::phases
