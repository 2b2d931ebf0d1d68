#pragma once

#include <sys/un.h>

#include <optional>
#include <string>

namespace pallet::docker {

// The address of the unix socket at `path`; nullopt when the path does not fit in one.
std::optional<sockaddr_un> unix_address(const std::string& path);

// A new connection to the unix socket at `path` (close-on-exec, with `flags` such as
// SOCK_NONBLOCK added), or -1 when there is none to be had.
int connect_unix(const std::string& path, int flags = 0);

}  // namespace pallet::docker
