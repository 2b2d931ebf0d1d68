#include "plugin/command_line.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>

#include "docker/reference.h"
#include "metadata/metadata.h"
#include "pallet_version.h"
#include "phases/acme.h"
#include "phases/deploy.h"
#include "phases/edge.h"
#include "phases/env_commands.h"
#include "phases/logs.h"
#include "phases/release.h"
#include "phases/remove.h"
#include "phases/run.h"
#include "phases/scale.h"
#include "phases/serve.h"
#include "phases/status.h"
#include "phases/stop.h"
#include "phases/test.h"
#include "plugin/completion.h"
#include "plugin/help_formatter.h"
#include "plugin/progress.h"
#include "services/catalog.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::plugin {
namespace {

using phases::Format;

Format parse_format(const std::string& text) {
    if (text == "json") {
        return Format::json;
    }
    return Format::table;
}

void add_format_option(CLI::App* command, std::string& value) {
    command->add_option("--format", value, "Output format: table or json (one object a line)")
        ->check(CLI::IsMember({"table", "json"}))
        ->default_str("table");
}

CLI::App* add_command(CLI::App& parent, const std::string& name, const std::string& description) {
    CLI::App* command = parent.add_subcommand(name, description);
    command->group("Commands");
    return command;
}

std::optional<std::chrono::seconds> wait_value(const CLI::Option* option, const std::string& text,
                                               const std::string& path) {
    if (option->count() == 0) {
        return std::nullopt;
    }
    if (text.empty()) {
        return std::chrono::seconds(0);
    }
    auto duration = util::parse_duration(text);
    if (!duration) {
        throw UsageError(fmt::format("invalid duration \"{}\" for --wait (use 90s, 5m or 1h; at "
                                     "most a year)",
                                     text),
                         path);
    }
    return duration;
}

// An image reference in docker's grammar, checked before anything runs.
const CLI::Validator& image_reference() {
    static const CLI::Validator k_validator(
        [](const std::string& text) {
            return docker::is_image_reference(text)
                       ? std::string()
                       : fmt::format(
                             "invalid image reference \"{}\": use NAME[:TAG][@DIGEST], for "
                             "example myapp:1.4",
                             text);
        },
        "IMAGE");
    return k_validator;
}

// ENV IMAGE [--wait[=DURATION]] of deploy and release; returns the --wait option.
CLI::Option* add_deploy_arguments(CLI::App* command, phases::DeployOptions& options,
                                  std::string& wait_text) {
    command->add_option("ENV", options.env, "Environment name")->required();
    command->add_option("IMAGE", options.image, "The application image")
        ->required()
        ->check(image_reference());
    return command
        ->add_option("--wait", wait_text,
                     "Wait for another version's deploy to end (optionally at most DURATION)")
        ->expected(0, 1);
}

// An option given once per value (-e A=1 -e B=2): one value each time, never the words after.
void repeatable(CLI::Option* option) {
    option->expected(1)->allow_extra_args(false)->multi_option_policy(
        CLI::MultiOptionPolicy::TakeAll);
}

// The options of a test run's environment: variables, services, warm services.
void add_test_environment_options(CLI::App* command, phases::TestOptions& test) {
    repeatable(command->add_option("-e,--env", test.env, "Set a variable (KEY=VALUE)"));
    repeatable(command->add_option("--env-file", test.env_files, "Read variables from a file")
                   ->type_name("FILE"));
    repeatable(command->add_option("--service", test.services,
                                   "Provide a service (NAME) or use your server (NAME=URL); also "
                                   "read from the image's io.pallet.services labels"));
    repeatable(command->add_option("--service-image", test.service_images,
                                   "Image of a provided service (NAME=IMAGE)"));
    command->add_option("--service-timeout", test.service_timeout,
                        "How long services have to get ready (default 120s)");
    command->add_flag("--reuse-services", test.reuse_services,
                      "Keep provided services warm between runs (each run still gets its own "
                      "database, vhost, prefix; dropped at the end)");
}

const CLI::App* deepest_selected(const CLI::App* app) {
    for (const CLI::App* sub : app->get_subcommands()) {
        return deepest_selected(sub);
    }
    return app;
}

// The progress renderer the flags and PALLET_PROGRESS choose, with the command's ENV for json.
std::unique_ptr<orchestrator::Progress> progress_for(const CLI::App& app, std::string text,
                                                     bool no_color) {
    const char* const from_environment = std::getenv("PALLET_PROGRESS");
    if (text.empty() && from_environment != nullptr) {
        text = from_environment;
    }
    const auto mode = parse_progress_mode(text.empty() ? "auto" : text);
    if (!mode) {
        throw UsageError(
            fmt::format("invalid PALLET_PROGRESS \"{}\": use auto, tty, plain, json or quiet",
                        text),
            "docker pallet");
    }
    const char* const no_color_variable = std::getenv("NO_COLOR");
    const bool color = !no_color && (no_color_variable == nullptr || *no_color_variable == '\0');
    std::string environment;
    const CLI::App* command = deepest_selected(&app);
    for (const CLI::Option* option : command->get_options()) {
        if (option->get_name() == "ENV" && option->count() > 0) {
            environment = option->as<std::string>();
        }
    }
    return make_progress(*mode, color, environment);
}

// What completion asks the engine: environments of the engine, local images. Any failure (no
// engine, no docker) offers nothing: completion never prints an error.
CompletionSources completion_sources(Runtime& runtime) {
    auto guarded = [&runtime](auto query) {
        return [&runtime, query]() -> std::vector<std::string> {
            try {
                return query(runtime.get().docker);
            } catch (const std::exception&) {
                return {};
            }
        };
    };
    CompletionSources sources;
    sources.environments = guarded([](docker::DockerCli& docker) {
        const std::vector<std::string> filters = {
            fmt::format("{}=true", state::label::k_managed),
            fmt::format("{}={}", state::label::k_phase, state::phase::k_config)};
        // The engine's environments (config containers) and the swarm's (configs named
        // pallet-ENV-config-N), asked at the same time: one docker call's time.
        auto swarm = std::async(std::launch::async, [&] { return docker.config_names(filters); });
        auto names = docker.container_label_values(filters, state::label::k_env);
        for (const auto& config : swarm.get()) {
            if (auto env = state::environment_of_config(config)) {
                names.push_back(*env);
            }
        }
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        return names;
    });
    sources.images = guarded([](docker::DockerCli& docker) { return docker.list_image_tags(); });
    sources.services = [] {
        std::vector<std::string> kinds;
        for (const auto& kind : services::catalog()) {
            kinds.push_back(kind.name);
        }
        return kinds;
    };
    return sources;
}

}  // namespace

