#pragma once

#include <chrono>
#include <string>

#include "phases/context.h"

namespace pallet::phases {

// Serializes the changes of what an environment serves (serve, scale, stop): a container named
// pallet-<env>-serve-lock runs `sleep STALE_AFTER` (in the router image) while one goes on.
// Container names are unique on an engine, so two CI jobs never both hold it; the second waits.
// It has no restart policy: when its holder dies it ends by itself after `stale_after`, and when
// the engine restarts it ends at once; a lock that no longer runs is taken over, so nobody
// removes one by hand. Not taken under --dry-run.
class ServeLock {
  public:
    ServeLock(Context& context, const std::string& env, std::chrono::seconds stale_after);
    ~ServeLock();
    // True when another command held it first: what it read before may have changed.
    bool waited() const { return m_waited; }
    ServeLock(const ServeLock&) = delete;
    ServeLock& operator=(const ServeLock&) = delete;

  private:
    Context& m_context;
    std::string m_name;
    bool m_held = false;
    bool m_waited = false;
};

}  // namespace pallet::phases
