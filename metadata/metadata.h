#pragma once

#include <string>

namespace pallet::metadata {

inline constexpr const char* k_short_description = "Test, deploy and serve Pallet applications";
inline constexpr const char* k_vendor = "docker-pallet";
inline constexpr const char* k_url = "https://github.com/docker-pallet/docker-pallet";

// The docker CLI plugin metadata object, one line of JSON. Touches nothing outside the process.
std::string plugin_metadata_json();

}  // namespace pallet::metadata
