#pragma once

#include <string>

#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet rm`: removes the environment; its volumes too with `volumes`.
int run_rm(Context& context, const std::string& env, bool volumes);

}  // namespace pallet::phases
