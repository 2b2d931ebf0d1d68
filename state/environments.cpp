#include "state/environments.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "docker/failure.h"
#include "state/labels.h"
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
    if (!env.aliases.empty()) {
        doc["aliases"] = env.aliases;
    }
    if (!env.process_counts.empty()) {
        doc["process_counts"] = env.process_counts;
    }
    if (env.process_stop_timeout != Environment{}.process_stop_timeout) {
        doc["process_stop_timeout"] = env.process_stop_timeout;
    }
    if (env.process_settle != Environment{}.process_settle) {
        doc["process_settle"] = env.process_settle;
    }
    if (env.keep_backups != Environment{}.keep_backups) {
        doc["keep_backups"] = env.keep_backups;
    }
    if (!env.backup_before_deploy) {
        doc["backup_before_deploy"] = false;
    }
    if (env.maintenance) {
        doc["maintenance"] = true;
        doc["maintenance_message"] = env.maintenance_message;
    }
    if (!env.tls_cert.empty()) {
        doc["tls_cert"] = env.tls_cert;
        doc["tls_key"] = env.tls_key;
    }
    if (env.tls_acme) {
        doc["tls_acme"] = true;
        doc["acme_email"] = env.acme_email;
        doc["acme_directory"] = env.acme_directory;
        doc["acme_failure"] = env.acme_failure;
    }
    if (env.hsts) {
        doc["hsts"] = true;
    }
    if (env.edge_only) {
        doc["edge_only"] = true;
    }
    if (env.ttl > 0) {
        doc["ttl"] = env.ttl;
        doc["touched"] = env.touched;
    }
    if (env.swarm()) {
        doc["orchestrator"] = env.orchestrator;
        doc["shared_path"] = env.shared_path;
        doc["router_node"] = env.router_node;
        if (!env.service_node.empty()) {
            doc["service_node"] = env.service_node;
        }
        if (!env.volume_driver.empty()) {
            doc["volume_driver"] = env.volume_driver;
            doc["volume_options"] = env.volume_options;
        }
    }
    return doc.dump();
}

Environment from_record(const docker::ContainerRecord& record, const std::string& pallet_command) {
    Environment env;
    env.name = record.label(label::k_env);
    try {
        env.generation = std::stoi(record.label(label::k_generation));
        // In a label of a container record; in the data of a swarm config record.
        const std::string settings =
            record.data.empty() ? record.label(label::k_settings) : record.data;
        json doc = json::parse(settings);
        env.orchestrator = doc.value("orchestrator", env.orchestrator);
        env.shared_path = doc.value("shared_path", env.shared_path);
        env.router_node = doc.value("router_node", env.router_node);
        env.service_node = doc.value("service_node", env.service_node);
        env.volume_driver = doc.value("volume_driver", env.volume_driver);
        env.volume_options = doc.value("volume_options", std::map<std::string, std::string>{});
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
        env.aliases = doc.value("aliases", std::vector<std::string>{});
        env.process_counts = doc.value("process_counts", std::map<std::string, int>{});
        env.process_stop_timeout = doc.value("process_stop_timeout", env.process_stop_timeout);
        env.process_settle = doc.value("process_settle", env.process_settle);
        env.keep_backups = doc.value("keep_backups", env.keep_backups);
        env.backup_before_deploy = doc.value("backup_before_deploy", true);
        env.maintenance = doc.value("maintenance", false);
        env.maintenance_message = doc.value("maintenance_message", "");
        env.tls_cert = doc.value("tls_cert", env.tls_cert);
        env.tls_key = doc.value("tls_key", env.tls_key);
        env.tls_acme = doc.value("tls_acme", false);
        env.acme_email = doc.value("acme_email", env.acme_email);
        env.acme_directory = doc.value("acme_directory", env.acme_directory);
        env.acme_failure = doc.value("acme_failure", env.acme_failure);
        env.hsts = doc.value("hsts", false);
        env.edge_only = doc.value("edge_only", false);
        env.ttl = doc.value("ttl", 0);
        env.touched = doc.value("touched", 0.0);
        const json services = doc.value("services", json::object());
        for (const auto& [kind, service] : services.items()) {
            env.services[kind] = services::ServiceConfig{kind, service.value("url", ""),
                                                         service.value("password", ""),
                                                         service.value("admin_password", "")};
        }
    } catch (const std::exception&) {
        // Not the parser's words: they may quote part of the record, secrets included.
        throw Error(
            fmt::format("the settings of environment {} on the engine are damaged (record "
                        "{} is not readable); remove it with: {} rm {}",
                        env.name, record.name, pallet_command, env.name));
    }
    return env;
}

}  // namespace

std::optional<std::string> environment_of_config(const std::string& name) {
    const auto end = name.rfind("-config-");
    constexpr std::size_t k_prefix = 7;  // "pallet-"
    if (name.rfind("pallet-", 0) != 0 || end == std::string::npos || end <= k_prefix ||
        name.find_first_not_of("0123456789", end + 8) != std::string::npos ||
        name.size() == end + 8) {
        return std::nullopt;
    }
    return name.substr(k_prefix, end - k_prefix);
}

