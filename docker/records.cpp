#include "docker/records.h"

#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/strings.h"

namespace pallet::docker {
namespace {

using nlohmann::json;

std::string text_field(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Fields of the wrong type (docker's JSON is not ours to trust) read as their defaults.
bool bool_field(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_boolean() && it->get<bool>();
}

int int_field(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number_integer()) {
        return 0;
    }
    const auto value = it->get<long long>();
    return value < -1'000'000 || value > 1'000'000 ? 0 : static_cast<int>(value);
}

std::vector<std::string> string_list(const json& object, const char* key) {
    std::vector<std::string> out;
    auto it = object.find(key);
    if (it != object.end() && it->is_array()) {
        for (const auto& item : *it) {
            if (item.is_string()) {
                out.push_back(item.get<std::string>());
            }
        }
    }
    return out;
}

Labels label_map(const json& object) {
    Labels labels;
    auto it = object.find("Labels");
    if (it != object.end() && it->is_object()) {
        for (const auto& [key, value] : it->items()) {
            if (value.is_string()) {
                labels[key] = value.get<std::string>();
            }
        }
    }
    return labels;
}

json parse(const std::string& text, const char* what) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(fmt::format("unexpected output from docker {}: {}", what, e.what()));
    }
}

}  // namespace

std::string ContainerRecord::label(const std::string& key) const {
    auto it = labels.find(key);
    return it == labels.end() ? std::string() : it->second;
}

std::string ContainerRecord::env_value(const std::string& key) const {
    for (const auto& item : env) {
        if (item.size() > key.size() && item.compare(0, key.size(), key) == 0 &&
            item[key.size()] == '=') {
            return item.substr(key.size() + 1);
        }
    }
    return "";
}

std::string ContainerRecord::published_url() const {
    if (published.empty()) {
        return "";
    }
    const std::string& first = published.front();
    return fmt::format("http://{}/", first.substr(0, first.find("->")));
}

std::optional<int> ContainerRecord::published_port() const {
    if (published.empty()) {
        return std::nullopt;
    }
    const std::string host = published.front().substr(0, published.front().find("->"));
    const auto colon = host.rfind(':');
    const std::string port = colon == std::string::npos ? "" : host.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return std::stoi(port);
}

std::string VolumeRecord::label(const std::string& key) const {
    auto it = labels.find(key);
    return it == labels.end() ? std::string() : it->second;
}

std::vector<ContainerRecord> parse_container_inspect(const std::string& json_text) {
    std::vector<ContainerRecord> records;
    const json doc = parse(json_text, "container inspect");
    if (!doc.is_array()) {
        return records;
    }
    for (const auto& item : doc) {
        ContainerRecord record;
        record.id = text_field(item, "Id");
        record.name = text_field(item, "Name");
        if (!record.name.empty() && record.name.front() == '/') {
            record.name.erase(0, 1);
        }
        record.image_id = text_field(item, "Image");
        record.created = text_field(item, "Created");
        if (auto config = item.find("Config"); config != item.end() && config->is_object()) {
            record.image = text_field(*config, "Image");
            record.labels = label_map(*config);
            record.env = string_list(*config, "Env");
        }
        if (auto state = item.find("State"); state != item.end() && state->is_object()) {
            record.status = text_field(*state, "Status");
            record.running = bool_field(*state, "Running");
            record.exit_code = int_field(*state, "ExitCode");
            record.started_at = text_field(*state, "StartedAt");
            record.finished_at = text_field(*state, "FinishedAt");
            if (auto health = state->find("Health");
                health != state->end() && health->is_object()) {
                record.health = text_field(*health, "Status");
            }
        }
        if (auto network = item.find("NetworkSettings");
            network != item.end() && network->is_object()) {
            if (auto ports = network->find("Ports");
                ports != network->end() && ports->is_object()) {
                for (const auto& [port, bindings] : ports->items()) {
                    if (!bindings.is_array()) {
                        continue;
                    }
                    for (const auto& binding : bindings) {
                        record.published.push_back(
                            fmt::format("{}:{}->{}", text_field(binding, "HostIp"),
                                        text_field(binding, "HostPort"), port));
                    }
                }
            }
        }
        records.push_back(std::move(record));
    }
    return records;
}

