#pragma once

#include <optional>
#include <string>

#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet status [ENV]`: what each environment serves, where, and its last deploy.
int run_status(Context& context, const std::optional<std::string>& env, Format format);

// `docker pallet history ENV`: every deploy and serve, newest first.
int run_history(Context& context, const std::string& env, Format format);

}  // namespace pallet::phases
