#include "phases/run.h"

#include <fmt/format.h>

#include "orchestrator/open.h"
#include "phases/deploy.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

// The image a one-off command runs: --image, else the very image that serves (by ID), else the
// version whose deploy succeeded last.
ResolvedImage image_to_run(Context& context, const orchestrator::EnvironmentState& state,
                           const RunOptions& options) {
    if (options.image) {
        return resolve_image(context, *options.image);
    }
    auto by_id = [&](const std::string& version,
                     const std::string& image_id) -> std::optional<ResolvedImage> {
        auto image = image_id.empty() ? std::nullopt : context.docker.inspect_image(image_id);
        if (!image) {
            return std::nullopt;
        }
        return ResolvedImage{version, *image};
    };
    if (state.served) {
        if (auto image = by_id(state.served->version, state.served->image_id)) {
            return *image;
        }
    }
    for (const auto& entry : state.deploys) {
        if (entry.result == "succeeded") {
            if (auto image = by_id(entry.version, entry.image_id)) {
                return *image;
            }
        }
    }
    throw Error(
        fmt::format("{} serves nothing and has no successful deploy to take the image "
                    "from; name one: {pallet} run --image IMAGE {} {}",
                    options.env, options.env, util::shell_join(options.command),
                    fmt::arg("pallet", context.command("pallet"))));
}

}  // namespace

void explain_exit(Context& context, const std::string& command, const std::string& image,
                  int code) {
    if (code == 126 || code == 127) {
        context.note(
            "docker-pallet: error: {} could not run in {} (exit {}: {}); the image's "
            "entrypoint is given the command, so check its name and the entrypoint\n",
            command, image, code, code == 127 ? "not found" : "not executable");
    } else if (code != 0) {
        context.outcome("{} exited with {}", command, code);
    }
}

int run_run(Context& context, const RunOptions& options) {
    state::validate_env_name(options.env, "docker pallet run");
    auto opened = orchestrator::open(context, options.env);
    if (!opened->state().settings) {
        // An unknown environment is an error, not a new one.
        state::EnvironmentStore(context.docker).get(options.env);
    }
    const ResolvedImage image = image_to_run(context, opened->state(), options);
    const state::Environment env = opened->ensure();
    prepare_services(context, *opened, env, image);
    const std::string what = util::shell_join(options.command);
    context.step("running {} in {} with {}", what, env.name, image.ref);
    const int code = opened->run(
        env, image, orchestrator::OneOff{options.command, options.interactive, options.tty});
    if (!context.docker.dry_run()) {
        explain_exit(context, what, image.ref, code);
    }
    return code;
}

}  // namespace pallet::phases
