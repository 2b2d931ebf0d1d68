#include "docker/masking.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace pallet::docker {

bool is_secret_name(std::string_view name) {
    std::string upper(name);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    static constexpr std::array<std::string_view, 6> k_markers = {
        "PASSWORD", "PASSWD", "SECRET", "TOKEN", "PRIVATE", "CREDENTIAL"};
    for (auto marker : k_markers) {
        if (upper.find(marker) != std::string::npos) {
            return true;
        }
    }
    return upper.ends_with("_KEY") || upper == "KEY";
}

std::string mask_url_passwords(std::string_view value) {
    std::string out;
    size_t pos = 0;
    while (pos < value.size()) {
        size_t scheme = value.find("://", pos);
        if (scheme == std::string_view::npos) {
            break;
        }
        size_t authority = scheme + 3;
        size_t end = value.find_first_of("/|?# ", authority);
        if (end == std::string_view::npos) {
            end = value.size();
        }
        size_t at = value.rfind('@', end);
        size_t colon = value.find(':', authority);
        out.append(value.substr(pos, authority - pos));
        if (at != std::string_view::npos && at >= authority && colon != std::string_view::npos &&
            colon < at) {
            out.append(value.substr(authority, colon + 1 - authority));
            out.append("****");
            out.append(value.substr(at, end - at));
        } else {
            out.append(value.substr(authority, end - authority));
        }
        pos = end;
    }
    out.append(value.substr(pos));
    return out;
}

std::string mask_value(std::string_view name, std::string_view value) {
    if (is_secret_name(name) && !value.empty()) {
        return "****";
    }
    return mask_url_passwords(value);
}

}  // namespace pallet::docker
