#include "plugin/settings.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"

namespace pallet::plugin {

Settings::Settings(std::optional<std::string> config_dir) {
    if (config_dir) {
        m_config_dir = *config_dir;
    } else if (const char* env = std::getenv("DOCKER_CONFIG"); env != nullptr && *env != '\0') {
        m_config_dir = env;
    } else if (const char* home = std::getenv("HOME"); home != nullptr) {
        m_config_dir = std::string(home) + "/.docker";
    } else {
        m_config_dir = ".docker";
    }
}

void Settings::load() {
    m_loaded = true;
    const std::string path = m_config_dir + "/config.json";
    std::ifstream file(path);
    if (!file) {
        if (errno == ENOENT) {
            return;
        }
        throw Error(
            fmt::format("cannot read {}: {}; fix its permissions or point --config elsewhere", path,
                        std::strerror(errno)));
    }
    std::stringstream text;
    text << file.rdbuf();
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error& e) {
        // The position only: the parser's words quote the text, and the file holds credentials.
        throw Error(fmt::format("{} is not valid JSON (at byte {}); fix or move it", path, e.byte));
    } catch (const nlohmann::json::exception&) {
        throw Error(fmt::format("{} is not valid JSON; fix or move it", path));
    }
    if (!doc.is_object()) {
        throw Error(fmt::format("{} is not a JSON object; fix or move it", path));
    }
    if (auto current = doc.find("currentContext"); current != doc.end() && current->is_string()) {
        m_current_context = current->get<std::string>();
    }
    auto plugins = doc.find("plugins");
    if (plugins == doc.end() || !plugins->is_object()) {
        return;
    }
    auto pallet = plugins->find("pallet");
    if (pallet == plugins->end() || !pallet->is_object()) {
        return;
    }
    for (const auto& [key, value] : pallet->items()) {
        if (!value.is_string()) {
            throw Error(fmt::format("{}: plugins.pallet.{} must be a string", path, key));
        }
        m_file_values[key] = value.get<std::string>();
    }
}

std::optional<std::string> Settings::get(const std::string& name) {
    std::string variable = "PALLET_";
    for (char c : name) {
        variable += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (const char* value = std::getenv(variable.c_str()); value != nullptr && *value != '\0') {
        return std::string(value);
    }
    if (!m_loaded) {
        load();
    }
    auto it = m_file_values.find(name);
    if (it == m_file_values.end()) {
        return std::nullopt;
    }
    return it->second;
}

}  // namespace pallet::plugin
