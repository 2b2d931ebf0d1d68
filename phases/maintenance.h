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

struct Locked;
// Turns maintenance on (with `message`) or off in the settings of the environment `locked`
// holds the serve lock of, and writes its router's configuration when it runs.
void set_maintenance(Context& context, Locked& locked, bool on, const std::string& message);

}  // namespace pallet::phases