int usage_error(const std::string& message, const std::string& path) {
    fmt::print(stderr, "docker-pallet: {}\nSee '{} --help'.\n", message, path);
    return k_exit_usage;
}

int dispatch(Runtime& runtime) {
    CLI::App app{metadata::k_short_description, "pallet"};
    auto formatter = std::make_shared<HelpFormatter>();
    formatter->column_width(28);
    formatter->label("TEXT", "string");
    formatter->label("INT", "int");
    formatter->label("REQUIRED", "");
    formatter->label("FILE", "string");  // FILE and DIR tell completion what to offer
    formatter->label("DIR", "string");
    app.formatter(formatter);
    app.set_help_flag("-h,--help", "Print usage");
    app.fallthrough();
    app.require_subcommand(1);
    app.add_flag("--dry-run", runtime.dry_run,
                 "Print the docker commands that would change the engine instead of running them");
    std::string progress_text;
    app.add_option(
           "--progress", progress_text,
           "How progress is shown: auto (tty on a terminal, else plain), tty, plain, json (one "
           "event a line), quiet (PALLET_PROGRESS)")
        ->check(CLI::IsMember({"auto", "tty", "plain", "json", "quiet"}));
    bool no_color = false;
    app.add_flag("--no-color", no_color, "No colors in progress (NO_COLOR)");

    std::function<int()> action;
    std::string env_name;
    std::vector<std::string> after_dashes;  // arguments after `--`

    // test
    phases::TestOptions test;
    auto* test_cmd = add_command(app, "test", "Run the image's test suite with its services");
    test_cmd->footer("Arguments after -- are passed to the image's test command.");
    test_cmd->add_option("IMAGE", test.image, "The application image")
        ->required()
        ->check(image_reference());
    add_test_environment_options(test_cmd, test);
    test_cmd->add_flag("--keep", test.keep, "Keep the test environment for inspection");
    test_cmd->callback([&] { action = [&] { return phases::run_test(runtime.get(), test); }; });

    // env
    auto* env_cmd = add_command(app, "env", "Manage environments");
    env_cmd->require_subcommand(1);
    phases::EnvCreateOptions create;
    auto* env_create = add_command(*env_cmd, "create", "Create an environment");
    auto* env_update =
        add_command(*env_cmd, "update", "Change an environment's settings (not its variables)");
    for (CLI::App* command : {env_create, env_update}) {
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
        repeatable(command->add_option(
            "--alias", create.aliases,
            "Another host name the edge sends here (repeat: replaces the list)"));
        command->add_flag("--no-aliases", create.no_aliases, "Remove the aliases");
        command
            ->add_option("--tls-cert", create.tls_cert,
                         "HTTPS at the edge: a PEM certificate (chain) for the site's domain")
            ->type_name("FILE");
        command
            ->add_option("--tls-key", create.tls_key,
                         "HTTPS at the edge: the certificate's PEM key")
            ->type_name("FILE");
        command->add_option(
            "--tls", create.tls,
            "HTTPS at the edge: acme (a certificate from an ACME server, renewed by "
            "edge renew) or none");
        command->add_option("--acme-email", create.acme_email,
                            "--tls acme: the ACME account's contact");
        command->add_option("--acme-directory", create.acme_directory,
                            "--tls acme: the ACME server's directory URL (default Let's Encrypt)");
        command->add_flag(
            "--hsts", create.hsts,
            "https sites: answers over HTTPS say Strict-Transport-Security (one year)");
        command->add_flag("--no-hsts", create.no_hsts, "They no longer do");
    }
    repeatable(env_create->add_option("--service", create.services,
                                      "Provide a service (NAME) or use your server (NAME=URL)"));
    env_create->add_flag("--check", create.check,
                         "Check that the servers of NAME=URL services accept connections");
    env_create
        ->add_option("--orchestrator", create.orchestrator,
                     "engine (containers on the engine addressed) or swarm (services on "
                     "the swarm it manages)")
        ->check(CLI::IsMember({"engine", "swarm"}))
        ->default_str("engine");
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
    env_create->callback(
        [&] { action = [&] { return phases::run_env_create(runtime.get(), create); }; });

    std::string service_action;
    std::vector<std::string> service_args;
    bool service_volumes = false;
    auto* env_service = add_command(
        *env_cmd, "service",
        "Add services (NAME: provided by docker pallet, NAME=URL: your server) or remove them");
    env_service->add_option("ENV", env_name, "Environment name")->required();
    env_service->add_option("ACTION", service_action, "add or rm")
        ->required()
        ->check(CLI::IsMember({"add", "rm"}));
    env_service->add_option("SERVICE", service_args, "NAME or NAME=URL (add), NAME (rm)")
        ->required();
    env_service->add_flag("--volumes", service_volumes, "rm: also remove the services' data");
    bool service_check = false;
    env_service->add_flag("--check", service_check,
                          "add: check that the servers of NAME=URL services accept connections");
    env_service->footer(fmt::format("Services: {}.", services::known_kinds()));
    env_service->callback([&] {
        action = [&] {
            if (service_action == "add") {
                return phases::run_env_service_add(runtime.get(), env_name, service_args,
                                                   service_check);
            }
            return phases::run_env_service_rm(runtime.get(), env_name, service_args,
                                              service_volumes);
        };
    });
    env_update->callback(
        [&] { action = [&] { return phases::run_env_update(runtime.get(), create); }; });

    std::string env_format = "table";
    bool env_quiet = false;
    auto* env_ls = add_command(*env_cmd, "ls", "List environments");
    add_format_option(env_ls, env_format);
    env_ls->add_flag("-q,--quiet", env_quiet, "Only print names");
    env_ls->callback([&] {
        action = [&] {
            return phases::run_env_ls(runtime.get(), parse_format(env_format), env_quiet);
        };
    });

    bool reveal = false;
    auto* env_show = add_command(*env_cmd, "show", "Show an environment's settings");
    env_show->add_option("ENV", env_name, "Environment name")->required();
    add_format_option(env_show, env_format);
    env_show->add_flag("--reveal", reveal,
                       "Show the values of variables and the credentials in service URLs");
    env_show->callback([&] {
        action = [&] {
            return phases::run_env_show(runtime.get(), env_name, parse_format(env_format), reveal);
        };
    });

    std::vector<std::string> env_pairs;
    auto* env_set = add_command(*env_cmd, "set", "Set variables of an environment");
    env_set->add_option("ENV", env_name, "Environment name")->required();
    env_set->add_option("KEY=VALUE", env_pairs, "Variables to set")->required();
    env_set->callback(
        [&] { action = [&] { return phases::run_env_set(runtime.get(), env_name, env_pairs); }; });

    auto* env_unset = add_command(*env_cmd, "unset", "Remove variables of an environment");
    env_unset->add_option("ENV", env_name, "Environment name")->required();
    env_unset->add_option("KEY", env_pairs, "Variables to remove")->required();
    env_unset->callback([&] {
        action = [&] { return phases::run_env_unset(runtime.get(), env_name, env_pairs); };
    });

    bool rm_volumes = false;
    auto* env_rm = add_command(*env_cmd, "rm", "Remove an environment (same as docker pallet rm)");
    env_rm->add_option("ENV", env_name, "Environment name")->required();
    env_rm->add_flag("--volumes", rm_volumes, "Also remove its /storage and /static volumes");
    env_rm->callback(
        [&] { action = [&] { return phases::run_rm(runtime.get(), env_name, rm_volumes); }; });

    // deploy, serve, release
    phases::DeployOptions deploy;
    std::string wait_text;
    auto* deploy_cmd = add_command(app, "deploy", "Run a version's deploy command (migrations)");
    auto* deploy_wait = add_deploy_arguments(deploy_cmd, deploy, wait_text);
    deploy_cmd->callback([&] {
        deploy.wait = wait_value(deploy_wait, wait_text, command_path(deploy_cmd));
        action = [&] { return phases::run_deploy(runtime.get(), deploy); };
    });

    phases::ServeOptions serve;
    auto* serve_cmd = add_command(app, "serve", "Serve a deployed version, replacing the old one");
    serve_cmd->add_option("ENV", serve.env, "Environment name")->required();
    serve_cmd->add_option("IMAGE", serve.image, "The version to serve (default: the current one)")
        ->check(image_reference());
    serve_cmd->add_option("--replicas", serve.replicas, "Number of serve containers")
        ->check(CLI::Range(1, 64));
    serve_cmd->callback([&] { action = [&] { return phases::run_serve(runtime.get(), serve); }; });

    phases::DeployOptions release;
    std::optional<int> release_replicas;
    auto* release_cmd = add_command(app, "release", "Deploy a version, then serve it");
    auto* release_wait = add_deploy_arguments(release_cmd, release, wait_text);
    release_cmd->add_option("--replicas", release_replicas, "Number of serve containers")
        ->check(CLI::Range(1, 64));
    release_cmd->callback([&] {
        release.wait = wait_value(release_wait, wait_text, command_path(release_cmd));
        action = [&] { return phases::run_release(runtime.get(), release, release_replicas); };
    });

    int scale_replicas = 0;
    auto* scale_cmd = add_command(app, "scale", "Change the number of serve containers");
    scale_cmd->add_option("ENV", env_name, "Environment name")->required();
    scale_cmd->add_option("REPLICAS", scale_replicas, "Number of serve containers (at least 1)")
        ->required()
        ->check(CLI::Range(0, 64));
    scale_cmd->callback([&] {
        action = [&] { return phases::run_scale(runtime.get(), env_name, scale_replicas); };
    });

    std::optional<std::string> rollback_image;
    auto* rollback_cmd =
        add_command(app, "rollback", "Deploy and serve the previously served version again");
    rollback_cmd->add_option("ENV", env_name, "Environment name")->required();
    rollback_cmd
        ->add_option("IMAGE", rollback_image,
                     "The version to go back to (default: the "
                     "one served before the current one)")
        ->check(image_reference());
    rollback_cmd->callback([&] {
        action = [&] { return phases::run_rollback(runtime.get(), env_name, rollback_image); };
    });

    // run
    phases::RunOptions run;
    phases::TestOptions run_test;
    bool run_as_test = false;
    std::string run_target;
    auto* run_cmd = add_command(app, "run", "Run a one-off command in an environment");
    run_cmd->fallthrough(false);
    run_cmd->prefix_command();  // COMMAND and its arguments are the command's, flags included
    run_cmd->footer(
        "COMMAND runs through the image's own entrypoint and user, with everything a serve\n"
        "container of ENV gets: variables, services, /storage, /static, its network. The image\n"
        "is --image, else the one ENV serves, else its last successful deploy.\n"
        "With --test, the first argument is an IMAGE: the command runs with a test run's\n"
        "services and variables, and everything is removed afterwards.");
    run_cmd->add_option("ENV", run_target, "Environment name (with --test: the image)")->required();
    run_cmd->add_flag("-i,--interactive", run.interactive, "Keep stdin open");
    run_cmd->add_flag("-t,--tty", run.tty, "Allocate a terminal");
    run_cmd->add_option("--image", run.image, "The image to run (default: what ENV serves)")
        ->check(image_reference());
    run_cmd->add_flag("--test", run_as_test,
                      "Run in a test run's environment; the first argument is an IMAGE");
    add_test_environment_options(run_cmd, run_test);
    run_cmd->callback([&] {
        const std::string path = command_path(run_cmd);
        std::vector<std::string> command = run_cmd->remaining();
        command.insert(command.end(), after_dashes.begin(), after_dashes.end());
        if (command.empty()) {
            throw UsageError("run needs a COMMAND to run", path);
        }
        if (run.tty && ::isatty(STDIN_FILENO) == 0) {
            throw UsageError("-t needs a terminal, and stdin is not one; leave out -t", path);
        }
        const bool test_options = !run_test.env.empty() || !run_test.env_files.empty() ||
                                  !run_test.services.empty() || !run_test.service_images.empty() ||
                                  run_test.service_timeout || run_test.reuse_services;
        if (run_as_test) {
            if (run.image) {
                throw UsageError("with --test the first argument is the image; leave out --image",
                                 path);
            }
            run_test.image = run_target;
            run_test.command = command;
            run_test.interactive = run.interactive;
            run_test.tty = run.tty;
            action = [&] { return phases::run_test(runtime.get(), run_test); };
            return;
        }
        if (test_options) {
            throw UsageError(
                "-e, --env-file and --service... set up a test run's environment: add "
                "--test (an environment has its own: docker pallet env set, env service)",
                path);
        }
        run.env = run_target;
        run.command = command;
        action = [&] { return phases::run_run(runtime.get(), run); };
    });

    // status, history, logs
    std::optional<std::string> status_env;
    std::string format = "table";
    auto* status_cmd = add_command(app, "status", "Show what each environment serves");
    status_cmd->add_option("ENV", status_env, "Only this environment");
    add_format_option(status_cmd, format);
    status_cmd->callback([&] {
        action = [&] {
            return phases::run_status(runtime.get(), status_env, parse_format(format));
        };
    });

    auto* history_cmd =
        add_command(app, "history", "List the deploys and serves of an environment");
    history_cmd->add_option("ENV", env_name, "Environment name")->required();
    add_format_option(history_cmd, format);
    history_cmd->callback([&] {
        action = [&] { return phases::run_history(runtime.get(), env_name, parse_format(format)); };
    });

    std::string logs_phase = "serve";
    bool follow = false;
    auto* logs_cmd = add_command(app, "logs", "Show the output of the last deploy or of serving");
    logs_cmd->add_option("ENV", env_name, "Environment name")->required();
    logs_cmd->add_option("--phase", logs_phase, "deploy or serve")
        ->check(CLI::IsMember({"deploy", "serve"}))
        ->default_str("serve");
    logs_cmd->add_flag("-f,--follow", follow, "Follow the output");
    logs_cmd->callback([&] {
        action = [&] { return phases::run_logs(runtime.get(), env_name, logs_phase, follow); };
    });

    // stop, rm
    auto* stop_cmd = add_command(app, "stop", "Stop serving an environment");
    stop_cmd->add_option("ENV", env_name, "Environment name")->required();
    stop_cmd->callback([&] { action = [&] { return phases::run_stop(runtime.get(), env_name); }; });

    auto* rm_cmd = add_command(app, "rm", "Remove an environment");
    rm_cmd->add_option("ENV", env_name, "Environment name")->required();
    rm_cmd->add_flag("--volumes", rm_volumes, "Also remove its /storage and /static volumes");
    rm_cmd->callback(
        [&] { action = [&] { return phases::run_rm(runtime.get(), env_name, rm_volumes); }; });

    // edge
    auto* edge_cmd = add_command(
        app, "edge", "Manage the engine's front door: environments by their domain on one port");
    edge_cmd->require_subcommand(1);
    std::optional<std::string> edge_http;
    std::optional<std::string> edge_https;
    auto* edge_up = add_command(*edge_cmd, "up", "Start the edge, or bring its sites up to date");
    edge_up->add_option("--http", edge_http,
                        "Where it listens for HTTP, [ADDRESS:]PORT (default 80, all addresses)");
    edge_up->add_option("--https", edge_https,
                        "Where it listens for HTTPS, [ADDRESS:]PORT (default 443, all addresses)");
    edge_up->callback([&] {
        action = [&] { return phases::run_edge_up(runtime.get(), edge_http, edge_https); };
    });
    bool renew_force = false;
    auto* edge_renew =
        add_command(*edge_cmd, "renew",
                    "New ACME certificates for the sites whose certificate expires within 30 days");
    edge_renew->add_flag("--force", renew_force, "Every ACME site's, due or not");
    edge_renew->footer("Run it daily, for example from cron: 17 3 * * * docker pallet edge renew");
    edge_renew->callback(
        [&] { action = [&] { return phases::run_edge_renew(runtime.get(), renew_force); }; });
    auto* edge_down = add_command(*edge_cmd, "down", "Stop and remove the edge");
    edge_down->callback([&] { action = [&] { return phases::run_edge_down(runtime.get()); }; });
    std::string edge_format = "table";
    auto* edge_status =
        add_command(*edge_cmd, "status", "Show where the edge listens and its sites");
    add_format_option(edge_status, edge_format);
    edge_status->callback([&] {
        action = [&] { return phases::run_edge_status(runtime.get(), parse_format(edge_format)); };
    });

    // version
    std::string version_format = "table";
    auto* version_cmd = add_command(app, "version", "Show the plugin version");
    version_cmd->add_option("--format", version_format, "Output format: pretty or json")
        ->check(CLI::IsMember({"pretty", "table", "json"}));
    version_cmd->callback([&] {
        action = [&] {
            if (version_format == "json") {
                fmt::print("{}\n", nlohmann::json{{"Version", k_version}}.dump());
            } else {
                fmt::print("docker-pallet version {}\n", k_version);
            }
            return 0;
        };
    });

    if (runtime.invocation.kind == Invocation::Kind::complete) {
        fmt::print("{}", complete(app, runtime.invocation.args, completion_sources(runtime),
                                  runtime.invocation.descriptions));
        return 0;
    }
    std::vector<std::string> args = runtime.invocation.args;
    // Everything after `--` belongs to the application's command, untouched by our parser.
    if (auto dashes = std::find(args.begin(), args.end(), "--"); dashes != args.end()) {
        after_dashes.assign(dashes + 1, args.end());
        test.args = after_dashes;
        args.erase(dashes, args.end());
    }
    if (runtime.invocation.help) {
        args.push_back("--help");
    }
    std::reverse(args.begin(), args.end());
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::RequiredError& e) {
        const CLI::App* at = deepest_selected(&app);
        // `docker pallet` alone: show help, like docker.
        if (runtime.invocation.args.empty()) {
            std::cout << app.help();
            return 0;
        }
        if (!at->get_subcommands({}).empty() && runtime.invocation.args.back() == at->get_name()) {
            std::cout << at->help();  // a command group alone: its help, like `docker network`
            return 0;
        }
        if (!at->get_subcommands({}).empty() && at->get_subcommands().empty()) {
            // A command was needed here: name what was given instead.
            for (const auto& word : runtime.invocation.args) {
                if (word.size() > 1 && word[0] == '-') {
                    return usage_error(fmt::format("unknown flag: {}", word), command_path(at));
                }
            }
            const std::string given = runtime.invocation.args.back();
            return usage_error(fmt::format("unknown command \"{}\"", given), command_path(at));
        }
        return usage_error(e.what(), command_path(at));
    } catch (const CLI::ExtrasError& e) {
        std::string extra = e.what();
        extra = extra.substr(extra.rfind(": ") + 2);
        return usage_error(extra.rfind('-', 0) == 0 ? fmt::format("unknown flag: {}", extra)
                                                    : fmt::format("unexpected argument: {}", extra),
                           command_path(deepest_selected(&app)));
    } catch (const CLI::ParseError& e) {
        return usage_error(e.what(), command_path(deepest_selected(&app)));
    }
    if (!action) {
        return 0;
    }
    runtime.progress = progress_for(app, progress_text, no_color);
    return action();
}

}  // namespace pallet::plugin
