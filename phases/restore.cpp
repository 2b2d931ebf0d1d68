#include "phases/restore.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <vector>

#include "orchestrator/orchestrator.h"
#include "phases/backup.h"
#include "phases/maintenance.h"
#include "phases/rollout.h"
#include "services/backup.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/together.h"

namespace pallet::phases {
namespace {

// /storage's restore: the tar into a hidden directory beside what /storage holds ("$1": the
// backup's directory, "$2": the ID); numeric owners, so files stay their users'.
constexpr const char* k_storage_restore =
    "set -e\n"
    "dir=\"/storage/.pallet-restore-$2\"\n"
    "rm -rf \"$dir\"; mkdir \"$dir\"\n"
    "if tar --version 2>/dev/null | grep -q GNU; then owner=--numeric-owner; else owner=; fi\n"
    "tar -C \"$dir\" $owner -xf \"$1/storage.tar\"\n";
// ...swapped in: what /storage held moves aside, the restored entries up, and what was there
// goes (a backup holds it).
constexpr const char* k_storage_swap =
    "set -e\n"
    "dir=\"/storage/.pallet-restore-$2\"; old=\"/storage/.pallet-replaced-$2\"\n"
    "mkdir \"$old\"\n"
    "for f in /storage/* /storage/.[!.]* /storage/..?*; do\n"
    "  case \"$f\" in /storage/.pallet-restore-*|/storage/.pallet-replaced-*) continue;; esac\n"
    "  if [ -e \"$f\" ] || [ -L \"$f\" ]; then mv \"$f\" \"$old/\"; fi\n"
    "done\n"
    "for f in \"$dir\"/* \"$dir\"/.[!.]* \"$dir\"/..?*; do\n"
    "  if [ -e \"$f\" ] || [ -L \"$f\" ]; then mv \"$f\" /storage/; fi\n"
    "done\n"
    "rmdir \"$dir\"; rm -rf \"$old\"\n";
constexpr const char* k_storage_discard = "rm -rf \"/storage/.pallet-restore-$2\"\n";

std::string underscored(std::string id) {
    std::replace(id.begin(), id.end(), '-', '_');
    return id;
}

// The backup `id` of `env`, once it is known that the environment's services can take it back:
// what it holds is there to restore into, and its PostgreSQL is not of a newer major version
// than the server's. Changes nothing. `backing_up`: a backup follows, whose id needs the
// engine's time: it is asked meanwhile too.
BackupInfo checked_backup(Context& context, orchestrator::Orchestrator& opened,
                          const state::Environment& env, const std::string& id, bool backing_up) {
    // The PostgreSQL's version is asked while the backups are listed, when there is one to ask
    // (a read, whatever the backup turns out to hold); its answer counts only for a backup of it.
    const auto postgres = env.services.find("postgres");
    const auto running = opened.state().services.find("postgres");
    const bool ask = postgres != env.services.end() && postgres->second.provisioned() &&
                     running != opened.state().services.end() && running->second != "not started";
    std::vector<BackupInfo> backups;
    std::string server;
    int asked = -1;
    std::vector<std::function<void()>> lanes = {
        [&] { backups = list_backups(context, opened, env); }};
    if (backing_up) {
        lanes.emplace_back([&] { context.docker.engine_now(); });
    }
    if (ask) {
        lanes.emplace_back([&] {
            const services::Endpoint endpoint{orchestrator::service_container(env.name, "postgres"),
                                              env.name};
            orchestrator::DataJob check{"postgres",
                                        services::version_script(postgres->second, endpoint),
                                        {},
                                        services::dump_variables(postgres->second),
                                        false};
            asked = opened.run_data_job(env, check, server);
        });
    }
    util::run_together(lanes);
    const auto found = std::find_if(backups.begin(), backups.end(),
                                    [&](const BackupInfo& info) { return info.id == id; });
    if (found == backups.end()) {
        throw no_such_backup(context, env.name, id);
    }
    const BackupInfo& backup = *found;
    for (const std::string kind : {"postgres", "redis"}) {
        const std::string name = content_name(kind);
        const auto it = env.services.find(kind);
        const auto state = opened.state().services.find(kind);
        if (backup.holds(kind) &&
            (it == env.services.end() || !it->second.provisioned() ||
             state == opened.state().services.end() || state->second == "not started")) {
            throw Error(fmt::format(
                "the backup {} holds {} data, and {} has no provided {} to take it (add one: {}; "
                "a release starts it)",
                id, name, env.name, name,
                context.command(fmt::format("pallet env service {} add {}", env.name, kind))));
        }
    }
    if (backup.holds("postgres")) {
        if (asked != 0) {
            throw Error(fmt::format("could not ask the PostgreSQL of {} its version:\n{}", env.name,
                                    job_output_tail(server)));
        }
        server = util::trim(server);
        const std::string dumped = backup.server_versions.count("postgres") > 0
                                       ? backup.server_versions.at("postgres")
                                       : "";
        if (!services::restorable("postgres", dumped, server)) {
            throw Error(fmt::format(
                "the backup {} was dumped from PostgreSQL {} and the PostgreSQL of {} is {} "
                "(server_version_num): an older major version cannot take it. Nothing changed",
                id, dumped, env.name, server.empty() ? "unknown" : server));
        }
    }
    if (!backup.holds("postgres") && !backup.holds("redis") && !backup.holds("storage")) {
        throw Error(fmt::format("the backup {} holds nothing this restore takes back ({})", id,
                                util::join(backup.contents, ", ")));
    }
    return backup;
}

}  // namespace

std::string restore_backup(Context& context, const RestoreOptions& options) {
    const std::string path = "docker pallet restore";
    const std::string& name = options.env;
    state::validate_env_name(name, path);
    if (options.from.empty()) {
        check_backup_id(options.id, name, path);
    }
    // Under the serve lock: no serve, scale or maintenance meanwhile; and no deploy may run.
    Locked locked = lock_environment(context, name, false);
    orchestrator::Orchestrator& opened = *locked.opened;
    const state::Environment env = locked.env;
    if (const auto holder = opened.deploy_holder(env);
        holder && holder->state == orchestrator::DeployHolder::State::running) {
        throw Error(fmt::format("a deploy of {} is running in {}; restore when it has ended",
                                holder->version, env.name));
    }
    if (context.docker.dry_run()) {
        // Its checks read the backups with a job of their own, which a dry run does not start.
        context.done("restore of {} into {}",
                     options.from.empty() ? "the backup " + options.id : options.from, env.name);
        return "";
    }
    const std::string id =
        options.from.empty() ? options.id
                             : import_backup(context, opened, env, options.from, options.from_name);
    BackupInfo backup;
    bool postgres = false;
    bool redis = false;
    bool storage = false;
    try {
        backup = checked_backup(context, opened, env, id, !options.into_new);
        postgres = backup.holds("postgres");
        redis = backup.holds("redis");
        storage = backup.holds("storage");
    } catch (...) {
        if (!options.from.empty()) {
            discard_backup(opened, env, id);  // refused: the engine as it was
        }
        throw;
    }
    const auto endpoint = [&](const std::string& kind) {
        return services::Endpoint{orchestrator::service_container(env.name, kind), env.name};
    };

    std::string before;
    const bool was_in_maintenance = env.maintenance;
    const std::string was_message = env.maintenance_message;
    auto processes = opened.processes(env);
    const bool has_processes = !processes->counts().empty();
    const std::string backup_dir = "/backups/" + id;
    const std::string fresh = services::identifier(env.name) + "_restore_" + underscored(id);
    const std::string replaced = services::identifier(env.name) + "_replaced_" + underscored(id);
    const auto job = [&](const std::string& kind, const std::string& script, bool with_storage,
                         const std::string& what) {
        orchestrator::DataJob data{kind,
                                   "umask 077\n" + script,
                                   {backup_dir, fresh, replaced},
                                   kind.empty() ? decltype(orchestrator::DataJob::env){}
                                                : services::dump_variables(env.services.at(kind)),
                                   with_storage};
        data.storage_writable = with_storage;
        std::string output;
        if (opened.run_data_job(env, data, output) != 0) {
            throw Error(fmt::format("{} failed:\n{}", what, job_output_tail(output)));
        }
    };
    // After a failure or a Ctrl-C (under a shield): what it leaves is not the error to tell.
    const auto discard = [&](const std::string& kind, const std::string& script,
                             bool with_storage) {
        try {
            job(kind, script, with_storage, "cleanup");
        } catch (...) {
        }
    };
    // The page goes whatever happened to the processes (a wait cut short by Ctrl-C).
    const auto back_to_serving = [&] {
        std::exception_ptr failed;
        try {
            if (has_processes) {
                processes->start_again();
            }
        } catch (...) {
            failed = std::current_exception();
        }
        if (!options.into_new) {
            set_maintenance(context, locked, was_in_maintenance, was_message);
        }
        if (failed) {
            std::rethrow_exception(failed);
        }
    };
    // In maintenance (the page up, the processes stopped) nothing writes the data any more.
    const auto quiesce = [&] {
        if (!options.into_new) {
            set_maintenance(context, locked, true,
                            "Restoring the site's data. Please try again soon.");
        }
        if (has_processes) {
            context.step("stopping the processes (at most {}s each to finish their work)",
                         env.process_stop_timeout);
            processes->stop();
        }
    };
    try {
        // Into a new environment, each swap goes with its restore, in one job: nothing of its
        // own is there to keep should the other fail (the environment goes then).
        const std::string swap_db =
            options.into_new && postgres
                ? services::swap_script(env.services.at("postgres"), endpoint("postgres"))
                : "";
        const auto restore_postgres = [&] {
            context.step("restoring PostgreSQL into a new database beside {}'s", env.name);
            job("postgres",
                services::restore_script(env.services.at("postgres"), endpoint("postgres")) +
                    swap_db,
                false, "the restore of PostgreSQL");
        };
        const auto restore_storage = [&] {
            context.step("restoring /storage beside what it holds");
            job("", std::string(k_storage_restore) + (options.into_new ? k_storage_swap : ""), true,
                "the restore of /storage");
        };
        const auto restore_redis = [&] {
            context.step("restoring Redis (its server takes the backup's copy as a replica)");
            job("redis", services::redis_restore_script(endpoint("redis")), false,
                "the restore of Redis");
        };
        std::vector<std::function<void()>> lanes;
        if (options.into_new) {
            // Nothing there to keep: all three at once.
            quiesce();
            if (postgres) {
                lanes.emplace_back(restore_postgres);
            }
            if (storage) {
                lanes.emplace_back(restore_storage);
            }
            if (redis) {
                lanes.emplace_back(restore_redis);
            }
            util::run_together(lanes);
        } else {
            // The data it replaces is kept, once nothing writes it, so the restore can be undone
            // (on top of --keep-backups: a restore that fails discards it, and has cost no
            // backup). Meanwhile, from the start (the site still serves: it touches nothing the
            // site uses), the backup's PostgreSQL goes into its database beside, which that
            // backup does not read. /storage's beside waits for the backup: it reads all of
            // /storage. Redis last: it leaves nothing beside to swap in, it holds it all at once.
            lanes.emplace_back([&] {
                quiesce();
                state::Environment keeping = env;
                ++keeping.keep_backups;
                before = take_backup(context, opened, keeping, "before restore of " + id, "",
                                     storage, id);
            });
            if (postgres) {
                lanes.emplace_back(restore_postgres);
            }
            util::run_together(lanes);
            if (storage) {
                restore_storage();
            }
            if (redis) {
                restore_redis();
            }
        }
    } catch (...) {
        // Each step of the way back on its own: the error on its way out is the one to tell,
        // and the environment's own data is untouched. A Ctrl-C waits until they are done.
        const cancel::Shield shield;
        const auto quietly = [](const std::function<void()>& step) {
            try {
                step();
            } catch (...) {
            }
        };
        if (postgres) {
            discard("postgres",
                    services::discard_script(env.services.at("postgres"), endpoint("postgres")),
                    false);
        }
        if (storage) {
            discard("", k_storage_discard, true);
        }
        // Nothing changed: neither the backup of what is still there nor an archive imported for
        // this restore stays listed.
        if (!before.empty()) {
            discard_backup(opened, env, before);
        }
        if (!options.from.empty()) {
            discard_backup(opened, env, id);
        }
        quietly(back_to_serving);
        throw;
    }
    // Both are there: they take the place of what was. A Ctrl-C from here on waits for the swap
    // and the way back to serving (a few seconds), not to leave half of it.
    const cancel::Shield shield;
    try {
        if (postgres && !options.into_new) {
            context.step("swapping the restored database in");
            job("postgres",
                services::swap_script(env.services.at("postgres"), endpoint("postgres")), false,
                "the swap of the database");
        }
        if (storage && !options.into_new) {
            context.step("swapping the restored /storage in");
            job("", k_storage_swap, true, "the swap of /storage");
        }
    } catch (const Error& e) {
        back_to_serving();
        if (before.empty()) {
            throw;  // into a new environment: it goes
        }
        throw Error(
            fmt::format("{}\nWhat the restore replaced is the backup {}: {}", e.what(), before,
                        context.command(fmt::format("pallet restore {} {}", env.name, before))));
    }
    if (!options.stay_in_maintenance) {
        back_to_serving();
    }
    if (options.into_new) {
        context.step("restored the backup {} into {}", id, env.name);
        return before;
    }
    context.done("restored the backup {} into {}; what it replaced is the backup {} (undo: {})", id,
                 env.name, before,
                 context.command(fmt::format("pallet restore {} {}", env.name, before)));
    return before;
}

int run_restore(Context& context, const RestoreOptions& options) {
    restore_backup(context, options);
    return 0;
}

}  // namespace pallet::phases
