#include "phases/release.h"

#include <fmt/format.h>

#include <ctime>
#include <exception>

#include "orchestrator/open.h"
#include "phases/backup.h"
#include "phases/maintenance.h"
#include "phases/restore.h"
#include "phases/rollout.h"
#include "phases/serve.h"
#include "state/history.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

int run_release(Context& context, const DeployOptions& deploy, std::optional<int> replicas) {
    state::validate_env_name(deploy.env, "docker pallet release");
    const ResolvedImage image = resolve_image(context, deploy.image);  // once, for both
    int code = 0;
    {
        auto opened = orchestrator::open(context, deploy.env);
        code = deploy_image(context, *opened, deploy, image);
    }
    if (code != 0 || context.docker.dry_run()) {
        if (context.docker.dry_run()) {
            context.step("then: {pallet} serve {} {}", deploy.env, deploy.image,
                         fmt::arg("pallet", context.command("pallet")));
        }
        return code;
    }
    return serve_image(context, ServeOptions{deploy.env, deploy.image, replicas}, &image);
}

namespace {

// The backup the deploy of `current` took first: the newest "before deploy of" it.
BackupInfo backup_before_deploy_of(Context& context, orchestrator::Orchestrator& opened,
                                   const state::Environment& env, const std::string& current) {
    for (const auto& backup : list_backups(context, opened, env)) {
        if (backup.why == "before deploy of " + current) {
            return backup;
        }
    }
    throw Error(fmt::format(
        "rollback --data: {} has no backup taken before the deploy of {} (deployed with "
        "--no-backup, or removed since); roll the code back alone ({}), or restore a backup of "
        "your choice ({})",
        env.name, current, context.command("pallet rollback " + env.name),
        context.command("pallet backup ls " + env.name)));
}

// Says what a rollback with the data loses; true when the user agrees (or said --yes).
// `when`: the backup's time as the user reads it.
bool agreed(Context& context, const RollbackOptions& options, const BackupInfo& backup,
            const std::string& when, const std::string& current, const std::string& target) {
    const double now = context.docker.engine_now();
    std::vector<std::string> held;  // what the restore replaces, by name
    for (const std::string part : {"postgres", "redis", "storage"}) {  // what a restore takes
        if (backup.holds(part)) {
            held.push_back(content_name(part));
        }
    }
    context.note(
        "docker-pallet: rollback --data restores the backup {} of {}, taken before the deploy "
        "of {} ({}, {}), then serves {}: everything written to its {} since {} is lost (kept "
        "first as a backup, which a restore brings back)",
        backup.id, options.env, current, when, state::time_ago(backup.time, now), target,
        util::join_and(held), when);
    if (options.yes) {
        return true;
    }
    if (!context.ask) {
        throw UsageError(
            "rollback --data replaces the data, and there is no terminal to ask: "
            "confirm with --yes",
            "docker pallet rollback");
    }
    return context.ask(fmt::format("Replace the data of {} with that of {}?", options.env, when));
}

}  // namespace

int run_rollback(Context& context, const RollbackOptions& options) {
    const std::string& env_name = options.env;
    state::validate_env_name(env_name, "docker pallet rollback");
    auto opened = orchestrator::open(context, env_name);
    const auto& state = opened->state();
    if (!state.settings) {
        state::EnvironmentStore(context.docker).get(env_name);  // throws, with what to do
    }
    std::string current = state.served ? state.served->version : "";
    std::string target;
    for (const auto& entry : state.serves) {
        if (entry.result != "serving") {
            continue;
        }
        if (current.empty()) {
            current = entry.version;  // stopped: roll back from the last one served
            continue;
        }
        if (entry.version != current) {
            target = entry.version;
            break;
        }
    }
    if (options.image) {
        target = *options.image;
    } else if (target.empty()) {
        throw Error(
            fmt::format("nothing to roll back to: {} has served no other version{}; "
                        "name one: {pallet} rollback {} IMAGE",
                        env_name, current.empty() ? "" : " than " + current, env_name,
                        fmt::arg("pallet", context.command("pallet"))));
    }
    if (!options.data) {
        opened.reset();
        context.step("rolling {} back to {}: its deploy runs again first", env_name, target);
        return run_release(context, DeployOptions{env_name, target, std::chrono::seconds(0)},
                           std::nullopt);
    }

    if (current.empty()) {
        throw Error(fmt::format("rollback --data: {} has served no version yet", env_name));
    }
    const state::Environment settings = *state.settings;
    if (context.docker.dry_run()) {
        // Which backup it is, a job would read.
        opened.reset();
        context.done("restore of the backup taken before the deploy of {} into {}, in maintenance",
                     current, env_name);
        return run_release(context, DeployOptions{env_name, target, std::chrono::seconds(0), true},
                           std::nullopt);
    }
    const BackupInfo backup = backup_before_deploy_of(context, *opened, settings, current);
    const std::string then =
        util::utc_time(static_cast<std::time_t>(backup.time), "%Y-%m-%d %H:%M:%S UTC");
    if (!agreed(context, options, backup, then, current, target)) {
        context.outcome("nothing changed");
        return 1;
    }
    opened.reset();
    context.step("rolling {} back to {} with its data of {}", env_name, target, then);
    const std::string before = restore_backup(
        context, RestoreOptions{env_name, backup.id, "", /*stay_in_maintenance=*/true});
    // Out of maintenance as it was before (on when it was on).
    const auto maintenance_as_it_was = [&] {
        Locked locked = lock_environment(context, env_name, false);
        set_maintenance(context, locked, settings.maintenance, settings.maintenance_message);
    };
    // Its data is that of before: its deploy takes no backup of it again.
    int code = 0;
    std::exception_ptr failed;
    try {
        code = run_release(context, DeployOptions{env_name, target, std::chrono::seconds(0), true},
                           std::nullopt);
    } catch (...) {
        failed = std::current_exception();
    }
    if (code != 0 || failed) {
        // The data back as it was, for the version that still serves.
        context.step("the rollback to {} failed: the data of {} goes back as it was", target,
                     env_name);
        try {
            restore_backup(context, RestoreOptions{env_name, before, "", false});
            maintenance_as_it_was();
        } catch (const std::exception& e) {
            throw Error(fmt::format(
                "the rollback to {} failed, and so did putting the data back ({}): {} stays in "
                "maintenance with the data of {}; put it back with {}, then {}",
                target, e.what(), env_name, then,
                context.command(fmt::format("pallet restore {} {}", env_name, before)),
                context.command(fmt::format("pallet maintenance {} off", env_name))));
        }
        if (failed) {
            std::rethrow_exception(failed);
        }
        return code;
    }
    maintenance_as_it_was();
    context.done("{} serves {} with its data of {} (undo the data: {})", env_name, target, then,
                 context.command(fmt::format("pallet restore {} {}", env_name, before)));
    return 0;
}

}  // namespace pallet::phases
