#include "phases/serve_lock.h"

#include <fmt/format.h>

#include "state/history.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/strings.h"

namespace pallet::phases {

ServeLock::ServeLock(Context& context, const std::string& env, std::chrono::seconds stale_after)
    : m_context(context), m_name(fmt::format("pallet-{}-serve-lock", env)) {
    if (context.docker.dry_run()) {
        return;
    }
    docker::ContainerSpec spec;
    spec.name = m_name;
    spec.image = state::k_record_image;
    spec.labels = state::base_labels(env, state::phase::k_serve_lock);
    spec.labels[state::label::k_user] = context.actor_user;
    spec.labels[state::label::k_host] = context.actor_host;
    bool announced = false;
    while (true) {
        if (context.docker.create_container(spec) == docker::StartOutcome::started) {
            m_held = true;
            return;
        }
        auto holder = context.docker.inspect_container(m_name);
        if (!holder) {
            continue;  // released meanwhile
        }
        // By the engine's clock: the local one may be hours off a remote engine's.
        const double age = context.docker.engine_now() - state::created_at(*holder);
        if (age > static_cast<double>(stale_after.count())) {
            context.step("taking over the lock of {} left by {}@{} {}s ago", env,
                         holder->label(state::label::k_user), holder->label(state::label::k_host),
                         static_cast<long long>(age));
            context.docker.remove_containers({holder->id});
            continue;
        }
        if (!announced) {
            context.step("waiting for {}@{} to finish changing what {} serves (its lock was taken "
                         "{})",
                         holder->label(state::label::k_user), holder->label(state::label::k_host),
                         env, state::time_ago(state::created_at(*holder), context.docker.engine_now()));
            announced = true;
        }
        cancel::sleep(std::chrono::milliseconds(300));
    }
}

ServeLock::~ServeLock() {
    if (m_held) {
        m_context.docker.remove_containers({m_name});
    }
}

}  // namespace pallet::phases
