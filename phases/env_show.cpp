// `docker pallet env ls` and `env show`.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "orchestrator/open.h"
#include "phases/env_commands.h"
#include "phases/expiry.h"
#include "phases/services.h"
#include "state/environments.h"
#include "state/history.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/text_table.h"
#include "util/tls.h"
#include "util/url.h"

namespace pallet::phases {
namespace {

// An external service's URL as it may be shown.
std::string shown_url(const services::ServiceConfig& service, bool reveal) {
    return reveal ? service.external_url : util::mask_url_list(service.external_url);
}

// A variable's value as it may be shown: none unless revealed.
std::string shown_value(const std::string& value, bool reveal) {
    return reveal || value.empty() ? value : "****";
}

nlohmann::ordered_json to_json(const state::Environment& env, bool reveal) {
    nlohmann::ordered_json services = nlohmann::ordered_json::object();
    for (const auto& [kind, service] : env.services) {
        services[kind] =
            service.provisioned() ? std::string("provided") : shown_url(service, reveal);
    }
    nlohmann::ordered_json variables = nlohmann::ordered_json::object();
    for (const auto& [key, value] : env.variables) {
        variables[key] = shown_value(value, reveal);
    }
    nlohmann::ordered_json shown = {{"Name", env.name},
                                    {"Kind", env.kind},
                                    {"SiteDomain", env.site_domain},
                                    {"SiteProtocol", env.site_protocol},
                                    {"Address", env.bind_address},
                                    {"Port", env.port},
                                    {"HealthPath", env.health_path},
                                    {"HealthTimeoutSeconds", env.health_timeout},
                                    {"DrainMilliseconds", env.drain_ms},
                                    {"ServiceTimeoutSeconds", env.service_timeout},
                                    {"ProcessStopTimeoutSeconds", env.process_stop_timeout},
                                    {"ProcessSettleSeconds", env.process_settle},
                                    {"KeepBackups", env.keep_backups},
                                    {"BackupBeforeDeploy", env.backup_before_deploy},
                                    {"Maintenance", env.maintenance},
                                    {"TTLSeconds", env.ttl},
                                    {"Orchestrator", env.orchestrator},
                                    {"Services", services},
                                    {"Variables", variables}};
    if (!env.aliases.empty()) {
        shown["Aliases"] = env.aliases;
    }
    if (!env.tls_cert.empty() || env.tls_acme) {
        nlohmann::ordered_json tls = {{"Names", nlohmann::ordered_json::array()}, {"NotAfter", ""}};
        if (!env.tls_cert.empty()) {
            const auto info = util::certificate_info(env.tls_cert);
            tls = {{"Names", info.names},
                   {"NotAfter", util::utc_time(info.not_after, "%Y-%m-%dT%H:%M:%SZ")}};
        }
        if (env.tls_acme) {
            tls["ACME"] = {{"Directory", env.acme_directory},
                           {"Email", env.acme_email},
                           {"Failure", env.acme_failure}};
        }
        tls["HSTS"] = env.hsts;
        shown["TLS"] = tls;
    }
    if (env.edge_only) {
        shown["EdgeOnly"] = true;
    }
    return shown;
}

}  // namespace

int run_env_ls(Context& context, Format format, bool quiet) {
    auto envs = state::EnvironmentStore(context.docker).list();
    if (quiet) {
        for (const auto& env : envs) {
            fmt::print("{}\n", env.name);
        }
        return 0;
    }
    // When those with a time to live expire: their history tells (one listing for them all).
    std::map<std::string, double> expiry;
    double now = 0;
    if (std::any_of(envs.begin(), envs.end(),
                    [](const state::Environment& env) { return env.ttl > 0; })) {
        for (const auto& state : orchestrator::read_all(context, std::nullopt)) {
            if (const auto when = expires_at(state)) {
                expiry[state.name] = *when;
            }
        }
        now = context.docker.engine_now();
    }
    if (format == Format::json) {
        for (const auto& env : envs) {
            auto line = to_json(env, false);
            const auto when = expiry.find(env.name);
            line["Expires"] =
                when == expiry.end()
                    ? nlohmann::ordered_json(nullptr)
                    : nlohmann::ordered_json(util::utc_time(static_cast<std::time_t>(when->second),
                                                            "%Y-%m-%dT%H:%M:%SZ"));
            fmt::print("{}\n", line.dump());
        }
        return 0;
    }
    const bool expiring = !expiry.empty();
    std::vector<std::string> header = {"NAME", "KIND", "SITE", "ADDRESS", "VARIABLES"};
    if (expiring) {
        header.emplace_back("EXPIRES");
    }
    util::TextTable table(header);
    for (const auto& env : envs) {
        std::vector<std::string> row = {
            env.name, env.kind, env.site_protocol + "://" + env.site_domain,
            env.edge_only   ? std::string("the edge only")
            : env.port == 0 ? env.bind_address + ":auto"
                            : fmt::format("{}:{}", env.bind_address, env.port),
            std::to_string(env.variables.size())};
        if (expiring) {
            const auto when = expiry.find(env.name);
            row.push_back(when == expiry.end() ? std::string("never")
                          : when->second <= now
                              ? "expired (env prune removes it)"
                              : "in " + util::format_duration(std::chrono::seconds(
                                            static_cast<long long>(when->second - now))));
        }
        table.add_row(row);
    }
    fmt::print("{}", table.render());
    return 0;
}

int run_env_show(Context& context, const std::string& name, Format format, bool reveal) {
    state::validate_env_name(name, "docker pallet env show");
    auto env = state::EnvironmentStore(context.docker).get(name);
    if (format == Format::json) {
        fmt::print("{}\n", to_json(env, reveal).dump());
        return 0;
    }
    if (env.swarm()) {
        if (env.volume_driver.empty()) {
            fmt::print("Orchestrator:  swarm\nShared path:   {}/{}\n", env.shared_path, env.name);
        } else {
            std::vector<std::string> options;
            for (const auto& [key, value] : env.volume_options) {
                options.push_back(key + "=" + value);
            }
            fmt::print("Orchestrator:  swarm\nVolumes:       driver {}{}{}\n", env.volume_driver,
                       options.empty() ? "" : ", ", util::join(options, " "));
        }
        fmt::print("Router node:   {}\n",
                   env.router_node.empty() ? "the manager addressed" : env.router_node);
        if (!env.service_node.empty()) {
            fmt::print("Service node:  {}\n", env.service_node);
        }
    }
    const std::string address = fmt::format(
        "{}:{}{}", env.bind_address, env.port == 0 ? std::string("auto") : std::to_string(env.port),
        env.edge_only ? " (for the edge alone: --port none)" : "");
    fmt::print(
        "Name:          {}\nKind:          {}\nSite:          {}://{}\nAddress:       {}\n"
        "Health check:  GET {} within {}s\nDrain:         {} ms\n"
        "Processes:     {}s to finish after SIGTERM, {}s to settle{}\n",
        env.name, env.kind, env.site_protocol, env.site_domain, address, env.health_path,
        env.health_timeout, env.drain_ms, env.process_stop_timeout, env.process_settle,
        env.process_counts.empty() ? "" : "; " + state::processes_text(env.process_counts));
    if (env.maintenance) {
        fmt::print("Maintenance:   on: every request but /static/ gets 503{}\n",
                   env.maintenance_message.empty() ? "" : ": " + env.maintenance_message);
    }
    fmt::print("Backups:       the newest {} kept{}\n", env.keep_backups,
               env.backup_before_deploy ? "; one before every deploy (of provided data)"
                                        : "; none before deploys");
    if (env.ttl > 0) {
        fmt::print("Time to live:  {} after its last deploy, serve or env update (env ls: when)\n",
                   util::format_duration(std::chrono::seconds(env.ttl)));
    }
    if (!env.aliases.empty()) {
        fmt::print("Aliases:       {}\n", util::join(env.aliases, " "));
    }
    if (!env.tls_cert.empty()) {
        const auto tls = util::certificate_info(env.tls_cert);
        fmt::print("HTTPS:         at the edge, a certificate for {} valid until {}{}\n",
                   util::join(tls.names, ", "), util::utc_time(tls.not_after, "%Y-%m-%dT%H:%M:%SZ"),
                   env.hsts ? ", HSTS" : "");
    } else if (env.tls_acme) {
        fmt::print("HTTPS:         at the edge, no certificate yet\n");
    }
    if (env.tls_acme) {
        fmt::print(
            "ACME:          {} for {}{}\n", env.acme_directory, env.acme_email,
            env.acme_failure.empty() ? "" : "; the last request failed at " + env.acme_failure);
    }
    fmt::print("Services:\n");
    std::unique_ptr<orchestrator::Orchestrator> opened;
    for (const auto& [kind, service] : env.services) {
        std::string web;
        if (service.provisioned() && services::find_kind(kind)->web_port != 0) {
            if (!opened) {
                opened = orchestrator::open(context, env.name);
            }
            if (const std::string url = opened->service_web_url(env, kind); !url.empty()) {
                web = ", web view " + url;
            }
        }
        fmt::print("  {}: {}{}\n", kind,
                   service.provisioned()
                       ? fmt::format("provided ({} {})", env.swarm() ? "service" : "container",
                                     orchestrator::service_container(env.name, kind))
                       : shown_url(service, reveal),
                   web);
    }
    fmt::print("Variables:{}\n",
               reveal || env.variables.empty() ? "" : " (values: env show --reveal)");
    for (const auto& [key, value] : env.variables) {
        if (reveal) {
            fmt::print("  {}={}\n", key, value);
        } else {
            fmt::print("  {}\n", key);
        }
    }
    return 0;
}

}  // namespace pallet::phases
