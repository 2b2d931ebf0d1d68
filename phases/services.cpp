#include "phases/services.h"

#include <fmt/format.h>

#include <algorithm>

#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

void add_service_args(const std::vector<std::string>& args, ServiceMap& into,
                      const std::string& command_path) {
    for (const auto& arg : args) {
        services::ServiceConfig service = services::parse_service_arg(arg, command_path);
        into[service.kind] = service;
    }
}

std::vector<std::string> declared_services(const docker::Labels& labels, bool include_optional) {
    std::vector<std::string> names;
    std::vector<std::string> keys = {state::label::k_services_required};
    if (include_optional) {
        keys.push_back(state::label::k_services_optional);
    }
    for (const auto& key : keys) {
        auto it = labels.find(key);
        if (it == labels.end()) {
            continue;
        }
        std::string text = it->second;
        std::replace(text.begin(), text.end(), ',', ' ');
        for (const auto& word : util::split(text, ' ')) {
            if (word.empty()) {
                continue;
            }
            const services::ServiceKind* kind = services::find_kind(word);
            if (kind == nullptr) {
                throw Error(
                    fmt::format("the image's label {} names an unknown service \"{}\"; "
                                "known services: {}",
                                key, word, services::known_kinds()));
            }
            names.push_back(kind->name);
        }
    }
    return names;
}

void require_services(const docker::Labels& image_labels, const ServiceMap& services,
                      const std::string& env, const std::string& image,
                      const std::string& pallet_command) {
    for (const auto& name : declared_services(image_labels, false)) {
        if (services.find(name) == services.end()) {
            throw Error(
                fmt::format("{} requires the service {}, which {} does not have; add it: "
                            "{pallet} env service {} add {} (or {}=URL for your own "
                            "server)",
                            image, name, env, env, name, name, fmt::arg("pallet", pallet_command)));
        }
    }
}

}  // namespace pallet::phases
