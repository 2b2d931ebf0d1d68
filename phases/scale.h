#pragma once

#include <string>

#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet scale`: changes the number of serve containers without downtime (at least 1).
int run_scale(Context& context, const std::string& env, int replicas);

}  // namespace pallet::phases
