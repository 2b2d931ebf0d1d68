#include "phases/release.h"

#include <fmt/format.h>

#include "orchestrator/open.h"
#include "phases/serve.h"
#include "util/error.h"

namespace pallet::phases {

int run_release(Context& context, const DeployOptions& deploy, std::optional<int> replicas) {
    state::validate_env_name(deploy.env, "docker pallet release");
    const ResolvedImage image = resolve_image(context, deploy.image);  // once, for both
    int code = 0;
    {
        auto opened = orchestrator::open(context, deploy.env);
        code = deploy_image(context, *opened, deploy, image);
    }
    if (code != 0 || context.docker.dry_run()) {
        if (context.docker.dry_run()) {
            context.step("then: {pallet} serve {} {}", deploy.env, deploy.image,
                         fmt::arg("pallet", context.command("pallet")));
        }
        return code;
    }
    return serve_image(context, ServeOptions{deploy.env, deploy.image, replicas}, &image);
}

int run_rollback(Context& context, const std::string& env_name,
                 const std::optional<std::string>& image) {
    state::validate_env_name(env_name, "docker pallet rollback");
    auto opened = orchestrator::open(context, env_name);
    const auto& state = opened->state();
    if (!state.settings) {
        state::EnvironmentStore(context.docker).get(env_name);  // throws, with what to do
    }
    std::string target;
    if (image) {
        target = *image;
    } else {
        std::string current = state.served ? state.served->version : "";
        for (const auto& entry : state.serves) {
            if (entry.result != "serving") {
                continue;
            }
            if (current.empty()) {
                current = entry.version;  // stopped: roll back from the last one served
                continue;
            }
            if (entry.version != current) {
                target = entry.version;
                break;
            }
        }
        if (target.empty()) {
            throw Error(
                fmt::format("nothing to roll back to: {} has served no other version{}; "
                            "name one: {pallet} rollback {} IMAGE",
                            env_name, current.empty() ? "" : " than " + current, env_name,
                            fmt::arg("pallet", context.command("pallet"))));
        }
    }
    opened.reset();
    context.step("rolling {} back to {}: its deploy runs again first", env_name, target);
    return run_release(context, DeployOptions{env_name, target, std::chrono::seconds(0)},
                       std::nullopt);
}

}  // namespace pallet::phases
