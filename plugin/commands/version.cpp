// docker pallet version
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "pallet_version.h"
#include "plugin/commands/commands.h"

namespace pallet::plugin::commands {

void add_version(Tree& tree) {
    auto format = std::make_shared<std::string>("table");
    auto* version = add_command(tree.app, "version", "Show the plugin version");
    version->add_option("--format", *format, "Output format: pretty or json")
        ->check(CLI::IsMember({"pretty", "table", "json"}));
    version->callback([&tree, format] {
        tree.action = [format] {
            if (*format == "json") {
                fmt::print("{}\n", nlohmann::json{{"Version", k_version}}.dump());
            } else {
                fmt::print("docker-pallet version {}\n", k_version);
            }
            return 0;
        };
    });
}

}  // namespace pallet::plugin::commands
