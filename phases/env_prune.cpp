// `docker pallet env prune`, and when environments expire.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "orchestrator/open.h"
#include "phases/edge.h"
#include "phases/env_commands.h"
#include "phases/expiry.h"
#include "phases/remove.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

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
    for (const auto& name : expired) {
        try {
            // Read again on its own: a deploy or an update since the listing keeps it.
            // (Its deploys' end times too: a listing has only their start.)
            auto opened = orchestrator::open(context, name, state::Reading::with_deploy_times);
            const auto when = expires_at(opened->state());
            if (!when || *when > now) {
                continue;
            }
            const std::string ago =
                util::format_duration(std::chrono::seconds(static_cast<long long>(now - *when)));
            context.step("removing {}, with its volumes and backups (it expired {} ago)", name,
                         ago);
            const std::string remark = remove_environment(context, *opened, true);
            if (!remark.empty()) {
                context.note("docker-pallet: {}: {}", name, remark);
            }
            removed.push_back(name);
        } catch (const Error& e) {
            context.note("docker-pallet: {} was not removed: {}", name, e.what());
            failed.push_back(name);
        }
    }
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
