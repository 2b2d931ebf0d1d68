#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pallet::docker {

// A read of the engine's API on a local unix socket, without a docker process: for what must
// answer faster than a docker CLI starts (completion, the image every command starts from).
// Everything else goes through the CLI.
struct EngineAnswer {
    int status = 0;
    std::string body;
};

// How long a read of the engine's socket may take before the docker CLI is asked instead.
inline constexpr std::chrono::milliseconds k_engine_read_timeout{2000};

// The engine's answer to `GET path`, or nullopt when the socket cannot be reached, does not
// answer within `timeout`, or answers what is not HTTP: the caller then asks the docker CLI,
// which says why.
std::optional<EngineAnswer> engine_read(const std::string& socket, const std::string& path,
                                        std::chrono::milliseconds timeout);

// True when `name` (an image reference or ID) can stand in an API path as it is: letters,
// digits and . _ - : / @ only, no "..", not starting with / or a dot.
bool fits_api_path(std::string_view name);

// "repo:tag" of every tagged image in the engine's answer to GET /images/json, as
// `docker image ls --format '{{.Repository}}:{{.Tag}}'` lists them less the untagged ones.
// Throws on an answer that is not such a list.
std::vector<std::string> image_tags_from_api(const std::string& body);

// "filters=..." of an API query keeping to objects with every one of `label_filters` ("key" or
// "key=value", as `docker ... ls --filter label=...` takes them), escaped as docker's CLI does.
std::string label_filters_query(const std::vector<std::string>& label_filters);

// The value of `label` of every container (one that has it, not empty) in the engine's answer
// to GET /containers/json. Throws on an answer that is not such a list.
std::vector<std::string> container_label_values_from_api(const std::string& body,
                                                         const std::string& label);

// The name of every swarm config in the engine's answer to GET /configs. Throws on an answer
// that is not such a list.
std::vector<std::string> config_names_from_api(const std::string& body);

// The engine's socket when `host` (a DOCKER_HOST or -H value; empty: the default) is a local
// unix socket; nullopt for any other kind of address.
std::optional<std::string> local_engine_socket(const std::string& host);

}  // namespace pallet::docker
