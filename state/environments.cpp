#include "state/environments.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "state/labels.h"
#include "state/snapshot.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::state {
namespace {

using nlohmann::json;

std::string config_name(const std::string& env, int generation) {
    return fmt::format("pallet-{}-config-{}", env, generation);
}

std::string to_json(const Environment& env) {
    json services = json::object();
    for (const auto& [kind, service] : env.services) {
        services[kind] = {{"url", service.external_url},
                          {"password", service.password},
                          {"admin_password", service.admin_password}};
    }
    json doc = {{"services", services},
                {"kind", env.kind},
                {"site_domain", env.site_domain},
                {"site_protocol", env.site_protocol},
                {"bind_address", env.bind_address},
                {"port", env.port},
                {"health_path", env.health_path},
                {"health_timeout", env.health_timeout},
                {"drain_ms", env.drain_ms},
                {"service_timeout", env.service_timeout},
                {"variables", env.variables}};
    return doc.dump();
}

Environment from_record(const docker::ContainerRecord& record, const std::string& pallet_command) {
    Environment env;
    env.name = record.label(label::k_env);
    try {
        env.generation = std::stoi(record.label(label::k_generation));
        json doc = json::parse(record.label(label::k_settings));
        env.kind = doc.value("kind", env.kind);
        env.site_domain = doc.value("site_domain", env.site_domain);
        env.site_protocol = doc.value("site_protocol", env.site_protocol);
        env.bind_address = doc.value("bind_address", env.bind_address);
        env.port = doc.value("port", 0);
        env.health_path = doc.value("health_path", env.health_path);
        env.health_timeout = doc.value("health_timeout", env.health_timeout);
        env.drain_ms = doc.value("drain_ms", env.drain_ms);
        env.service_timeout = doc.value("service_timeout", env.service_timeout);
        env.variables = doc.value("variables", std::map<std::string, std::string>{});
        const json services = doc.value("services", json::object());
        for (const auto& [kind, service] : services.items()) {
            env.services[kind] = services::ServiceConfig{
                kind, service.value("url", ""), service.value("password", ""),
                service.value("admin_password", "")};
        }
    } catch (const std::exception&) {
        // Not the parser's words: they may quote part of the record, secrets included.
        throw Error(fmt::format("the settings of environment {} on the engine are damaged (record "
                                "{} is not readable); remove it with: {} rm {}",
                                env.name, record.name, pallet_command, env.name));
    }
    return env;
}

}  // namespace

void learn_secrets(util::Redactor& redactor, const Environment& env) {
    for (const auto& [key, value] : env.variables) {
        redactor.add(value);
    }
    for (const auto& [kind, service] : env.services) {
        redactor.add(service.password);
        redactor.add(service.admin_password);
        redactor.add(service.external_url);
    }
}

std::map<std::string, Environment> newest_environments(
    const std::vector<docker::ContainerRecord>& records, const std::string& pallet_command) {
    std::map<std::string, Environment> envs;
    for (const auto& record : records) {
        if (record.label(label::k_phase) != phase::k_config) {
            continue;
        }
        Environment env = from_record(record, pallet_command);
        auto it = envs.find(env.name);
        if (it == envs.end() || it->second.generation < env.generation) {
            envs[env.name] = env;
        }
    }
    return envs;
}

void validate_env_name(const std::string& name, const std::string& command_path) {
    if (!util::is_dns_label(name) || name.size() > 40) {
        throw UsageError(
            fmt::format("invalid environment name \"{}\": use 1 to 40 lowercase letters, digits and "
                        "inner hyphens (for example: staging, pr-42)",
                        name),
            command_path);
    }
    // The plugin's own objects are named pallet-test-<run>-..., pallet-warm-<user>-...,
    // pallet-edge...: an environment of such a name would take theirs.
    for (const char* reserved : {"test", "warm", "edge"}) {
        if (name == reserved || name.rfind(std::string(reserved) + "-", 0) == 0) {
            throw UsageError(fmt::format("invalid environment name \"{}\": names starting with "
                                         "\"{}-\" (or \"{}\" itself) belong to docker pallet's own "
                                         "containers; choose another",
                                         name, reserved, reserved),
                             command_path);
        }
    }
}

std::optional<Environment> EnvironmentStore::find(const std::string& name) {
    auto envs = newest_environments(
        m_docker.list_containers({fmt::format("{}=true", label::k_managed), env_filter(name),
                                  phase_filter(phase::k_config)}),
        m_docker.command_line("pallet"));
    auto it = envs.find(name);
    if (it == envs.end()) {
        return std::nullopt;
    }
    learn_secrets(m_docker.redactor(), it->second);
    return it->second;
}

Environment EnvironmentStore::get(const std::string& name) {
    auto env = find(name);
    if (!env) {
        throw Error(fmt::format("no environment named {} on this engine; create it with: docker "
                                "pallet env create {} ({pallet} env ls lists them)",
                                name, name, fmt::arg("pallet", m_docker.command_line("pallet"))));
    }
    return *env;
}

