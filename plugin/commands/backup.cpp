// docker pallet backup ENV, backup ls, backup rm; maintenance.
#include "phases/backup.h"

#include <memory>

#include "phases/maintenance.h"
#include "phases/restore.h"
#include "plugin/commands/commands.h"
#include "plugin/help_formatter.h"

namespace pallet::plugin::commands {
namespace {

struct BackupCommandOptions {
    phases::BackupOptions backup;
    bool no_storage = false;
    std::string env;
    std::vector<std::string> ids;
    std::string restore_id;
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

    auto* restore = add_command(tree.app, "restore",
                                "Put a backup's data back in place of an environment's own");
    restore->add_option("ENV", o->env, "Environment name")->required();
    restore->add_option("ID", o->restore_id, "The backup's ID (backup ls)")->required();
    restore->footer(
        "The environment answers 503 (maintenance) and its processes stop meanwhile. The\n"
        "backup's PostgreSQL and /storage are restored beside the current ones and swapped in\n"
        "once both are there; what they replace is kept first as a backup of its own, so that\n"
        "restoring that one undoes it. A failed restore changes nothing.");
    restore->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_restore(tree.runtime.get(), o->env, o->restore_id);
        };
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
