#pragma once

#include <optional>
#include <string>

#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet maintenance ENV on|off`: its router (and the edge, which passes the answer on)
// answers every request but /static/ with 503, Retry-After and a page with `message`; what runs
// keeps running. Kept in its settings: serve and scale keep it until it is turned off.
int run_maintenance(Context& context, const std::string& env, bool on,
                    const std::optional<std::string>& message);

}  // namespace pallet::phases
