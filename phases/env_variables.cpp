// `docker pallet env set` and `env unset`: the environment's variables.
#include <fmt/format.h>

#include "phases/env_commands.h"
#include "phases/phase_env.h"
#include "state/environments.h"
#include "util/error.h"

namespace pallet::phases {

int run_env_set(Context& context, const std::string& name, const std::vector<std::string>& pairs) {
    state::validate_env_name(name, "docker pallet env set");
    for (const auto& pair : pairs) {
        if (pair.find('=') == std::string::npos) {
            throw UsageError(fmt::format("expected KEY=VALUE, got \"{}\"", pair),
                             "docker pallet env set");
        }
        validate_variable_name(pair.substr(0, pair.find('=')), "docker pallet env set");
    }
    state::EnvironmentStore store(context.docker);
    auto env = store.get(name);
    parse_variables(pairs, {}, env.variables);
    store.save(env);
    context.done("set {} variable(s) of {}; they apply from the next deploy or serve", pairs.size(),
                 name);
    return 0;
}

int run_env_unset(Context& context, const std::string& name, const std::vector<std::string>& keys) {
    state::validate_env_name(name, "docker pallet env unset");
    state::EnvironmentStore store(context.docker);
    auto env = store.get(name);
    for (const auto& key : keys) {
        validate_variable_name(key, "docker pallet env unset");
        if (env.variables.erase(key) == 0) {
            throw Error(fmt::format("{} has no variable {}", name, key));
        }
    }
    store.save(env);
    context.done("removed {} variable(s) of {}", keys.size(), name);
    return 0;
}

}  // namespace pallet::phases
