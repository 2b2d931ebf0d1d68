#pragma once

#include <string>
#include <string_view>

namespace pallet::docker {

// True when a variable of this name likely holds a secret (PASSWORD, SECRET, TOKEN, KEY, ...).
bool is_secret_name(std::string_view name);

// Replaces the password of every URL in `value` (scheme://user:password@host) with "****".
std::string mask_url_passwords(std::string_view value);

// The value as it may be shown to a person: fully masked for secret names, else URL-masked.
std::string mask_value(std::string_view name, std::string_view value);

}  // namespace pallet::docker
