#pragma once

#include <string>

#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet logs ENV`: output of the last deploy, or of the serve replicas, or (`process`
// set) of the processes of that type, one prefix per replica.
int run_logs(Context& context, const std::string& env, const std::string& phase, bool follow,
             const std::string& process = "");

}  // namespace pallet::phases
