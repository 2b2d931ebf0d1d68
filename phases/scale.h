#pragma once

#include <string>
#include <vector>

#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet scale ENV [web=]N TYPE=N...`: changes the number of web replicas without
// downtime (at least 1), and of the processes of each type (0 allowed; kept in the settings for
// later versions).
int run_scale(Context& context, const std::string& env, const std::vector<std::string>& counts);

}  // namespace pallet::phases
