#pragma once

#include <chrono>
#include <string>

#include "orchestrator/orchestrator.h"
#include "phases/use_case.h"

namespace pallet::phases {

// Serializes the changes of what an environment serves (serve, scale, stop): one command at a
// time holds the lock; the next waits, saying for whom and for how long at most. A lock whose
// holder ended without releasing it (killed, or the engine restarted) is taken over, so nobody
// removes one by hand. Not taken under --dry-run.
class ServeLock {
  public:
    ServeLock(Context& context, orchestrator::Orchestrator& opened, const state::Environment& env,
              std::chrono::seconds lease);
    ~ServeLock();
    // True when another command held it first: what it read before may have changed.
    bool waited() const { return m_waited; }
    ServeLock(const ServeLock&) = delete;
    ServeLock& operator=(const ServeLock&) = delete;

  private:
    orchestrator::Orchestrator& m_orchestrator;
    const state::Environment& m_env;
    bool m_held = false;
    bool m_waited = false;
};

}  // namespace pallet::phases
