#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pallet::docker {

// A read of the engine's API on a local unix socket, without a docker process: for what must
// answer faster than a docker CLI starts (completion). Everything else goes through the CLI.
//
// The body of the engine's 200 answer to `GET path`, or nullopt when the socket cannot be
// reached, does not answer within `timeout`, or answers anything else: the caller then asks
// the docker CLI, which says why.
std::optional<std::string> engine_get(const std::string& socket, const std::string& path,
                                      std::chrono::milliseconds timeout);

// "repo:tag" of every tagged image in the engine's answer to GET /images/json, as
// `docker image ls --format '{{.Repository}}:{{.Tag}}'` lists them less the untagged ones.
// Throws on an answer that is not such a list.
std::vector<std::string> image_tags_from_api(const std::string& body);

// The engine's socket when `host` (a DOCKER_HOST or -H value; empty: the default) is a local
// unix socket; nullopt for any other kind of address.
std::optional<std::string> local_engine_socket(const std::string& host);

}  // namespace pallet::docker
