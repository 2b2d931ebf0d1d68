#include "phases/serve_lock.h"

#include <fmt/format.h>

#include <algorithm>

#include "state/history.h"
#include "util/cancel.h"
#include "util/strings.h"

namespace pallet::phases {

namespace {
// How long a lock seen ended may still be on its way out (its holder is removing it right now)
// before it counts as abandoned.
constexpr std::chrono::milliseconds k_removal_grace{1500};
}  // namespace

ServeLock::ServeLock(Context& context, orchestrator::Orchestrator& opened,
                     const state::Environment& env, std::chrono::seconds lease)
    : m_orchestrator(opened), m_env(env) {
    if (context.docker.dry_run()) {
        return;
    }
    bool announced = false;
    std::string ended_id;
    std::chrono::steady_clock::time_point ended_since;
    while (true) {
        if (opened.take_serve_lock(env, lease)) {
            m_held = true;
            return;
        }
        const auto holder = opened.serve_lock_holder(env, lease);
        if (!holder) {
            continue;  // released meanwhile
        }
        if (!holder->live && holder->id != ended_id) {
            ended_id = holder->id;
            ended_since = cancel::now();
        }
        if (!holder->live && cancel::now() - ended_since < k_removal_grace) {
            cancel::sleep(std::chrono::milliseconds(200));
            continue;
        }
        const double now = context.docker.engine_now();
        if (!holder->live) {
            context.step(
                "taking over the lock of {} left by {}@{} {} (its holder ended without "
                "releasing it, or the engine restarted)",
                env.name, holder->user, holder->host, state::time_ago(holder->taken, now));
            opened.break_serve_lock(*holder);
            continue;
        }
        m_waited = true;
        if (!announced) {
            const auto left = std::chrono::seconds(
                std::max<long long>(0, static_cast<long long>(static_cast<double>(lease.count()) -
                                                              (now - holder->taken))));
            context.step(
                "waiting for {}@{} to finish changing what {} serves (its lock was taken "
                "{}; its lease ends in {} at most)",
                holder->user, holder->host, env.name, state::time_ago(holder->taken, now),
                util::format_duration(left));
            announced = true;
        }
        cancel::sleep(std::chrono::milliseconds(300));
    }
}

ServeLock::~ServeLock() {
    if (m_held) {
        m_orchestrator.release_serve_lock(m_env);
    }
}

}  // namespace pallet::phases
