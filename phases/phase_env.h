#pragma once

#include <map>
#include <string>
#include <vector>

#include "docker/docker_cli.h"
#include "phases/context.h"
#include "state/environments.h"

namespace pallet::phases {

// An image to run, resolved on the engine.
struct ResolvedImage {
    std::string ref;  // as the user named it
    docker::ImageRecord record;
};

// Inspects the image, pulling it when missing; throws a clear Error when neither works.
ResolvedImage resolve_image(Context& context, const std::string& ref);

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

// The variables the standard gives a phase: SITE_*, ENVIRONMENT, the environment's own
// variables (names with DEPLOY only to deploy; WEB_/WORKER_CONCURRENCY only to serve).
std::vector<std::pair<std::string, std::string>> phase_variables(const state::Environment& env,
                                                                 const std::string& phase);

// The container of one phase: the image's own entrypoint and user, the phase as its command,
// /storage and /static mounted, on the environment's network, labelled.
docker::ContainerSpec phase_container(const Context& context, const state::Environment& env,
                                      const std::string& phase, const ResolvedImage& image);

}  // namespace pallet::phases