void learn_secrets(util::Redactor& redactor, const Environment& env) {
    redactor.add(env.tls_key);
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
            fmt::format(
                "invalid environment name \"{}\": use 1 to 40 lowercase letters, digits and "
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
    const std::vector<std::string> filters = {fmt::format("{}=true", label::k_managed),
                                              env_filter(name), phase_filter(phase::k_config)};
    auto envs =
        newest_environments(m_docker.list_containers(filters), m_docker.command_line("pallet"));
    if (envs.find(name) == envs.end()) {
        // A swarm environment keeps its record as a swarm config (none on a plain engine).
        envs = newest_environments(m_docker.list_configs(filters), m_docker.command_line("pallet"));
    }
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
        throw Error(
            fmt::format("no environment named {} on this engine; create it with: docker "
                        "pallet env create {} ({pallet} env ls lists them)",
                        name, name, fmt::arg("pallet", m_docker.command_line("pallet"))));
    }
    return *env;
}

std::vector<Environment> EnvironmentStore::list() {
    const std::vector<std::string> filters = {fmt::format("{}=true", label::k_managed),
                                              phase_filter(phase::k_config)};
    auto records = m_docker.list_containers(filters);
    for (auto& record : m_docker.list_configs(filters)) {
        records.push_back(std::move(record));
    }
    auto envs = newest_environments(records, m_docker.command_line("pallet"));
    std::vector<Environment> out;
    for (auto& [name, env] : envs) {
        learn_secrets(m_docker.redactor(), env);
        out.push_back(env);
    }
    return out;
}

bool EnvironmentStore::write(const Environment& env, int generation) {
    learn_secrets(m_docker.redactor(), env);
    const std::string settings = to_json(env);
    // docker reads a label file line by line, 64 KiB at most.
    constexpr size_t k_max_settings = 60 * 1024;
    if (settings.size() > k_max_settings) {
        throw Error(
            fmt::format("the settings of {} would take {} KiB, and the engine keeps at most "
                        "{} KiB of them; keep large values elsewhere (a file in /storage, "
                        "or an external service)",
                        env.name, settings.size() / 1024, k_max_settings / 1024));
    }
    auto labels = base_labels(env.name, phase::k_config);
    labels[label::k_generation] = std::to_string(generation);
    if (env.swarm()) {
        // A swarm config, seen by every manager; the settings in its data, fed on stdin.
        return m_docker.create_config(config_name(env.name, generation), labels, settings) ==
               docker::StartOutcome::started;
    }
    docker::ContainerSpec spec;
    spec.name = config_name(env.name, generation);
    spec.image = k_record_image;
    spec.never_pull = true;  // a name of ours, on no registry: made here the first time
    spec.labels = labels;
    spec.labels[label::k_settings] = settings;
    try {
        return m_docker.create_container(spec) == docker::StartOutcome::started;
    } catch (const docker::DockerError& e) {
        if (e.failure() != docker::Failure::no_such_image) {
            throw;
        }
    }
    m_docker.import_empty_image(k_record_image);
    return m_docker.create_container(spec) == docker::StartOutcome::started;
}

Environment EnvironmentStore::create(const Environment& settings) {
    if (find(settings.name)) {
        throw Error(fmt::format(
            "environment {} exists already; change it with {pallet} env "
            "set, or remove it with {pallet} rm {}",
            settings.name, settings.name, fmt::arg("pallet", m_docker.command_line("pallet"))));
    }
    Environment env = settings;
    env.generation = 1;
    if (!write(env, 1)) {
        throw Error(
            fmt::format("environment {} was created by someone else just now", settings.name));
    }
    // Its network and volumes come with its first deploy or serve: an environment that is never
    // used should not take one.
    return env;
}

Environment EnvironmentStore::ensure(const std::string& name) {
    if (auto env = find(name)) {
        return *env;
    }
    Environment env;
    env.name = name;
    env.generation = 1;
    if (!write(env, 1)) {
        return get(name);  // created concurrently: use theirs
    }
    return env;
}

void EnvironmentStore::update(Environment& env, const std::function<void(Environment&)>& change) {
    for (int attempt = 0;; ++attempt) {
        Environment latest = attempt == 0 ? env : get(env.name);
        change(latest);
        try {
            save(latest);
            env = latest;
            env.generation += 1;
            return;
        } catch (const Error&) {
            if (attempt == 2) {
                throw;
            }
        }
    }
}

void EnvironmentStore::save(const Environment& env) {
    const int generation = env.generation + 1;
    if (!write(env, generation)) {
        throw Error(fmt::format(
            "environment {} was changed by someone else meanwhile; look with {pallet} env "
            "show {} and try again",
            env.name, env.name, fmt::arg("pallet", m_docker.command_line("pallet"))));
    }
    // The generation before goes (earlier ones went when it was written; one left by a
    // concurrent writer loses to the newest anyway).
    if (env.swarm()) {
        m_docker.remove_configs({config_name(env.name, env.generation)});
    } else {
        m_docker.remove_containers({config_name(env.name, env.generation)});
    }
}

void EnvironmentStore::remove(const Environment& env) {
    const std::vector<std::string> filters = {fmt::format("{}=true", label::k_managed),
                                              env_filter(env.name), phase_filter(phase::k_config)};
    std::vector<std::string> records;
    if (env.swarm()) {
        for (const auto& config : m_docker.list_configs(filters)) {
            records.push_back(config.id);
        }
        m_docker.remove_configs(records);
        return;
    }
    for (const auto& record : m_docker.list_containers(filters)) {
        records.push_back(record.id);
    }
    m_docker.remove_containers(records);
}

}  // namespace pallet::state
