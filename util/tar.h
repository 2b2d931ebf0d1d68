#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The little of the tar format the plugin needs to talk to `docker cp` through a pipe.
namespace pallet::util {

// A directory entry of an archive.
struct TarDirectory {
    std::string path;  // relative, without a leading or trailing slash: "storage"
    unsigned mode = 0755;
    unsigned uid = 0;
    unsigned gid = 0;
};

// A POSIX (ustar) archive of the directories, stamped with the current time.
std::string tar_of_directories(const std::vector<TarDirectory>& directories);

// The contents of the first regular file in the archive; nullopt when there is none or the
// archive is malformed.
std::optional<std::string> first_file_in_tar(std::string_view archive);

}  // namespace pallet::util
