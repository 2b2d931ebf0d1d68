#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/orchestrator.h"
#include "phases/serve_lock.h"
#include "phases/use_case.h"
#include "state/environments.h"
#include "state/history.h"

// What serve, scale and stop share: health gating of new replicas behind the router, the switch
// of traffic, the drain, and the environment read under its serve lock.
namespace pallet::phases {

// Refuses a version whose last deploy in the environment (among `deploys`, newest first) did
// not succeed.
void require_deployed(Context& context, const std::vector<state::HistoryEntry>& deploys,
                      const std::string& env, const ResolvedImage& image);

// Why new replicas are not healthy.
struct Unhealthy {
    std::string summary;   // one line, no application output: what the history records
    std::string evidence;  // the summary, the answer's first lines and the replica's output
};

// Waits until each of `targets` (replicas of `replicas`) answers a health request like a user's
// (any status below 400), and its orchestrator calls it ready; false with `why` when one does
// not within the environment's health timeout.
bool wait_healthy(const state::Environment& env, orchestrator::Router& router,
                  orchestrator::Replicas& replicas, const std::vector<std::string>& targets,
                  Unhealthy& why);

// A serve event of the history, by this command's user.
state::HistoryEntry serve_event(const Context& context, const std::string& version,
                                const std::string& image_id, const std::string& result,
                                std::optional<double> duration = std::nullopt);

// Lets the requests in flight finish after a switch (the environment's drain), then stops
// `old`. A cancellation during the drain stops them at once.
void drain_and_remove(Context& context, const state::Environment& env, orchestrator::Replicas& old);

// Longer than any serve, scale or stop of the environment may take.
std::chrono::seconds lock_stale_after(const state::Environment& env);

// An environment opened on its orchestrator, its settings, and its serve lock: read first (the
// lock's lease depends on the settings), and read again if another command held the lock first.
// A lock taken at once means nobody changed what it serves since the read: any change holds the
// lock longer than that.
struct Locked {
    std::unique_ptr<orchestrator::Orchestrator> opened;
    state::Environment env;
    std::unique_ptr<ServeLock> lock;
};

// Opens `name` and takes its serve lock; `create`: an environment that does not exist is
// created with defaults (deploy and serve), else that is an error (scale, stop).
Locked lock_environment(Context& context, const std::string& name, bool create);

}  // namespace pallet::phases
