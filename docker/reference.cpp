#include "docker/reference.h"

#include <regex>
#include <string>

namespace pallet::docker {

bool is_image_reference(std::string_view text) {
    // github.com/distribution/reference's grammar, as the docker CLI applies it.
    static const std::regex k_reference(
        R"((?:((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*)"
        R"((?::[0-9]+)?|\[[0-9a-fA-F:.]+\](?::[0-9]+)?)/)?)"
        R"([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)"
        R"((?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?)");
    static const std::regex k_id(R"((?:sha256:)?[0-9a-f]{12,64})");
    if (text.empty() || text.size() > 1024) {
        return false;
    }
    const std::string reference(text);
    return std::regex_match(reference, k_reference) || std::regex_match(reference, k_id);
}

std::string repository_of(std::string_view reference) {
    std::string name(reference.substr(0, reference.find('@')));
    const auto colon = name.rfind(':');
    if (colon != std::string::npos && name.find('/', colon) == std::string::npos) {
        name.resize(colon);  // a tag, not a registry's port
    }
    return name;
}

std::string pinned_image(std::string_view reference, const std::string& id,
                         const std::vector<std::string>& repo_digests) {
    const std::string repository = repository_of(reference);
    for (const auto& digest : repo_digests) {
        if (repository_of(digest) == repository) {
            return digest;
        }
    }
    return id.empty() ? std::string(reference) : id;
}

}  // namespace pallet::docker
