#pragma once

#include <string>

#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet stop`: stops serving the environment (its router and serve containers).
int run_stop(Context& context, const std::string& env);

}  // namespace pallet::phases
