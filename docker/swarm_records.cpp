#include "docker/swarm_records.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/strings.h"

namespace pallet::docker {
namespace {

using nlohmann::json;

// Fields of the wrong type read as their defaults: docker's JSON is not ours to trust.
const json& member(const json& object, const char* key) {
    static const json k_null;
    if (!object.is_object()) {
        return k_null;
    }
    auto it = object.find(key);
    return it == object.end() ? k_null : *it;
}

std::string text(const json& object, const char* key) {
    const json& value = member(object, key);
    return value.is_string() ? value.get<std::string>() : std::string();
}

std::optional<long long> integer(const json& object, const char* key) {
    const json& value = member(object, key);
    if (!value.is_number_integer()) {
        return std::nullopt;
    }
    return value.get<long long>();
}

Labels labels_of(const json& object) {
    Labels labels;
    const json& map = member(object, "Labels");
    if (map.is_object()) {
        for (const auto& [key, value] : map.items()) {
            if (value.is_string()) {
                labels[key] = value.get<std::string>();
            }
        }
    }
    return labels;
}

json array(const std::string& json_text, const char* what) {
    json doc;
    try {
        doc = json::parse(json_text);
    } catch (const json::exception&) {
        throw Error(fmt::format("unexpected output from docker {}", what));
    }
    return doc.is_array() ? doc : json::array();
}

}  // namespace

std::string ServiceRecord::label(const std::string& key) const {
    auto it = labels.find(key);
    return it == labels.end() ? std::string() : it->second;
}

bool TaskRecord::ended() const {
    return state == "complete" || state == "failed" || state == "rejected" || state == "shutdown" ||
           state == "orphaned" || state == "remove";
}

std::vector<ServiceRecord> parse_service_inspect(const std::string& json_text) {
    std::vector<ServiceRecord> out;
    for (const auto& item : array(json_text, "service inspect")) {
        ServiceRecord record;
        record.id = text(item, "ID");
        record.created = text(item, "CreatedAt");
        const json& spec = member(item, "Spec");
        record.name = text(spec, "Name");
        record.labels = labels_of(spec);
        const json& mode = member(spec, "Mode");
        if (mode.is_object()) {
            for (const char* kind : {"Replicated", "Global", "ReplicatedJob", "GlobalJob"}) {
                if (mode.contains(kind)) {
                    record.mode = kind == std::string("Replicated")      ? "replicated"
                                  : kind == std::string("Global")        ? "global"
                                  : kind == std::string("ReplicatedJob") ? "replicated-job"
                                                                         : "global-job";
                }
            }
            record.replicas =
                static_cast<int>(integer(member(mode, "Replicated"), "Replicas").value_or(0));
        }
        const json& container = member(member(spec, "TaskTemplate"), "ContainerSpec");
        record.image = text(container, "Image");
        const json& env = member(container, "Env");
        if (env.is_array()) {
            for (const auto& entry : env) {
                if (entry.is_string()) {
                    record.env.push_back(entry.get<std::string>());
                }
            }
        }
        const json& ports = member(member(item, "Endpoint"), "Ports");
        if (ports.is_array()) {
            for (const auto& port : ports) {
                if (auto published = integer(port, "PublishedPort")) {
                    record.published_ports.push_back(static_cast<int>(*published));
                }
            }
        }
        out.push_back(std::move(record));
    }
    return out;
}

std::vector<TaskRecord> parse_task_inspect(const std::string& json_text) {
    std::vector<TaskRecord> out;
    for (const auto& item : array(json_text, "task inspect")) {
        TaskRecord task;
        task.id = text(item, "ID");
        task.service_id = text(item, "ServiceID");
        task.node_id = text(item, "NodeID");
        task.slot = static_cast<int>(integer(item, "Slot").value_or(0));
        task.desired_state = text(item, "DesiredState");
        task.created = text(item, "CreatedAt");
        const json& status = member(item, "Status");
        task.state = text(status, "State");
        task.error = text(status, "Err");
        task.updated = text(status, "Timestamp");
        const json& container = member(status, "ContainerStatus");
        task.container_id = text(container, "ContainerID");
        if (auto code = integer(container, "ExitCode")) {
            task.exit_code = static_cast<int>(*code);
        }
        const json& ports = member(member(status, "PortStatus"), "Ports");
        if (ports.is_array()) {
            for (const auto& port : ports) {
                if (auto published = integer(port, "PublishedPort")) {
                    task.published_ports.push_back(static_cast<int>(*published));
                }
            }
        }
        const json& attachments = member(item, "NetworksAttachments");
        if (attachments.is_array()) {
            for (const auto& attachment : attachments) {
                const json& addresses = member(attachment, "Addresses");
                if (addresses.is_array()) {
                    for (const auto& address : addresses) {
                        if (address.is_string()) {
                            const std::string value = address.get<std::string>();
                            task.addresses.push_back(value.substr(0, value.find('/')));
                        }
                    }
                }
            }
        }
        out.push_back(std::move(task));
    }
    return out;
}

std::vector<NodeRecord> parse_node_inspect(const std::string& json_text) {
    std::vector<NodeRecord> out;
    for (const auto& item : array(json_text, "node inspect")) {
        NodeRecord node;
        node.id = text(item, "ID");
        node.hostname = text(member(item, "Description"), "Hostname");
        node.role = text(member(item, "Spec"), "Role");
        node.availability = text(member(item, "Spec"), "Availability");
        node.state = text(member(item, "Status"), "State");
        node.address = text(member(item, "Status"), "Addr");
        out.push_back(std::move(node));
    }
    return out;
}

std::vector<ContainerRecord> parse_config_inspect(const std::string& json_text) {
    std::vector<ContainerRecord> out;
    for (const auto& item : array(json_text, "config inspect")) {
        ContainerRecord record;
        record.id = text(item, "ID");
        record.created = text(item, "CreatedAt");
        const json& spec = member(item, "Spec");
        record.name = text(spec, "Name");
        record.labels = labels_of(spec);
        record.data = util::base64_decode(text(spec, "Data")).value_or("");
        record.status = "record";
        out.push_back(std::move(record));
    }
    return out;
}

}  // namespace pallet::docker
