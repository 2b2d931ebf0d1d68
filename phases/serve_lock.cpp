#include "phases/serve_lock.h"

#include <fmt/format.h>

#include <algorithm>

#include "phases/phase_env.h"
#include "phases/router.h"
#include "state/history.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/strings.h"

namespace pallet::phases {

namespace {
// How long an ended lock container may still be on its way out before it counts as abandoned.
constexpr std::chrono::milliseconds k_removal_grace{1500};
}  // namespace

ServeLock::ServeLock(Context& context, const std::string& env, std::chrono::seconds stale_after)
    : m_context(context), m_name(fmt::format("pallet-{}-serve-lock", env)) {
    if (context.docker.dry_run()) {
        return;
    }
    // The lease: a container that runs `sleep` for as long as any change may take, with no
    // restart policy. It is the lock while it runs; it ends by itself if its holder dies, and at
    // once if the engine restarts.
    docker::ContainerSpec spec;
    spec.name = m_name;
    spec.image = router_image(context);  // docker run pulls it if it has to
    spec.command = {"sleep", std::to_string(stale_after.count())};
    spec.labels = state::base_labels(env, state::phase::k_serve_lock);
    spec.labels[state::label::k_user] = context.actor_user;
    spec.labels[state::label::k_host] = context.actor_host;
    bool announced = false;
    std::string stopped_id;
    std::chrono::steady_clock::time_point stopped_since;
    while (true) {
        if (context.docker.run_detached(spec) == docker::StartOutcome::started) {
            m_held = true;
            return;
        }
        auto holder = context.docker.inspect_container(m_name);
        if (!holder) {
            continue;  // released meanwhile
        }
        bool live = holder->running;
        if (!live && holder->image == state::k_record_image) {
            // A lock of docker-pallet 0.1: a record that never runs, live until it is older than
            // any change may take, by the engine's clock.
            live = context.docker.engine_now() - state::created_at(*holder) <=
                   static_cast<double>(stale_after.count());
        }
        if (!live && holder->id != stopped_id) {
            // A lock seen ended may be one its holder is removing right now (docker rm -f stops
            // it first): look again a moment later before calling it abandoned.
            stopped_id = holder->id;
            stopped_since = std::chrono::steady_clock::now();
        }
        if (!live && std::chrono::steady_clock::now() - stopped_since < k_removal_grace) {
            cancel::sleep(std::chrono::milliseconds(200));
            continue;
        }
        if (!live) {
            context.step(
                "taking over the lock of {} left by {}@{} {} (its holder ended without "
                "releasing it, or the engine restarted)",
                env, holder->label(state::label::k_user), holder->label(state::label::k_host),
                state::time_ago(state::created_at(*holder), context.docker.engine_now()));
            context.docker.remove_containers({holder->id});
            continue;
        }
        m_waited = true;
        if (!announced) {
            const double age = context.docker.engine_now() - state::created_at(*holder);
            const auto left = std::chrono::seconds(std::max<long long>(
                0, static_cast<long long>(static_cast<double>(stale_after.count()) - age)));
            context.step(
                "waiting for {}@{} to finish changing what {} serves (its lock was taken "
                "{}; its lease ends in {} at most)",
                holder->label(state::label::k_user), holder->label(state::label::k_host), env,
                state::time_ago(state::created_at(*holder), context.docker.engine_now()),
                util::format_duration(left));
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
