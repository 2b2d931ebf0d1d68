#include "orchestrator/engine/container.h"

#include "state/labels.h"

namespace pallet::orchestrator::engine {

docker::ContainerSpec phase_container(const Context& context, const state::Environment& env,
                                      const std::string& phase, const ResolvedImage& image) {
    docker::ContainerSpec spec;
    spec.image = image.runnable();
    spec.command = {phase};
    spec.env = phase_variables(env, phase);
    spec.labels = phase_labels(context, env, phase, image);
    spec.labels[state::label::k_started] = std::to_string(state::now_seconds());
    spec.network = state::network_name(env.name);
    spec.mounts = {{state::storage_volume(env.name), "/storage", false},
                   {state::static_volume(env.name), "/static", false}};
    return spec;
}

}  // namespace pallet::orchestrator::engine
