#pragma once

#include <string>

#include "plugin/runtime.h"

namespace pallet::plugin {

// Parses the plugin's arguments with the command tree and runs the chosen command; returns
// its exit code (0 after help, 125 after a usage error).
int dispatch(Runtime& runtime);

// Prints a usage error with the hint docker's commands give; returns 125.
int usage_error(const std::string& message, const std::string& path);

}  // namespace pallet::plugin
