#include "phases/phase_env.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>

#include "docker/argv.h"
#include "docker/reference.h"
#include "phases/services.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

void validate_variable_name(const std::string& key, const std::string& command_path) {
    bool valid = !key.empty() && !(key[0] >= '0' && key[0] <= '9');
    for (char c : key) {
        valid = valid && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '_');
    }
    if (!valid) {
        throw UsageError(fmt::format("invalid variable name \"{}\": use letters, digits and _, "
                                     "not starting with a digit (KEY=VALUE)",
                                     key),
                         command_path);
    }
}

namespace {

void add_variable(const std::string& item, std::map<std::string, std::string>& into,
                  const std::string& where) {
    auto eq = item.find('=');
    std::string key = item.substr(0, eq);
    validate_variable_name(key, where);
    std::optional<std::string> value;
    if (eq != std::string::npos) {
        value = item.substr(eq + 1);
    } else if (const char* inherited = std::getenv(key.c_str()); inherited != nullptr) {
        value = inherited;
    }
    if (!value) {
        return;
    }
    if (!util::is_valid_utf8(*value)) {
        throw UsageError(fmt::format("the value of {} is not valid UTF-8 text (or holds a NUL "
                                     "byte); variables carry text",
                                     key),
                         where);
    }
    if (docker::argv::docker_reads_variable(key) &&
        value->find_first_of("\r\n") != std::string::npos) {
        throw UsageError(fmt::format("the value of {} holds a line break: the docker CLI reads {} "
                                     "itself, so it reaches containers through an env file, which "
                                     "cannot carry one",
                                     key, key),
                         where);
    }
    into[key] = *value;
}

}  // namespace

void parse_env_file_text(const std::string& text, const std::string& path,
                         std::map<std::string, std::string>& into) {
    int number = 0;
    for (std::string line : util::split(text, '\n')) {
        ++number;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        const std::string trimmed = util::trim(line);
        if (trimmed.empty() || trimmed[0] == '#') {
            continue;
        }
        if (trimmed.find_first_of(" \t") < trimmed.find('=')) {
            throw Error(fmt::format("{}:{}: expected KEY=VALUE, got a line with a space in its key",
                                    path, number));
        }
        try {
            add_variable(line.substr(line.find_first_not_of(" \t")), into, "docker pallet");
        } catch (const UsageError& e) {
            throw Error(fmt::format("{}:{}: {}", path, number, e.what()));
        }
    }
}

void parse_variables(const std::vector<std::string>& items, const std::vector<std::string>& files,
                     std::map<std::string, std::string>& into) {
    for (const auto& path : files) {
        std::ifstream file(path, std::ios::binary);
        if (!file) {
            throw Error(fmt::format("cannot read env file {}", path));
        }
        std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        parse_env_file_text(text, path, into);
    }
    for (const auto& item : items) {
        add_variable(item, into, "docker pallet");
    }
}

}  // namespace pallet::phases
