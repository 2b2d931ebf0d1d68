#pragma once

#include <optional>
#include <string>

namespace pallet::docker {

// The user an image runs as (its Config.User: "", "app", "1000", "app:staff", "1000:50").
struct ImageUser {
    std::string user;   // "" means root
    std::string group;  // "" means the user's primary group
    // True when the container runs as root: it can write anywhere already.
    bool is_root() const;
    // True when resolving it needs the image's /etc/passwd or /etc/group (a name, not numbers).
    bool needs_lookup() const;
};

ImageUser parse_image_user(const std::string& config_user);

// Numeric ids of a user.
struct Ids {
    unsigned uid = 0;
    unsigned gid = 0;
};

// Resolves the user as docker does when it starts a container: numbers stand for themselves
// (a uid without a group takes its passwd entry's group, else 0); names are looked up in the
// image's passwd and group files. nullopt when a name is not there.
std::optional<Ids> resolve_ids(const ImageUser& user, const std::string& passwd,
                               const std::string& group_file);

}  // namespace pallet::docker
