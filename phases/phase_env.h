#pragma once

#include <map>
#include <string>
#include <vector>

namespace pallet::phases {

// Parses KEY=VALUE items (`-e`) and env files in docker's --env-file format into `into`.
// A bare KEY takes its value from the plugin's environment, as docker does. Values must be
// UTF-8 without NUL; errors name the key, never the value.
void parse_variables(const std::vector<std::string>& items, const std::vector<std::string>& files,
                     std::map<std::string, std::string>& into);

// Parses the text of an env file (named `path` in errors) into `into`: KEY=VALUE lines, comments
// (#) and blank lines, as docker reads them.
void parse_env_file_text(const std::string& text, const std::string& path,
                         std::map<std::string, std::string>& into);

// Throws UsageError unless `key` is a valid variable name.
void validate_variable_name(const std::string& key, const std::string& command_path);

}  // namespace pallet::phases
