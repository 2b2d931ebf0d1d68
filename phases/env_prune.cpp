// `docker pallet env prune`, and when environments expire.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>

#include "orchestrator/open.h"
#include "phases/edge.h"
#include "phases/env_commands.h"
#include "phases/expiry.h"
#include "phases/remove.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/together.h"

namespace pallet::phases {

std::optional<double> expires_at(const orchestrator::EnvironmentState& state) {
    if (!state.settings || state.settings->ttl <= 0) {
        return std::nullopt;
    }
    double last = state.settings->touched;
    for (const auto& deploy : state.deploys) {
        last = std::max(last, deploy.started + deploy.duration.value_or(0));
    }
    for (const auto& serve : state.serves) {
        last = std::max(last, serve.started);
    }
    return last + state.settings->ttl;
}

namespace {

// Environments removed at once by env prune.
constexpr std::size_t k_prune_lanes = 4;

// Removes `name` when it has still expired at `now`; false when it no longer has.
bool prune_one(Context& context, const std::string& name, double now) {
    // Read again on its own: a deploy or an update since the listing keeps it.
    // (Its deploys' end times too: a listing has only their start.)
    auto opened = orchestrator::open(context, name, state::Reading::with_deploy_times);
    const auto when = expires_at(opened->state());
    if (!when || *when > now) {
        return false;
    }
    const std::string ago =
        util::format_duration(std::chrono::seconds(static_cast<long long>(now - *when)));
    context.step("removing {}, with its volumes and backups (it expired {} ago)", name, ago);
    const std::string remark = remove_environment(context, *opened, true);
    if (!remark.empty()) {
        context.note("docker-pallet: {}: {}", name, remark);
    }
    return true;
}

}  // namespace

int run_env_prune(Context& context) {
    const double now = context.docker.engine_now();
    std::vector<std::string> expired;
    for (const auto& state : orchestrator::read_all(context, std::nullopt)) {
        if (const auto when = expires_at(state); when && *when <= now) {
            expired.push_back(state.name);
        }
    }
    if (expired.empty()) {
        context.outcome("no environment has expired");
        return 0;
    }
    std::vector<std::string> removed;
    std::vector<std::string> failed;
    // Cut short (Ctrl-C), the edge still forgets those that are gone.
    struct EdgeRefresh {
        Context& context;
        const std::vector<std::string>& removed;
        bool done = false;
        ~EdgeRefresh() {
            if (!done && !removed.empty()) {
                const cancel::Shield shield;
                try {
                    refresh_edge(context);
                } catch (...) {
                }
            }
        }
    } edge{context, removed};
    // Each environment is removed on its own (its containers, network and volumes): a few at
    // once, as the engine does them side by side; a dry run says them one after the other.
    std::mutex mutex;
    std::size_t next = 0;
    auto lane = [&] {
        while (true) {
            std::string name;
            {
                const std::lock_guard lock(mutex);
                if (next == expired.size()) {
                    return;
                }
                name = expired[next++];
            }
            bool gone = false;
            try {
                gone = prune_one(context, name, now);
            } catch (const Error& e) {
                context.note("docker-pallet: {} was not removed: {}", name, e.what());
                const std::lock_guard lock(mutex);
                failed.push_back(name);
                continue;
            }
            if (gone) {
                const std::lock_guard lock(mutex);
                removed.push_back(name);
            }
        }
    };
    const std::size_t lanes =
        context.docker.dry_run() ? 1 : std::min(expired.size(), k_prune_lanes);
    util::run_together(std::vector<std::function<void()>>(lanes, lane));
    std::sort(removed.begin(), removed.end());
    std::sort(failed.begin(), failed.end());
    edge.done = true;
    if (!removed.empty()) {
        refresh_edge(context);  // once, for all of them
    }
    context.done("pruned {} expired environment(s){}", removed.size(),
                 removed.empty() ? "" : ": " + util::join(removed, " "));
    if (!failed.empty()) {
        throw Error(fmt::format("{} expired environment(s) could not be removed: {}", failed.size(),
                                util::join(failed, " ")));
    }
    return 0;
}

}  // namespace pallet::phases
