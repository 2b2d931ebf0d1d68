// docker pallet edge up, renew, down, status.
#include "phases/edge.h"

#include <memory>

#include "phases/acme.h"
#include "plugin/commands/commands.h"

namespace pallet::plugin::commands {
namespace {

struct EdgeOptions {
    std::optional<std::string> edge_http;
    std::optional<std::string> edge_https;
    bool renew_force = false;
    std::string edge_format = "table";
};

}  // namespace

void add_edge(Tree& tree) {
    auto o = std::make_shared<EdgeOptions>();
    auto* edge_cmd =
        add_command(tree.app, "edge",
                    "Manage the engine's front door: environments by their domain on one port");
    edge_cmd->require_subcommand(1);
    auto* edge_up = add_command(*edge_cmd, "up", "Start the edge, or bring its sites up to date");
    edge_up->add_option("--http", o->edge_http,
                        "Where it listens for HTTP, [ADDRESS:]PORT (default 80, all addresses)");
    edge_up->add_option("--https", o->edge_https,
                        "Where it listens for HTTPS, [ADDRESS:]PORT (default 443, all addresses)");
    edge_up->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_edge_up(tree.runtime.get(), o->edge_http, o->edge_https);
        };
    });
    auto* edge_renew =
        add_command(*edge_cmd, "renew",
                    "New ACME certificates for the sites whose certificate expires within 30 days");
    edge_renew->add_flag("--force", o->renew_force, "Every ACME site's, due or not");
    edge_renew->footer("Run it daily, for example from cron: 17 3 * * * docker pallet edge renew");
    edge_renew->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_edge_renew(tree.runtime.get(), o->renew_force);
        };
    });
    auto* edge_down = add_command(*edge_cmd, "down", "Stop and remove the edge");
    edge_down->callback([&tree, o] {
        tree.action = [&tree, o] { return phases::run_edge_down(tree.runtime.get()); };
    });
    auto* edge_status =
        add_command(*edge_cmd, "status", "Show where the edge listens and its sites");
    add_format_option(edge_status, o->edge_format);
    edge_status->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_edge_status(tree.runtime.get(), parse_format(o->edge_format));
        };
    });
}

}  // namespace pallet::plugin::commands
