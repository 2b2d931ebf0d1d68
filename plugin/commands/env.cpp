// docker pallet env: create, update, service, ls, show, set, unset, rm.
#include <fmt/format.h>

#include <memory>

#include "phases/env_commands.h"
#include "phases/remove.h"
#include "plugin/commands/commands.h"
#include "services/catalog.h"

namespace pallet::plugin::commands {
namespace {

struct EnvOptions {
    phases::EnvCreateOptions create;
    std::string env_name;
    std::string service_action;
    std::vector<std::string> service_args;
    bool service_volumes = false;
    bool service_check = false;
    std::string env_format = "table";
    bool env_quiet = false;
    bool reveal = false;
    std::vector<std::string> env_pairs;
    bool rm_volumes = false;
};

// The settings create and update share.
void add_settings_options(CLI::App* command, phases::EnvCreateOptions& create) {
    command->add_option("ENV", create.name, "Environment name")->required();
    command->add_option("--kind", create.kind, "ENVIRONMENT given to the app (default dev)")
        ->check(CLI::IsMember({"dev_local", "dev", "test", "uat", "staging", "prod"}));
    command->add_option("--site-domain", create.site_domain, "SITE_DOMAIN (default localhost)");
    command->add_option("--site-protocol", create.site_protocol, "SITE_PROTOCOL (default http)")
        ->check(CLI::IsMember({"http", "https"}));
    command->add_option(
        "--port", create.port,
        "Host port of the site, [ADDRESS:]PORT (default: 127.0.0.1, any free), or none "
        "(through the edge only)");
    command->add_option("--health-path", create.health_path,
                        "Path a new serve container must answer before it gets traffic "
                        "(default /)");
    command->add_option("--health-timeout", create.health_timeout,
                        "How long a new version has to become healthy (default 60s)");
    command->add_option("--drain", create.drain,
                        "How long requests in flight get after a switch (default 2s)");
    command->add_option("--service-timeout", create.service_timeout,
                        "How long provided services have to get ready (default 120s)");
    command->add_option("--process-stop-timeout", create.process_stop_timeout,
                        "How long a process (io.pallet.processes) has to finish its work after "
                        "SIGTERM (default 30s)");
    command->add_option("--process-settle", create.process_settle,
                        "How long a new version's processes must stay up before it gets "
                        "requests (default 5s)");
    repeatable(
        command->add_option("--alias", create.aliases,
                            "Another host name the edge sends here (repeat: replaces the list)"));
    command->add_flag("--no-aliases", create.no_aliases, "Remove the aliases");
    command
        ->add_option("--tls-cert", create.tls_cert,
                     "HTTPS at the edge: a PEM certificate (chain) for the site's domain")
        ->type_name("FILE");
    command->add_option("--tls-key", create.tls_key, "HTTPS at the edge: the certificate's PEM key")
        ->type_name("FILE");
    command->add_option("--tls", create.tls,
                        "HTTPS at the edge: acme (a certificate from an ACME server, renewed by "
                        "edge renew) or none");
    command->add_option("--acme-email", create.acme_email,
                        "--tls acme: the ACME account's contact");
    command->add_option("--acme-directory", create.acme_directory,
                        "--tls acme: the ACME server's directory URL (default Let's Encrypt)");
    command->add_flag("--hsts", create.hsts,
                      "https sites: answers over HTTPS say Strict-Transport-Security (one year)");
    command->add_flag("--no-hsts", create.no_hsts, "They no longer do");
    command
        ->add_option("--keep-backups", create.keep_backups,
                     "How many backups are kept; the oldest go (default 10)")
        ->check(CLI::Range(1, 1000));
    command->add_flag("--no-backup-before-deploy", create.no_backup_before_deploy,
                      "A deploy no longer takes a backup of the provided data first");
    command->add_flag("--backup-before-deploy", create.backup_before_deploy,
                      "A deploy takes a backup of the provided data first (the default)");
    command->add_option("--ttl", create.ttl,
                        "It expires after this long without a deploy, serve or env update "
                        "(3d, 12h): env prune removes it then");
    command->add_flag("--no-ttl", create.no_ttl, "It never expires (the default)");
}

// What only create takes: services, and where a swarm environment runs.
void add_create_options(CLI::App* env_create, phases::EnvCreateOptions& create) {
    env_create->add_option("--from", create.from,
                           "A copy of this environment: its settings and variables, services "
                           "of its own (new passwords); options given here change them");
    env_create
        ->add_option("--data", create.data,
                     "--from: with a copy of its data (PostgreSQL, Redis, /storage) from its "
                     "newest backup, or the backup ID given (a new one when it has none)")
        ->expected(0, 1)
        ->type_name("[ID]");
    repeatable(env_create->add_option("--service", create.services,
                                      "Provide a service (NAME) or use your server (NAME=URL)"));
    env_create->add_flag("--check", create.check,
                         "Check that the servers of NAME=URL services accept connections");
    env_create
        ->add_option("--orchestrator", create.orchestrator,
                     "engine (containers on the engine addressed; the default) or swarm "
                     "(services on the swarm it manages)")
        ->check(CLI::IsMember({"engine", "swarm"}));
    env_create
        ->add_option("--shared-path", create.shared_path,
                     "swarm: a directory on every node (an NFS mount) for /storage, /static")
        ->type_name("DIR");
    env_create->add_option(
        "--volume-driver", create.volume_driver,
        "swarm: /storage, /static as volumes of this driver, instead of --shared-path");
    repeatable(env_create->add_option("--volume-opt", create.volume_options,
                                      "swarm: KEY=VALUE for the volume driver; {volume} in a value "
                                      "is storage or static"));
    env_create->add_option("--router-node", create.router_node,
                           "swarm: the node the router runs on (default: the manager addressed)");
    env_create->add_option(
        "--service-node", create.service_node,
        "swarm: the node provided services run on, their data in its volumes (default: the "
        "router's)");
}

}  // namespace

void add_env(Tree& tree) {
    auto o = std::make_shared<EnvOptions>();
    auto* env_cmd = add_command(tree.app, "env", "Manage environments");
    env_cmd->require_subcommand(1);
    auto* env_create = add_command(*env_cmd, "create", "Create an environment");
    auto* env_update =
        add_command(*env_cmd, "update", "Change an environment's settings (not its variables)");
    for (CLI::App* command : {env_create, env_update}) {
        add_settings_options(command, o->create);
    }
    add_create_options(env_create, o->create);
    env_create->callback([&tree, o] {
        tree.action = [&tree, o] { return phases::run_env_create(tree.runtime.get(), o->create); };
    });

    auto* env_service = add_command(
        *env_cmd, "service",
        "Add services (NAME: provided by docker pallet, NAME=URL: your server) or remove them");
    env_service->add_option("ENV", o->env_name, "Environment name")->required();
    env_service->add_option("ACTION", o->service_action, "add or rm")
        ->required()
        ->check(CLI::IsMember({"add", "rm"}));
    env_service->add_option("SERVICE", o->service_args, "NAME or NAME=URL (add), NAME (rm)")
        ->required();
    env_service->add_flag("--volumes", o->service_volumes, "rm: also remove the services' data");
    env_service->add_flag("--check", o->service_check,
                          "add: check that the servers of NAME=URL services accept connections");
    env_service->footer(fmt::format("Services: {}.", services::known_kinds()));
    env_service->callback([&tree, o] {
        tree.action = [&tree, o] {
            if (o->service_action == "add") {
                return phases::run_env_service_add(tree.runtime.get(), o->env_name, o->service_args,
                                                   o->service_check);
            }
            return phases::run_env_service_rm(tree.runtime.get(), o->env_name, o->service_args,
                                              o->service_volumes);
        };
    });
    env_update->callback([&tree, o] {
        tree.action = [&tree, o] { return phases::run_env_update(tree.runtime.get(), o->create); };
    });

    auto* env_ls = add_command(*env_cmd, "ls", "List environments");
    add_format_option(env_ls, o->env_format);
    env_ls->add_flag("-q,--quiet", o->env_quiet, "Only print names");
    env_ls->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_env_ls(tree.runtime.get(), parse_format(o->env_format),
                                      o->env_quiet);
        };
    });

    auto* env_prune = add_command(
        *env_cmd, "prune",
        "Remove every environment whose --ttl has passed, with its volumes and backups");
    env_prune->callback(
        [&tree] { tree.action = [&tree] { return phases::run_env_prune(tree.runtime.get()); }; });

    auto* env_show = add_command(*env_cmd, "show", "Show an environment's settings");
    env_show->add_option("ENV", o->env_name, "Environment name")->required();
    add_format_option(env_show, o->env_format);
    env_show->add_flag("--reveal", o->reveal,
                       "Show the values of variables and the credentials in service URLs");
    env_show->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_env_show(tree.runtime.get(), o->env_name,
                                        parse_format(o->env_format), o->reveal);
        };
    });

    auto* env_set = add_command(*env_cmd, "set", "Set variables of an environment");
    env_set->add_option("ENV", o->env_name, "Environment name")->required();
    env_set->add_option("KEY=VALUE", o->env_pairs, "Variables to set")->required();
    env_set->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_env_set(tree.runtime.get(), o->env_name, o->env_pairs);
        };
    });

    auto* env_unset = add_command(*env_cmd, "unset", "Remove variables of an environment");
    env_unset->add_option("ENV", o->env_name, "Environment name")->required();
    env_unset->add_option("KEY", o->env_pairs, "Variables to remove")->required();
    env_unset->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_env_unset(tree.runtime.get(), o->env_name, o->env_pairs);
        };
    });

    auto* env_rm = add_command(*env_cmd, "rm", "Remove an environment (same as docker pallet rm)");
    env_rm->add_option("ENV", o->env_name, "Environment name")->required();
    env_rm->add_flag("--volumes", o->rm_volumes, "Also remove its /storage and /static volumes");
    env_rm->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_rm(tree.runtime.get(), o->env_name, o->rm_volumes);
        };
    });
}

}  // namespace pallet::plugin::commands
