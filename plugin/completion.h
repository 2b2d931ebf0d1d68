#pragma once

#include <string>
#include <vector>

namespace pallet::plugin {

// Answers cobra's completion protocol for `__complete pallet ARGS... PARTIAL`: one candidate a
// line, then ":<directive>" (4: no file completion).
std::string complete(const std::vector<std::string>& args);

}  // namespace pallet::plugin
