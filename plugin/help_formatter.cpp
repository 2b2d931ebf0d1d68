#include "plugin/help_formatter.h"

#include <fmt/format.h>

namespace pallet::plugin {

std::string command_path(const CLI::App* app) {
    std::string path;
    for (const CLI::App* at = app; at != nullptr; at = at->get_parent()) {
        path = path.empty() ? at->get_name() : at->get_name() + " " + path;
    }
    return "docker " + path;
}

namespace {

std::vector<const CLI::App*> subcommands_of(const CLI::App* app) {
    return app->get_subcommands(
        [](const CLI::App* sub) { return !sub->get_disabled() && !sub->get_group().empty(); });
}

}  // namespace

std::string HelpFormatter::make_help(const CLI::App* app, std::string name,
                                     CLI::AppFormatMode mode) const {
    if (mode == CLI::AppFormatMode::Sub) {
        return make_expanded(app);
    }
    std::string out = make_usage(app, name) + "\n" + make_description(app);
    out += make_positionals(app);
    out += make_groups(app, mode);
    out += make_subcommands(app, mode);
    // Flags of the root command apply to every command (docker's "persistent" flags).
    const CLI::App* root = app;
    while (root->get_parent() != nullptr) {
        root = root->get_parent();
    }
    if (root != app) {
        auto globals = root->get_options([root](const CLI::Option* opt) {
            return opt->nonpositional() && opt != root->get_help_ptr();
        });
        if (!globals.empty()) {
            out += make_group("Global Options", false, globals);
        }
    }
    if (subcommands_of(app).empty() && !app->get_footer().empty()) {
        out += "\n" + app->get_footer() + "\n";
    }
    if (!subcommands_of(app).empty()) {
        out += fmt::format("\nRun '{} COMMAND --help' for more information on a command.\n",
                           command_path(app));
    }
    return out;
}

std::string HelpFormatter::make_usage(const CLI::App* app, std::string) const {
    std::string usage = "Usage:  " + command_path(app);
    if (!subcommands_of(app).empty()) {
        usage += " COMMAND";
    }
    auto flags = app->get_options([](const CLI::Option* opt) { return opt->nonpositional(); });
    if (!flags.empty()) {
        usage += " [OPTIONS]";
    }
    for (const CLI::Option* opt :
         app->get_options([](const CLI::Option* o) { return o->get_positional(); })) {
        std::string name = opt->get_name();
        const bool many = opt->get_items_expected_max() > 1;
        if (opt->get_required()) {
            usage += " " + name + (many ? "..." : "");
        } else {
            usage += " [" + name + (many ? "..." : "") + "]";
        }
    }
    return usage + "\n";
}

}  // namespace pallet::plugin
