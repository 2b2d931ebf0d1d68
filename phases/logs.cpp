#include "phases/logs.h"

#include <fmt/format.h>

#include <cstdio>

#include "orchestrator/open.h"
#include "state/labels.h"
#include "util/error.h"

namespace pallet::phases {

int run_logs(Context& context, const std::string& env, const std::string& phase, bool follow,
             const std::string& process) {
    state::validate_env_name(env, "docker pallet logs");
    auto opened = orchestrator::open(context, env);
    if (!opened->state().settings) {
        state::EnvironmentStore(context.docker).get(env);  // throws, with what to do
    }
    const auto source = opened->output(*opened->state().settings,
                                       process.empty() ? phase : state::phase::k_process, process);
    if (!source && !process.empty()) {
        throw Error(fmt::format("{} runs no {} process; see {pallet} status {}", env, process, env,
                                fmt::arg("pallet", context.command("pallet"))));
    }
    if (!source) {
        if (phase == state::phase::k_deploy) {
            throw Error(fmt::format("{} has no deploy yet; run: {pallet} deploy {} IMAGE", env, env,
                                    fmt::arg("pallet", context.command("pallet"))));
        }
        throw Error(fmt::format("{} serves nothing; see {pallet} status {}", env, env,
                                fmt::arg("pallet", context.command("pallet"))));
    }
    context.step("{}", source->description);
    source->stream(follow, [&context](const std::string& line) {
        context.output_follows();
        fmt::print("{}\n", line);
        std::fflush(stdout);
    });
    return 0;
}

}  // namespace pallet::phases
