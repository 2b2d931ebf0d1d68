#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pallet::docker {

using Labels = std::map<std::string, std::string>;

// A container as `docker container inspect` describes it (the fields the plugin reads).
struct ContainerRecord {
    std::string id;
    std::string name;      // without the leading slash
    std::string image;     // the reference it was created from
    std::string image_id;  // sha256:...
    Labels labels;
    std::string status;  // created, running, exited, ...
    bool running = false;
    int exit_code = 0;
    std::string created;                 // RFC 3339
    std::string started_at;              // RFC 3339, "0001-..." when never started
    std::string finished_at;             // RFC 3339, "0001-..." while running
    std::vector<std::string> published;  // "127.0.0.1:49153->80/tcp"
    std::string health;                  // healthy, unhealthy, starting, or "" without a check
    std::vector<std::string> env;        // KEY=VALUE, as the container was created with
    std::string data;                    // swarm configs kept as records: their data
    // Read from docker's listing, not from an inspect: no env, no started_at and finished_at,
    // `created` to the second, only the labels asked for.
    bool summary = false;
    std::string label(const std::string& key) const;
    // The value of one of its environment variables ("" when unset).
    std::string env_value(const std::string& key) const;
    // "http://127.0.0.1:49153/": its first published port as a URL ("" when none).
    std::string published_url() const;
    // The host port of its first published port (49153), nullopt when none.
    std::optional<int> published_port() const;
};

// An image as `docker image inspect` describes it.
struct ImageRecord {
    std::string id;
    std::vector<std::string> repo_digests;
    Labels labels;
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::string user;
};

// A volume as `docker volume ls --format '{{json .}}'` lists it.
struct VolumeRecord {
    std::string name;
    Labels labels;
    std::string label(const std::string& key) const;
};

// Parses the JSON array printed by `docker container inspect`.
std::vector<ContainerRecord> parse_container_inspect(const std::string& json_text);

// The `docker container ls --format` template whose lines parse_container_summaries reads: each
// container's id, name, image, state, status, ports, creation time and `label_keys`.
std::string summary_template(const std::vector<std::string>& label_keys);

// Parses the lines `docker container ls --format summary_template(...)` prints. The exit code
// and the health come from docker's status text ("Exited (3) 2 minutes ago", "Up 5 seconds
// (healthy)"), the creation time ("2026-12-04 21:15:31 +0000 UTC") becomes RFC 3339.
std::vector<ContainerRecord> parse_container_summaries(const std::string& text);

// Parses the JSON array printed by `docker image inspect` (first element).
ImageRecord parse_image_inspect(const std::string& json_text);

// Parses lines of `{{json .}}` from `docker volume ls`.
std::vector<VolumeRecord> parse_volume_lines(const std::string& text);

// Parses docker's "k=v,k2=v2" label string (as `ls` commands print it).
Labels parse_label_string(const std::string& text);

// Seconds since the epoch (UTC) for an RFC 3339 time from docker; nullopt for zero or malformed.
std::optional<double> parse_docker_time(const std::string& text);

}  // namespace pallet::docker
