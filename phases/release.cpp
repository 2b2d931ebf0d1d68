#include "phases/release.h"

#include <fmt/format.h>

#include "phases/phase_env.h"
#include "phases/serve.h"
#include "phases/swarm.h"
#include "state/environments.h"
#include "state/history.h"
#include "state/labels.h"
#include "state/snapshot.h"
#include "util/error.h"

namespace pallet::phases {

int run_release(Context& context, const DeployOptions& deploy, std::optional<int> replicas) {
    state::validate_env_name(deploy.env, "docker pallet release");
    const ResolvedImage image = resolve_image(context, deploy.image);  // once, for both
    const int code = deploy_image(context, deploy, image);
    if (code != 0 || context.docker.dry_run()) {
        if (context.docker.dry_run()) {
            ServeOptions serve{deploy.env, deploy.image, replicas};
            context.step("then: {pallet} serve {} {}", serve.env, *serve.image,
                         fmt::arg("pallet", context.command("pallet")));
        }
        return code;
    }
    return serve_image(context, ServeOptions{deploy.env, deploy.image, replicas}, &image);
}

int run_rollback(Context& context, const std::string& env_name,
                 const std::optional<std::string>& image) {
    state::validate_env_name(env_name, "docker pallet rollback");
    std::string target;
    if (image) {
        state::EnvironmentStore(context.docker).get(env_name);
        target = *image;
    } else {
        const state::Snapshot snapshot = state::read_snapshot(context.docker, env_name);
        std::string current;
        std::vector<docker::ContainerRecord> records = snapshot.serve_records;
        if (!snapshot.settings) {
            if (!swarm::find(context, env_name)) {
                state::EnvironmentStore(context.docker).get(env_name);  // throws, with what to do
            }
            records = context.docker.list_configs(
                {state::env_filter(env_name), state::phase_filter(state::phase::k_serve_record)});
            state::newest_first(records);
            for (const auto& service : context.docker.list_services(
                     {state::env_filter(env_name), state::phase_filter(state::phase::k_serve)})) {
                current = service.label(state::label::k_version);
            }
        }
        for (const auto& record : snapshot.serving) {
            current = record.label(state::label::k_version);
        }
        for (const auto& entry : state::serve_entries(records)) {
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
    context.step("rolling {} back to {}: its deploy runs again first", env_name, target);
    return run_release(context, DeployOptions{env_name, target, std::chrono::seconds(0)},
                       std::nullopt);
}

}  // namespace pallet::phases
