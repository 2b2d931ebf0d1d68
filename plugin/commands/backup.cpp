// docker pallet backup ENV, backup ls, rm, export; restore; maintenance.
#include "phases/backup.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "phases/maintenance.h"
#include "phases/restore.h"
#include "plugin/commands/commands.h"
#include "plugin/help_formatter.h"
#include "util/error.h"

namespace pallet::plugin::commands {
namespace {

struct BackupCommandOptions {
    phases::BackupOptions backup;
    bool no_storage = false;
    std::string env;
    std::vector<std::string> ids;
    phases::RestoreOptions restore;
    std::string format = "table";
    std::string mode;
    std::optional<std::string> message;
};

}  // namespace

void add_backup(Tree& tree) {
    auto o = std::make_shared<BackupCommandOptions>();
    auto* backup = add_command(tree.app, "backup",
                               "Back up an environment's provided data and /storage, or list and "
                               "remove its backups");
    backup->add_option("ENV", o->backup.env, "Environment name");
    backup->add_option("--note", o->backup.note, "Why, in a line that backup ls shows");
    backup->add_flag("--no-storage", o->no_storage, "Leave /storage out (databases only)");
    backup->footer(
        "A backup holds the provided PostgreSQL (pg_dump, one transaction) and Redis (its RDB),\n"
        "and a tar of /storage; it is taken while the environment serves. Backups live on the\n"
        "engine beside the environment, readable by root alone. A deploy takes one first when\n"
        "the environment has provided data (deploy --no-backup, env update\n"
        "--no-backup-before-deploy); the newest 10 are kept (env update --keep-backups N).");
    backup->callback([&tree, o, backup] {
        if (!backup->get_subcommands().empty()) {
            return;
        }
        if (o->backup.env.empty()) {
            throw CLI::RequiredError("ENV");
        }
        o->backup.storage = !o->no_storage;
        tree.action = [&tree, o] { return phases::run_backup(tree.runtime.get(), o->backup); };
    });

    auto* ls = add_command(*backup, "ls", "List an environment's backups, newest first");
    ls->add_option("ENV", o->env, "Environment name")->required();
    add_format_option(ls, o->format);
    ls->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_backup_ls(tree.runtime.get(), o->env, parse_format(o->format));
        };
    });

    auto* rm = add_command(*backup, "rm", "Remove backups of an environment");
    rm->add_option("ENV", o->env, "Environment name")->required();
    rm->add_option("ID", o->ids, "The backups' IDs (backup ls)")->required();
    rm->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_backup_rm(tree.runtime.get(), o->env, o->ids);
        };
    });

    auto* export_ = add_command(*backup, "export", "Write a backup as a tar archive to stdout");
    export_->add_option("ENV", o->env, "Environment name")->required();
    export_->add_option("ID", o->restore.id, "The backup's ID (backup ls)")->required();
    export_->footer(
        "docker pallet backup export production 20261202-184650-1a2b > production.tar\n"
        "docker pallet restore staging --from production.tar\n"
        "The archive holds the environment's data (and whatever secrets it keeps): keep it as\n"
        "you would keep the database.");
    export_->callback([&tree, o, export_] {
        if (::isatty(STDOUT_FILENO) != 0) {
            throw UsageError("the archive would go to a terminal; redirect it: > FILE",
                             command_path(export_));
        }
        tree.action = [&tree, o] {
            return phases::run_backup_export(tree.runtime.get(), o->env, o->restore.id);
        };
    });

    auto* restore = add_command(tree.app, "restore",
                                "Put a backup's data back in place of an environment's own");
    restore->add_option("ENV", o->restore.env, "Environment name")->required();
    restore->add_option("ID", o->restore.id, "The backup's ID (backup ls)");
    restore->add_option("--from", o->restore.from,
                        "An archive of backup export instead (\"-\": stdin), of any environment");
    restore->footer(
        "The environment answers 503 (maintenance) and its processes stop meanwhile. What its\n"
        "PostgreSQL, Redis and /storage hold is kept first as a backup of its own, so that\n"
        "restoring that one undoes it; the backup's PostgreSQL and /storage are restored beside\n"
        "them and swapped in once both are there, its Redis copied in whole once a server has\n"
        "loaded it. A failed restore changes nothing. --from takes the archive in as a backup\n"
        "of the environment first (backup ls lists it).");
    restore->callback([&tree, o, restore] {
        const std::string path = command_path(restore);
        if (o->restore.id.empty() == o->restore.from.empty()) {
            throw UsageError("restore needs a backup's ID or --from FILE, and not both", path);
        }
        if (o->restore.from == "-" && ::isatty(STDIN_FILENO) != 0) {
            throw UsageError("--from -: stdin is a terminal; redirect the archive: < FILE", path);
        }
        if (!o->restore.from.empty() && o->restore.from != "-" &&
            (::access(o->restore.from.c_str(), R_OK) != 0 ||
             std::filesystem::is_directory(o->restore.from))) {
            throw UsageError(fmt::format("--from: cannot read {}", o->restore.from), path);
        }
        tree.action = [&tree, o] { return phases::run_restore(tree.runtime.get(), o->restore); };
    });

    auto* maintenance = add_command(tree.app, "maintenance",
                                    "Answer every request with 503 and a page, or serve again");
    maintenance->add_option("ENV", o->env, "Environment name")->required();
    maintenance->add_option("MODE", o->mode, "on or off")
        ->required()
        ->check(CLI::IsMember({"on", "off"}));
    maintenance->add_option("--message", o->message, "on: the page's text, in a line");
    maintenance->footer(
        "Requests but /static/ get 503 with Retry-After: 120 through its router and the edge;\n"
        "its replicas and processes keep running, and health checks still reach them.");
    maintenance->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_maintenance(tree.runtime.get(), o->env, o->mode == "on", o->message);
        };
    });
}

}  // namespace pallet::plugin::commands
