#include "plugin/completion.h"

#include <array>
#include <string_view>

namespace pallet::plugin {

std::string complete(const std::vector<std::string>& args) {
    static constexpr std::array<std::string_view, 15> k_commands = {
        "deploy", "env",  "history", "logs", "release", "rm",      "rollback", "run",
        "scale",  "serve", "status", "stop", "test",    "version", "help"};
    static constexpr std::array<std::string_view, 7> k_env_commands = {
        "create", "ls", "rm", "set", "show", "unset", "update"};
    std::string out;
    const std::string partial = args.empty() ? "" : args.back();
    auto offer = [&](auto& words) {
        for (auto word : words) {
            if (word.substr(0, partial.size()) == partial) {
                out += std::string(word) + "\n";
            }
        }
    };
    if (args.size() <= 1) {
        offer(k_commands);
    } else if (args.size() == 2 && args[0] == "env") {
        offer(k_env_commands);
    }
    return out + ":4\n";
}

}  // namespace pallet::plugin