std::vector<Environment> EnvironmentStore::list() {
    auto envs = newest_environments(
        m_docker.list_containers({fmt::format("{}=true", label::k_managed), phase_filter(phase::k_config)}),
        m_docker.command_line("pallet"));
    std::vector<Environment> out;
    for (auto& [name, env] : envs) {
        learn_secrets(m_docker.redactor(), env);
        out.push_back(env);
    }
    return out;
}

void EnvironmentStore::ensure_record_image() {
    if (!m_docker.inspect_image(k_record_image)) {
        m_docker.import_empty_image(k_record_image);
    }
}

bool EnvironmentStore::write(const Environment& env, int generation) {
    learn_secrets(m_docker.redactor(), env);
    const std::string settings = to_json(env);
    // docker reads a label file line by line, 64 KiB at most.
    constexpr size_t k_max_settings = 60 * 1024;
    if (settings.size() > k_max_settings) {
        throw Error(fmt::format("the settings of {} would take {} KiB, and the engine keeps at most "
                                "{} KiB of them; keep large values elsewhere (a file in /storage, "
                                "or an external service)",
                                env.name, settings.size() / 1024, k_max_settings / 1024));
    }
    docker::ContainerSpec spec;
    spec.name = config_name(env.name, generation);
    spec.image = k_record_image;
    spec.labels = base_labels(env.name, phase::k_config);
    spec.labels[label::k_generation] = std::to_string(generation);
    spec.labels[label::k_settings] = settings;
    return m_docker.create_container(spec) == docker::StartOutcome::started;
}

void EnvironmentStore::ensure_resources(const std::string& name) {
    auto labels = base_labels(name, phase::k_environment);
    if (m_docker.list_networks({env_filter(name)}).empty()) {
        try {
            m_docker.create_network(network_name(name), labels);
        } catch (const Error& e) {
            const std::string why = e.what();
            if (why.find("already exists") != std::string::npos) {
                // created concurrently
            } else if (why.find("address pool") != std::string::npos) {
                throw Error(fmt::format(
                    "the engine has no address range left for the network of {}: {}\nRemove "
                    "environments you no longer use ({pallet} rm ENV), or widen "
                    "default-address-pools in the engine's daemon.json",
                    name, why, fmt::arg("pallet", m_docker.command_line("pallet"))));
            } else {
                throw;
            }
        }
    }
    labels[label::k_role] = "storage";
    m_docker.create_volume(storage_volume(name), labels);
    labels[label::k_role] = "static";
    m_docker.create_volume(static_volume(name), labels);
}

Environment EnvironmentStore::create(const Environment& settings) {
    if (find(settings.name)) {
        throw Error(fmt::format("environment {} exists already; change it with {pallet} env "
                                "set, or remove it with {pallet} rm {}",
                                settings.name, settings.name, fmt::arg("pallet", m_docker.command_line("pallet"))));
    }
    ensure_record_image();
    Environment env = settings;
    env.generation = 1;
    if (!write(env, 1)) {
        throw Error(fmt::format("environment {} was created by someone else just now",
                                settings.name));
    }
    // Its network and volumes come with its first deploy or serve: an engine has room for a
    // few dozen networks only, and an environment that is never used should not take one.
    return env;
}

Environment EnvironmentStore::ensure(const std::string& name) {
    if (auto env = find(name)) {
        ensure_resources(name);
        return *env;
    }
    ensure_record_image();
    Environment env;
    env.name = name;
    env.generation = 1;
    if (!write(env, 1)) {
        return get(name);  // created concurrently: use theirs
    }
    ensure_resources(name);
    return env;
}

Environment EnvironmentStore::ensure(const Snapshot& snapshot) {
    if (!snapshot.settings) {
        return ensure(snapshot.env);
    }
    if (!snapshot.resources_in_use()) {
        ensure_resources(snapshot.env);
    }
    return *snapshot.settings;
}

void EnvironmentStore::save(const Environment& env) {
    ensure_record_image();
    const int generation = env.generation + 1;
    if (!write(env, generation)) {
        throw Error(fmt::format(
            "environment {} was changed by someone else meanwhile; look with {pallet} env "
            "show {} and try again",
            env.name, env.name, fmt::arg("pallet", m_docker.command_line("pallet"))));
    }
    // The generation before goes (earlier ones went when it was written; one left by a
    // concurrent writer loses to the newest anyway).
    m_docker.remove_containers({config_name(env.name, env.generation)});
}

void EnvironmentStore::remove(const std::string& name, bool volumes) {
    std::vector<std::string> containers;
    for (const auto& record : m_docker.list_containers({env_filter(name)})) {
        containers.push_back(record.name);
    }
    m_docker.remove_containers(containers);
    m_docker.remove_networks(m_docker.list_networks({env_filter(name)}));
    if (volumes) {
        std::vector<std::string> names;
        for (const auto& volume : m_docker.list_volumes({env_filter(name)})) {
            names.push_back(volume.name);
        }
        m_docker.remove_volumes(names);
    }
}

}  // namespace pallet::state
