#include "phases/status.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "state/environments.h"
#include "state/history.h"
#include "state/labels.h"
#include "state/snapshot.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/text_table.h"
#include "util/tls.h"

namespace pallet::phases {
namespace {

using nlohmann::ordered_json;

std::string rfc3339(double epoch_seconds) {
    if (epoch_seconds <= 0) {
        return "";
    }
    std::time_t t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string short_id(const std::string& image_id) {
    auto colon = image_id.find(':');
    std::string hex = colon == std::string::npos ? image_id : image_id.substr(colon + 1);
    return hex.substr(0, 12);
}

struct EnvStatus {
    std::string name;
    std::string kind;
    std::string serving;
    int running = 0;
    int replicas = 0;
    std::string url;
    std::optional<state::HistoryEntry> last_deploy;
    std::map<std::string, std::string> services;  // kind -> running, exited, ... or external
    // HTTPS at the edge: until when its certificate is valid (0: none yet), whether ACME renews it
    // and why its last renewal failed.
    bool tls = false;
    std::time_t tls_until = 0;
    bool acme = false;
    std::string acme_failure;
};

// One line on an environment's HTTPS for the table's footer.
std::string https_line(const EnvStatus& status) {
    std::string line = fmt::format(
        "HTTPS of {}: {}", status.name,
        status.tls_until == 0 ? std::string("no certificate yet")
                              : "a certificate valid until " +
                                    util::utc_time(status.tls_until, "%Y-%m-%d %H:%M UTC"));
    if (status.acme) {
        line += status.acme_failure.empty()
                    ? " (ACME)"
                    : fmt::format(" (ACME; the last request failed at {})", status.acme_failure);
    }
    return line;
}

}  // namespace

int run_status(Context& context, const std::optional<std::string>& only, Format format) {
    if (only) {
        state::validate_env_name(*only, "docker pallet status");
    }
    // One listing of everything the plugin manages: the docker calls do not grow with the
    // number of environments.
    std::vector<std::string> filters = {fmt::format("{}=true", state::label::k_managed)};
    if (only) {
        filters.push_back(state::env_filter(*only));
    }
    auto records = context.docker.list_containers(filters);
    // Swarm environments keep their records as configs (none on a plain engine): one listing.
    const auto swarm_records = context.docker.list_configs(filters);
    records.insert(records.end(), swarm_records.begin(), swarm_records.end());
    std::map<std::string, EnvStatus> envs;
    for (const auto& [name, env] : state::newest_environments(records, context.command("pallet"))) {
        EnvStatus& status = envs[name];
        status.name = name;
        status.kind = env.kind;
        status.tls = !env.tls_cert.empty() || env.tls_acme;
        status.tls_until =
            env.tls_cert.empty() ? 0 : util::certificate_info(env.tls_cert).not_after;
        status.acme = env.tls_acme;
        status.acme_failure = env.acme_failure;
        for (const auto& [kind, service] : env.services) {
            status.services[kind] = service.provisioned() ? "not started" : "external";
        }
    }
    for (const auto& record : records) {
        const std::string env = record.label(state::label::k_env);
        auto it = envs.find(env);
        if (it == envs.end()) {
            continue;
        }
        EnvStatus& status = it->second;
        const std::string phase = record.label(state::label::k_phase);
        if (phase == state::phase::k_serve) {
            ++status.replicas;
            if (record.running) {
                ++status.running;
                status.serving = record.label(state::label::k_version);
            }
        } else if (phase == state::phase::k_router && record.running) {
            status.url = record.published_url();
        } else if (phase == state::phase::k_deploy) {
            auto entry = state::deploy_entry(record);
            if (!status.last_deploy || status.last_deploy->started < entry.started) {
                status.last_deploy = entry;
            }
        } else if (phase == state::phase::k_service) {
            auto it = status.services.find(record.label(state::label::k_service));
            if (it != status.services.end() && it->second != "external") {
                it->second = record.status;
            }
        }
    }
    // What swarm environments serve: services, their replicas running and wanted (one listing).
    std::map<std::string, std::string> swarm_services;
    bool listed = false;
    for (const auto& [name, env] :
         state::newest_environments(swarm_records, context.command("pallet"))) {
        EnvStatus& status = envs[name];
        if (!listed) {
            swarm_services = context.docker.service_replicas(filters);
            listed = true;
        }
        for (const auto& [service, replicas] : swarm_services) {
            const std::string prefix = "pallet-" + name + "-serve-";
            if (service.rfind(prefix, 0) == 0 && service.size() == prefix.size() + 8) {
                const auto slash = replicas.find('/');
                status.running = std::atoi(replicas.substr(0, slash).c_str());
                status.replicas = std::atoi(replicas.substr(slash + 1).c_str());
            }
        }
        if (swarm_services.count("pallet-" + name + "-router") > 0) {
            status.url = fmt::format("http://{}:{}/", env.bind_address, env.port);
        }
        std::vector<docker::ContainerRecord> served;
        for (const auto& record : swarm_records) {
            if (record.label(state::label::k_env) != name) {
                continue;
            }
            const std::string phase = record.label(state::label::k_phase);
            if (phase == state::phase::k_deploy_result) {
                auto entry = state::deploy_result_entry(record);
                if (!status.last_deploy || status.last_deploy->started < entry.started) {
                    status.last_deploy = entry;
                }
            } else if (phase == state::phase::k_serve_record) {
                served.push_back(record);
            }
        }
        state::newest_first(served);
        for (const auto& entry : state::serve_entries(served)) {
            if (status.running > 0 && entry.result == "serving") {
                status.serving = entry.version;  // the version the last serve put there
                break;
            }
        }
    }
    if (only && envs.find(*only) == envs.end()) {
        throw Error(
            fmt::format("no environment named {} on this engine ({pallet} env ls lists "
                        "them)",
                        *only, fmt::arg("pallet", context.command("pallet"))));
    }
    if (format == Format::json) {
        for (const auto& [name, status] : envs) {
            ordered_json line = {{"Name", name},
                                 {"Kind", status.kind},
                                 {"Serving", status.serving},
                                 {"Running", status.running},
                                 {"Replicas", status.replicas},
                                 {"URL", status.url},
                                 {"Services", status.services}};
            if (status.last_deploy) {
                line["LastDeploy"] = {{"Version", status.last_deploy->version},
                                      {"Result", status.last_deploy->result},
                                      {"Started", rfc3339(status.last_deploy->started)}};
            } else {
                line["LastDeploy"] = nullptr;
            }
            if (status.tls) {
                line["HTTPS"] = {
                    {"NotAfter", status.tls_until == 0 ? "" : rfc3339(status.tls_until)},
                    {"ACME", status.acme},
                    {"Failure", status.acme_failure}};
            }
            fmt::print("{}\n", line.dump());
        }
        return 0;
    }
    util::TextTable table(
        {"ENVIRONMENT", "KIND", "SERVING", "REPLICAS", "URL", "SERVICES", "LAST DEPLOY"});
    for (const auto& [name, status] : envs) {
        std::string last = "-";
        if (status.last_deploy) {
            last =
                fmt::format("{} {} ({})", status.last_deploy->version, status.last_deploy->result,
                            state::time_ago(status.last_deploy->started));
        }
        std::vector<std::string> services;
        for (const auto& [kind, state] : status.services) {
            services.push_back(state == "running" ? kind : fmt::format("{} ({})", kind, state));
        }
        table.add_row({name, status.kind, status.serving.empty() ? "-" : status.serving,
                       fmt::format("{}/{}", status.running, status.replicas),
                       status.url.empty() ? "-" : status.url,
                       services.empty() ? "-" : util::join(services, ", "), last});
    }
    fmt::print("{}", table.render());
    for (const auto& [name, status] : envs) {
        if (status.tls) {
            fmt::print("{}\n", https_line(status));
        }
    }
    return 0;
}

int run_history(Context& context, const std::string& env, Format format) {
    state::validate_env_name(env, "docker pallet history");
    const bool swarm = state::EnvironmentStore(context.docker).get(env).swarm();
    std::vector<state::HistoryEntry> entries;
    if (swarm) {
        auto records = context.docker.list_configs({state::env_filter(env)});
        state::newest_first(records);
        std::vector<docker::ContainerRecord> served;
        for (const auto& record : records) {
            const std::string phase = record.label(state::label::k_phase);
            if (phase == state::phase::k_deploy_result) {
                entries.push_back(state::deploy_result_entry(record));
            } else if (phase == state::phase::k_serve_record) {
                served.push_back(record);
            }
        }
        for (auto& entry : state::serve_entries(served)) {
            entries.push_back(entry);
        }
    } else {
        entries = state::serve_entries(context.docker, env);
        for (const auto& record : state::deploy_records(context.docker, env)) {
            entries.push_back(state::deploy_entry(record));
        }
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.started > b.started; });
    if (format == Format::json) {
        for (const auto& entry : entries) {
            ordered_json line = {{"Phase", entry.phase},
                                 {"Version", entry.version},
                                 {"ImageID", entry.image_id},
                                 {"Result", entry.result},
                                 {"Started", rfc3339(entry.started)},
                                 {"DurationSeconds", nullptr},
                                 {"User", entry.user},
                                 {"Host", entry.host},
                                 {"Container", entry.container}};
            if (entry.duration) {
                line["DurationSeconds"] = *entry.duration;
            }
            fmt::print("{}\n", line.dump());
        }
        return 0;
    }
    util::TextTable table({"PHASE", "VERSION", "IMAGE ID", "RESULT", "STARTED", "DURATION", "BY"});
    for (const auto& entry : entries) {
        table.add_row({entry.phase, entry.version, short_id(entry.image_id), entry.result,
                       state::time_ago(entry.started),
                       entry.duration ? util::format_duration(std::chrono::seconds(
                                            static_cast<long long>(*entry.duration + 0.5)))
                                      : "-",
                       entry.user + "@" + entry.host});
    }
    fmt::print("{}", table.render());
    return 0;
}

}  // namespace pallet::phases
