#include "docker/image_user.h"

#include "util/strings.h"

namespace pallet::docker {
namespace {

std::optional<unsigned> number(const std::string& text) {
    if (text.empty() || text.size() > 10 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    const unsigned long long value = std::stoull(text);
    if (value > 0xffffffffULL) {
        return std::nullopt;
    }
    return static_cast<unsigned>(value);
}

// The fields of the line of a passwd or group file whose name (or, with `by_id`, id) matches.
std::optional<std::vector<std::string>> entry(const std::string& file, const std::string& key,
                                              bool by_id) {
    for (const auto& line : util::split(file, '\n')) {
        auto fields = util::split(line, ':');
        if (fields.size() < 3) {
            continue;
        }
        if ((by_id ? fields[2] : fields[0]) == key) {
            return fields;
        }
    }
    return std::nullopt;
}

}  // namespace

bool ImageUser::is_root() const {
    return (user.empty() || user == "root" || user == "0") &&
           (group.empty() || group == "root" || group == "0");
}

bool ImageUser::needs_lookup() const { return !number(user) || (!group.empty() && !number(group)); }

ImageUser parse_image_user(const std::string& config_user) {
    ImageUser user;
    const auto colon = config_user.find(':');
    user.user = config_user.substr(0, colon);
    if (colon != std::string::npos) {
        user.group = config_user.substr(colon + 1);
    }
    return user;
}

std::optional<Ids> resolve_ids(const ImageUser& user, const std::string& passwd,
                               const std::string& group_file) {
    Ids ids;
    const std::string name = user.user.empty() ? "root" : user.user;
    if (auto uid = number(name)) {
        ids.uid = *uid;
        if (auto fields = entry(passwd, name, true); fields && fields->size() > 3) {
            ids.gid = number((*fields)[3]).value_or(0);
        }
    } else {
        auto fields = entry(passwd, name, false);
        if (!fields || fields->size() < 4 || !number((*fields)[2]) || !number((*fields)[3])) {
            return std::nullopt;
        }
        ids.uid = *number((*fields)[2]);
        ids.gid = *number((*fields)[3]);
    }
    if (!user.group.empty()) {
        if (auto gid = number(user.group)) {
            ids.gid = *gid;
        } else if (auto fields = entry(group_file, user.group, false);
                   fields && number((*fields)[2])) {
            ids.gid = *number((*fields)[2]);
        } else {
            return std::nullopt;
        }
    }
    return ids;
}

}  // namespace pallet::docker
