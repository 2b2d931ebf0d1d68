#include "phases/run.h"

#include <fmt/format.h>

#include "phases/launch.h"
#include "phases/phase_env.h"
#include "phases/services.h"
#include "state/environments.h"
#include "state/history.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

// The image a one-off command runs: --image, else the very image that serves (by ID), else
// the version whose deploy succeeded last.
ResolvedImage image_to_run(Context& context, const RunOptions& options) {
    if (options.image) {
        return resolve_image(context, *options.image);
    }
    auto by_id = [&](const docker::ContainerRecord& record) -> std::optional<ResolvedImage> {
        auto image = context.docker.inspect_image(record.label(state::label::k_image_id));
        if (!image) {
            return std::nullopt;
        }
        return ResolvedImage{record.label(state::label::k_version), *image};
    };
    for (const auto& record : context.docker.list_containers(
             {state::env_filter(options.env), state::phase_filter(state::phase::k_serve)})) {
        if (auto image = by_id(record)) {
            return *image;
        }
    }
    for (const auto& record : state::deploy_records(context.docker, options.env)) {
        if (state::deploy_entry(record).result == "succeeded") {
            if (auto image = by_id(record)) {
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
        context.step("{} exited with {}", command, code);
    }
}

int run_run(Context& context, const RunOptions& options) {
    state::validate_env_name(options.env, "docker pallet run");
    state::EnvironmentStore store(context.docker);
    store.get(options.env);  // an unknown environment is an error, not a new one
    ResolvedImage image = image_to_run(context, options);
    state::Environment env = store.ensure(options.env);
    prepare_services(context, env, image.record.labels, image.ref);

    docker::ContainerSpec spec = phase_container(context, env, state::phase::k_serve, image);
    spec.name = fmt::format("pallet-{}-run-{}", env.name, state::random_id());
    spec.labels[state::label::k_phase] = state::phase::k_run;
    spec.command = options.command;
    spec.interactive = options.interactive;
    spec.tty = options.tty;
    spec.remove_on_exit = true;
    const std::string what = util::shell_join(options.command);
    context.step("running {} in {} with {}", what, env.name, image.ref);
    int code = 0;
    try {
        code = launch_attached(context, image, spec);
    } catch (...) {
        // Cancelled: the container goes even if docker could not see to it.
        context.docker.remove_containers({spec.name});
        throw;
    }
    if (!context.docker.dry_run()) {
        explain_exit(context, what, image.ref, code);
    }
    return code;
}

}  // namespace pallet::phases
