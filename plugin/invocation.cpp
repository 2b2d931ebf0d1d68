#include "plugin/invocation.h"

#include <fmt/format.h>

#include <string_view>

#include "util/error.h"

namespace pallet::plugin {
namespace {

constexpr std::string_view k_plugin_name = "pallet";

struct GlobalFlag {
    std::string_view long_name;
    char short_name;  // 0 when none
    bool takes_value;
};

// docker's global flags (cmd/docker/docker.go, cli/flags/options.go).
constexpr GlobalFlag k_global_flags[] = {
    {"config", 0, true},     {"context", 'c', true},   {"debug", 'D', false},
    {"host", 'H', true},     {"log-level", 'l', true}, {"tls", 0, false},
    {"tlsverify", 0, false}, {"tlscacert", 0, true},   {"tlscert", 0, true},
    {"tlskey", 0, true},     {"help", 'h', false},
};

const GlobalFlag* find_long(std::string_view name) {
    for (const auto& flag : k_global_flags) {
        if (flag.long_name == name) {
            return &flag;
        }
    }
    return nullptr;
}

const GlobalFlag* find_short(char name) {
    for (const auto& flag : k_global_flags) {
        if (flag.short_name == name) {
            return &flag;
        }
    }
    return nullptr;
}

[[noreturn]] void usage(const std::string& message) { throw UsageError(message, "docker"); }

// Records a flag's effect on the plugin (besides being passed on).
void note(Invocation& inv, std::string_view name, const std::string& value) {
    if (name == "config") {
        inv.config_dir = value;
    } else if (name == "host") {
        inv.host = value;
    } else if (name == "context") {
        inv.context = value;
    } else if (name == "debug") {
        inv.debug = value != "false";
    } else if (name == "log-level") {
        inv.debug = inv.debug || value == "debug";
    } else if (name == "help") {
        inv.help = value != "false";
    }
}

}  // namespace

Invocation parse_invocation(const std::vector<std::string>& argv) {
    Invocation inv;
    if (argv.size() == 1 && argv[0] == "docker-cli-plugin-metadata") {
        inv.kind = Invocation::Kind::metadata;
        return inv;
    }
    size_t i = 0;
    for (; i < argv.size(); ++i) {
        const std::string& token = argv[i];
        if (token == "--") {
            ++i;
            break;
        }
        if (token.size() < 2 || token[0] != '-') {
            break;
        }
        if (token[1] == '-') {
            std::string name = token.substr(2);
            std::optional<std::string> value;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            const GlobalFlag* flag = find_long(name);
            if (flag == nullptr) {
                // Not docker's: the plugin's own arguments start here (standalone use).
                break;
            }
            std::vector<std::string> tokens = {token};
            if (flag->takes_value && !value) {
                if (i + 1 >= argv.size()) {
                    usage(fmt::format("flag needs an argument: --{}", name));
                }
                value = argv[++i];
                tokens.push_back(*value);
            }
            if (!flag->takes_value && value && *value != "true" && *value != "false") {
                usage(fmt::format("invalid argument \"{}\" for \"--{}\" flag", *value, name));
            }
            note(inv, flag->long_name, value.value_or("true"));
            if (flag->long_name != "help") {
                inv.global_args.insert(inv.global_args.end(), tokens.begin(), tokens.end());
            }
            continue;
        }
        // A cluster of short flags: -D, -Dh, -c prod, -cprod, -Dlinfo. Its effects count only
        // once all of it is known to be docker's.
        std::string passed = "-";
        std::vector<std::string> extra;
        std::vector<std::pair<std::string_view, std::string>> effects;
        bool all_known = true;
        for (size_t k = 1; k < token.size(); ++k) {
            const GlobalFlag* flag = find_short(token[k]);
            if (flag == nullptr) {
                all_known = false;
                break;
            }
            if (!flag->takes_value) {
                effects.emplace_back(flag->long_name, "true");
                if (flag->long_name != "help") {
                    passed += token[k];
                }
                continue;
            }
            passed += token[k];
            std::string value = token.substr(k + 1);
            if (value.empty()) {
                if (i + 1 >= argv.size()) {
                    usage(fmt::format("flag needs an argument: -{}", token[k]));
                }
                value = argv[++i];
                extra.push_back(value);
            } else {
                passed += value;
            }
            effects.emplace_back(flag->long_name, value);
            break;
        }
        if (!all_known) {
            break;  // standalone use with a plugin flag first
        }
        for (const auto& [name, value] : effects) {
            note(inv, name, value);
        }
        if (passed != "-") {
            inv.global_args.push_back(passed);
            inv.global_args.insert(inv.global_args.end(), extra.begin(), extra.end());
        }
    }

    std::vector<std::string> rest(argv.begin() + static_cast<long>(i), argv.end());
    if (!rest.empty() && rest[0] == "help" && rest.size() >= 2 && rest[1] == k_plugin_name) {
        inv.help = true;
        rest.erase(rest.begin(), rest.begin() + 2);
    } else if (!rest.empty() && (rest[0] == "__complete" || rest[0] == "__completeNoDesc")) {
        // docker passes `__complete pallet ARGS...`; the bash completion of Debian's docker.io
        // runs the plugin itself with `__completeNoDesc ARGS...`.
        inv.kind = Invocation::Kind::complete;
        inv.descriptions = rest[0] == "__complete";
        rest.erase(rest.begin(),
                   rest.begin() + (rest.size() >= 2 && rest[1] == k_plugin_name ? 2 : 1));
    } else if (!rest.empty() && rest[0] == k_plugin_name) {
        rest.erase(rest.begin());
    }
    if (!rest.empty() && rest[0] == "docker-cli-plugin-hooks") {
        inv.kind = Invocation::Kind::hooks;
    }
    inv.args = std::move(rest);
    return inv;
}

}  // namespace pallet::plugin
