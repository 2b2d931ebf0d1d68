#include "plugin/command_line.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "metadata/metadata.h"
#include "orchestrator/open.h"
#include "plugin/commands/commands.h"
#include "plugin/completion.h"
#include "plugin/help_formatter.h"
#include "plugin/progress.h"
#include "services/catalog.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::plugin {
namespace {

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

// What completion asks the engine: its environments (of every orchestrator), its images. Any
// failure (no engine, no docker) offers nothing: completion never prints an error.
CompletionSources completion_sources(Runtime& runtime) {
    auto guarded = [&runtime](auto query) {
        return [&runtime, query]() -> std::vector<std::string> {
            try {
                return query(runtime.get());
            } catch (const std::exception&) {
                return {};
            }
        };
    };
    CompletionSources sources;
    sources.environments = guarded(orchestrator::environment_names);
    sources.images = guarded(orchestrator::image_names);
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

namespace {

// The plugin's own flags, before or after the command.
struct RootFlags {
    std::string progress;
    bool no_color = false;
};

void configure_root(CLI::App& app, Runtime& runtime, RootFlags& flags) {
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
    app.add_option("--progress", flags.progress,
                   "How progress is shown: auto (tty on a terminal, else plain), tty, plain, json "
                   "(one event a line), quiet (PALLET_PROGRESS)")
        ->check(CLI::IsMember({"auto", "tty", "plain", "json", "quiet"}));
    app.add_flag("--no-color", flags.no_color, "No colors in progress (NO_COLOR)");
}

// The word given where a command of `at` was needed: the first one that is no flag (nor the value
// of --progress) and not a name on the way to `at`.
std::string given_command(const CLI::App* at, const std::vector<std::string>& args) {
    std::vector<std::string> path;
    for (const CLI::App* app = at; app->get_parent() != nullptr; app = app->get_parent()) {
        path.insert(path.begin(), app->get_name());
    }
    size_t matched = 0;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (word.rfind('-', 0) == 0) {
            i += word == "--progress" ? 1 : 0;
        } else if (matched < path.size() && word == path[matched]) {
            ++matched;
        } else {
            return word;
        }
    }
    return args.empty() ? "" : args.back();
}

// What the user is told when the command line does not parse; 0 after help.
int parse_failure(const CLI::ParseError& error, const CLI::App& app,
                  const std::vector<std::string>& args) {
    const CLI::App* at = deepest_selected(&app);
    if (dynamic_cast<const CLI::CallForHelp*>(&error) != nullptr) {
        std::cout << app.help();
        return 0;
    }
    if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
        std::string extra = error.what();
        extra = extra.substr(extra.rfind(": ") + 2);
        return usage_error(extra.rfind('-', 0) == 0 ? fmt::format("unknown flag: {}", extra)
                                                    : fmt::format("unexpected argument: {}", extra),
                           command_path(at));
    }
    if (dynamic_cast<const CLI::RequiredError*>(&error) == nullptr) {
        return usage_error(error.what(), command_path(at));
    }
    if (args.empty()) {
        std::cout << app.help();  // `docker pallet` alone: its help, like docker
        return 0;
    }
    if (!at->get_subcommands({}).empty() && args.back() == at->get_name()) {
        std::cout << at->help();  // a command group alone: its help, like `docker network`
        return 0;
    }
    if (!at->get_subcommands({}).empty() && at->get_subcommands().empty()) {
        // A command was needed here: name what was given instead.
        for (const auto& word : args) {
            if (word.size() > 1 && word[0] == '-' && word != "--progress" &&
                word.rfind("--progress=", 0) != 0) {
                return usage_error(fmt::format("unknown flag: {}", word), command_path(at));
            }
        }
        return usage_error(fmt::format("unknown command \"{}\"", given_command(at, args)),
                           command_path(at));
    }
    return usage_error(error.what(), command_path(at));
}

}  // namespace

int dispatch(Runtime& runtime) {
    CLI::App app{metadata::k_short_description, "pallet"};
    RootFlags flags;
    configure_root(app, runtime, flags);
    std::function<int()> action;
    std::vector<std::string> after_dashes;  // arguments after `--`
    commands::Tree tree{app, runtime, action, after_dashes};
    for (const auto add : {commands::add_test, commands::add_env, commands::add_lifecycle,
                           commands::add_run, commands::add_inspect, commands::add_stop_rm,
                           commands::add_backup, commands::add_edge, commands::add_version}) {
        add(tree);
    }

    if (runtime.invocation.kind == Invocation::Kind::complete) {
        fmt::print("{}", complete(app, runtime.invocation.args, completion_sources(runtime),
                                  runtime.invocation.descriptions));
        return 0;
    }
    std::vector<std::string> args = runtime.invocation.args;
    // Everything after `--` belongs to the application's command, untouched by our parser.
    if (auto dashes = std::find(args.begin(), args.end(), "--"); dashes != args.end()) {
        after_dashes.assign(dashes + 1, args.end());
        args.erase(dashes, args.end());
    }
    if (runtime.invocation.help) {
        args.push_back("--help");
    }
    std::reverse(args.begin(), args.end());
    try {
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        return parse_failure(e, app, runtime.invocation.args);
    }
    if (!action) {
        return 0;
    }
    runtime.progress = progress_for(app, flags.progress, flags.no_color);
    return action();
}

}  // namespace pallet::plugin
