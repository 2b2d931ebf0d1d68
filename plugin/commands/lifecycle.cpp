// docker pallet deploy, serve, release, scale, rollback; stop, rm.
#include <memory>

#include "phases/deploy.h"
#include "phases/release.h"
#include "phases/remove.h"
#include "phases/scale.h"
#include "phases/serve.h"
#include "phases/stop.h"
#include "plugin/commands/commands.h"
#include "plugin/help_formatter.h"
#include "util/error.h"

namespace pallet::plugin::commands {
namespace {

struct LifecycleOptions {
    phases::DeployOptions deploy;
    std::string wait_text;
    phases::ServeOptions serve;
    std::optional<int> replicas;
    std::vector<std::string> scale_counts;
    phases::RollbackOptions rollback;
    std::string env;
    bool volumes = false;
};

// ENV IMAGE [--wait[=DURATION]] of deploy and release; returns the --wait option.
CLI::Option* add_deploy_arguments(CLI::App* command, LifecycleOptions& options) {
    command->add_option("ENV", options.deploy.env, "Environment name")->required();
    command->add_option("IMAGE", options.deploy.image, "The application image")
        ->required()
        ->check(image_reference());
    command->add_flag("--no-backup", options.deploy.no_backup,
                      "Take no backup of the provided data first, this once");
    return command
        ->add_option("--wait", options.wait_text,
                     "Wait for another version's deploy to end (optionally at most DURATION)")
        ->expected(0, 1);
}

void add_env_argument(CLI::App* command, LifecycleOptions& options) {
    command->add_option("ENV", options.env, "Environment name")->required();
}

}  // namespace

void add_lifecycle(Tree& tree) {
    auto o = std::make_shared<LifecycleOptions>();

    auto* deploy = add_command(tree.app, "deploy", "Run a version's deploy command (migrations)");
    auto* deploy_wait = add_deploy_arguments(deploy, *o);
    deploy->callback([&tree, o, deploy, deploy_wait] {
        o->deploy.wait = wait_value(deploy_wait, o->wait_text, command_path(deploy));
        tree.action = [&tree, o] { return phases::run_deploy(tree.runtime.get(), o->deploy); };
    });

    auto* serve = add_command(tree.app, "serve", "Serve a deployed version, replacing the old one");
    serve->add_option("ENV", o->serve.env, "Environment name")->required();
    serve->add_option("IMAGE", o->serve.image, "The version to serve (default: the current one)")
        ->check(image_reference());
    serve->add_option("--replicas", o->serve.replicas, "Number of serve replicas")
        ->check(CLI::Range(1, 64));
    serve->callback([&tree, o] {
        tree.action = [&tree, o] { return phases::run_serve(tree.runtime.get(), o->serve); };
    });

    auto* release = add_command(tree.app, "release", "Deploy a version, then serve it");
    auto* release_wait = add_deploy_arguments(release, *o);
    release->add_option("--replicas", o->replicas, "Number of serve replicas")
        ->check(CLI::Range(1, 64));
    release->callback([&tree, o, release, release_wait] {
        o->deploy.wait = wait_value(release_wait, o->wait_text, command_path(release));
        tree.action = [&tree, o] {
            return phases::run_release(tree.runtime.get(), o->deploy, o->replicas);
        };
    });

    auto* scale =
        add_command(tree.app, "scale", "Change the number of serve replicas and of processes");
    add_env_argument(scale, *o);
    scale
        ->add_option("COUNT", o->scale_counts,
                     "N or web=N: serve replicas (at least 1); TYPE=N: processes of the type "
                     "(0 allowed)")
        ->required();
    scale->footer(
        "docker pallet scale staging 3 worker=4 clock=1\n"
        "Process types are those of the image's io.pallet.processes label; their counts are\n"
        "kept for the versions that follow.");
    scale->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_scale(tree.runtime.get(), o->env, o->scale_counts);
        };
    });

    auto* rollback =
        add_command(tree.app, "rollback", "Deploy and serve the previously served version again");
    rollback->add_option("ENV", o->rollback.env, "Environment name")->required();
    rollback
        ->add_option("IMAGE", o->rollback.image,
                     "The version to go back to (default: the one served before the current one)")
        ->check(image_reference());
    rollback->add_flag("--data", o->rollback.data,
                       "Restore first the backup taken before the current version's deploy");
    rollback->add_flag("--yes", o->rollback.yes,
                       "--data: do not ask (needed when there is no terminal)");
    rollback->footer(
        "--data undoes a migration: the data written since the current version's deploy is\n"
        "replaced by its backup taken before that deploy (kept first as a backup of its own:\n"
        "restoring that one undoes the rollback's restore). The environment answers 503\n"
        "(maintenance) from the restore until the old version serves; a rollback that fails\n"
        "then puts the data back as it was.");
    rollback->callback([&tree, o, rollback] {
        if (o->rollback.yes && !o->rollback.data) {
            throw UsageError("--yes goes with --data", command_path(rollback));
        }
        tree.action = [&tree, o] { return phases::run_rollback(tree.runtime.get(), o->rollback); };
    });
}

void add_stop_rm(Tree& tree) {
    auto o = std::make_shared<LifecycleOptions>();
    auto* stop = add_command(tree.app, "stop", "Stop serving an environment");
    add_env_argument(stop, *o);
    stop->callback([&tree, o] {
        tree.action = [&tree, o] { return phases::run_stop(tree.runtime.get(), o->env); };
    });

    auto* rm = add_command(tree.app, "rm", "Remove an environment");
    add_env_argument(rm, *o);
    rm->add_flag("--volumes", o->volumes,
                 "Also remove its data: /storage, /static, provided services' data, backups");
    rm->callback([&tree, o] {
        tree.action = [&tree, o] { return phases::run_rm(tree.runtime.get(), o->env, o->volumes); };
    });
}

}  // namespace pallet::plugin::commands
