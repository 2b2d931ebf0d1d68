#pragma once

#include <chrono>
#include <string>

#include "phases/context.h"

namespace pallet::phases {

// Serializes the changes of what an environment serves (serve, scale, stop): a label-only
// container named pallet-<env>-serve-lock exists while one runs. Container names are unique on
// an engine, so two CI jobs never both hold it; the second waits. A lock older than
// `stale_after` was left by a process that died and is taken over, so nobody removes one by
// hand. Not taken under --dry-run.
class ServeLock {
public:
    ServeLock(Context& context, const std::string& env, std::chrono::seconds stale_after);
    ~ServeLock();
    ServeLock(const ServeLock&) = delete;
    ServeLock& operator=(const ServeLock&) = delete;

private:
    Context& m_context;
    std::string m_name;
    bool m_held = false;
};

}  // namespace pallet::phases