namespace {

// "2026-12-04 21:15:31 +0000 UTC" (docker's listing, in the client's zone) as RFC 3339
// ("2026-12-04T21:15:31+00:00"); "" when it is not that.
std::string listing_time(const std::string& text) {
    if (text.size() < 25 || text[10] != ' ' || text[19] != ' ' ||
        (text[20] != '+' && text[20] != '-')) {
        return "";
    }
    return fmt::format("{}T{}{}:{}", text.substr(0, 10), text.substr(11, 8), text.substr(20, 3),
                       text.substr(23, 2));
}

// The health docker's status text ends with: "Up 5 seconds (healthy)", "(health: starting)".
std::string listing_health(const std::string& status) {
    for (const char* health : {"healthy", "unhealthy", "starting"}) {
        if (status.find(fmt::format("({})", health)) != std::string::npos ||
            status.find(fmt::format("(health: {})", health)) != std::string::npos) {
            return health;
        }
    }
    return "";
}

// The exit code in "Exited (137) 5 seconds ago" (0 for any other status).
int listing_exit_code(const std::string& status) {
    if (status.rfind("Exited (", 0) != 0) {
        return 0;
    }
    const auto digits = status.substr(8, status.find(')') - 8);
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("-0123456789") != std::string::npos) {
        return 0;
    }
    try {
        return std::stoi(digits);
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

std::string summary_template(const std::vector<std::string>& label_keys) {
    std::string labels;
    for (const auto& key : label_keys) {
        labels += fmt::format("{}\"{}\":{{{{json (.Label \"{}\")}}}}", labels.empty() ? "" : ",",
                              key, key);
    }
    return "{\"ID\":{{json .ID}},\"Names\":{{json .Names}},\"Image\":{{json .Image}},"
           "\"State\":{{json .State}},\"Status\":{{json .Status}},\"Ports\":{{json .Ports}},"
           "\"CreatedAt\":{{json .CreatedAt}},\"Labels\":{" +
           labels + "}}";
}

std::vector<ContainerRecord> parse_container_summaries(const std::string& text) {
    std::vector<ContainerRecord> records;
    for (const auto& line : util::split(text, '\n')) {
        if (util::trim(line).empty()) {
            continue;
        }
        const json item = parse(line, "container ls");
        if (!item.is_object()) {
            continue;
        }
        ContainerRecord record;
        record.summary = true;
        record.id = text_field(item, "ID");
        record.name = text_field(item, "Names");
        record.name = record.name.substr(0, record.name.find(','));
        record.image = text_field(item, "Image");
        record.status = text_field(item, "State");
        // As an inspect says Running: a paused or restarting container runs.
        record.running = record.status == "running" || record.status == "paused" ||
                         record.status == "restarting";
        const std::string status = text_field(item, "Status");
        record.exit_code = listing_exit_code(status);
        record.health = listing_health(status);
        record.created = listing_time(text_field(item, "CreatedAt"));
        for (const auto& port : util::split(text_field(item, "Ports"), ',')) {
            if (port.find("->") != std::string::npos) {
                record.published.push_back(util::trim(port));
            }
        }
        for (auto& [key, value] : label_map(item)) {
            if (!value.empty()) {
                record.labels.emplace(key, std::move(value));
            }
        }
        records.push_back(std::move(record));
    }
    return records;
}

ImageRecord parse_image_inspect(const std::string& json_text) {
    const json doc = parse(json_text, "image inspect");
    ImageRecord record;
    if (!doc.is_array() || doc.empty()) {
        return record;
    }
    const json& item = doc.front();
    record.id = text_field(item, "Id");
    record.repo_digests = string_list(item, "RepoDigests");
    if (auto config = item.find("Config"); config != item.end() && config->is_object()) {
        record.labels = label_map(*config);
        record.entrypoint = string_list(*config, "Entrypoint");
        record.cmd = string_list(*config, "Cmd");
        record.user = text_field(*config, "User");
    }
    return record;
}

Labels parse_label_string(const std::string& text) {
    Labels labels;
    if (text.empty()) {
        return labels;
    }
    for (const auto& pair : util::split(text, ',')) {
        auto eq = pair.find('=');
        if (eq == std::string::npos) {
            labels[pair] = "";
        } else {
            labels[pair.substr(0, eq)] = pair.substr(eq + 1);
        }
    }
    return labels;
}

std::vector<VolumeRecord> parse_volume_lines(const std::string& text) {
    std::vector<VolumeRecord> volumes;
    for (const auto& line : util::split(text, '\n')) {
        if (util::trim(line).empty()) {
            continue;
        }
        const json item = parse(line, "volume ls");
        volumes.push_back(
            VolumeRecord{text_field(item, "Name"), parse_label_string(text_field(item, "Labels"))});
    }
    return volumes;
}

std::optional<double> parse_docker_time(const std::string& text) {
    if (text.size() < 19 || text.rfind("0001-", 0) == 0) {
        return std::nullopt;
    }
    std::tm tm{};
    if (::strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) {
        return std::nullopt;
    }
    double seconds = static_cast<double>(::timegm(&tm));
    size_t i = 19;
    if (i < text.size() && text[i] == '.') {
        double scale = 0.1;
        for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            seconds += (text[i] - '0') * scale;
            scale /= 10;
        }
    }
    // The zone: Z, or an offset such as +01:00 (the engine's own clock is in its zone).
    if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-') && text[i + 3] == ':') {
        try {
            const int offset =
                std::stoi(text.substr(i + 1, 2)) * 3600 + std::stoi(text.substr(i + 4, 2)) * 60;
            seconds -= text[i] == '+' ? offset : -offset;
        } catch (const std::exception&) {
            return std::nullopt;
        }
    } else if (!(i == text.size() || (i + 1 == text.size() && text[i] == 'Z'))) {
        return std::nullopt;
    }
    return seconds;
}

}  // namespace pallet::docker
