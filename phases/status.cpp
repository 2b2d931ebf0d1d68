#include "phases/status.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "orchestrator/open.h"
#include "state/environments.h"
#include "state/history.h"
#include "state/labels.h"
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
    std::map<std::string, orchestrator::ProcessCount> processes;  // by type
    // HTTPS at the edge: until when its certificate is valid (0: none yet), whether ACME renews it
    // and why its last renewal failed.
    bool tls = false;
    std::time_t tls_until = 0;
    bool acme = false;
    std::string acme_failure;
    bool maintenance = false;
};

EnvStatus status_of(const orchestrator::EnvironmentState& state) {
    const state::Environment& env = *state.settings;
    EnvStatus status;
    status.name = state.name;
    status.kind = env.kind;
    status.tls = !env.tls_cert.empty() || env.tls_acme;
    status.tls_until = env.tls_cert.empty() ? 0 : util::certificate_info(env.tls_cert).not_after;
    status.acme = env.tls_acme;
    status.acme_failure = env.acme_failure;
    status.maintenance = env.maintenance;
    status.services = state.services;
    status.processes = state.processes;
    for (const auto& [type, count] : env.process_counts) {
        status.processes.try_emplace(type, orchestrator::ProcessCount{0, count});  // none run
    }
    if (state.served) {
        status.running = state.served->running;
        status.replicas = state.served->wanted;
        if (status.running > 0) {
            status.serving = state.served->version;
        }
    }
    status.url = state.url;
    if (!state.deploys.empty()) {
        status.last_deploy = state.deploys.front();
    }
    return status;
}

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
    std::map<std::string, EnvStatus> envs;
    for (const auto& state : orchestrator::read_all(context, only)) {
        envs[state.name] = status_of(state);
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
                                 {"Maintenance", status.maintenance},
                                 {"Services", status.services}};
            if (!status.processes.empty()) {
                ordered_json processes = ordered_json::object();
                for (const auto& [type, count] : status.processes) {
                    processes[type] = {{"Running", count.running}, {"Wanted", count.wanted}};
                }
                line["Processes"] = processes;
            }
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
    // A column for process types when an environment has some.
    const bool processes = std::any_of(envs.begin(), envs.end(), [](const auto& entry) {
        return !entry.second.processes.empty();
    });
    std::vector<std::string> header = {"ENVIRONMENT", "KIND",     "SERVING",    "REPLICAS",
                                       "URL",         "SERVICES", "LAST DEPLOY"};
    if (processes) {
        header.insert(header.begin() + 4, "PROCESSES");
    }
    util::TextTable table(header);
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
        std::vector<std::string> row = {name,
                                        status.kind,
                                        status.serving.empty() ? "-" : status.serving,
                                        fmt::format("{}/{}", status.running, status.replicas),
                                        status.url.empty()   ? "-"
                                        : status.maintenance ? status.url + " (maintenance: 503)"
                                                             : status.url,
                                        services.empty() ? "-" : util::join(services, ", "),
                                        last};
        if (processes) {
            std::vector<std::string> counts;
            for (const auto& [type, count] : status.processes) {
                counts.push_back(fmt::format("{} {}/{}", type, count.running, count.wanted));
            }
            row.insert(row.begin() + 4, counts.empty() ? "-" : util::join(counts, ", "));
        }
        table.add_row(row);
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
    auto opened = orchestrator::open(context, env, state::Reading::with_deploy_times);
    const auto& state = opened->state();
    if (!state.settings) {
        state::EnvironmentStore(context.docker).get(env);  // throws, with what to do
    }
    std::vector<state::HistoryEntry> entries = state.serves;
    entries.insert(entries.end(), state.deploys.begin(), state.deploys.end());
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
            if (!entry.processes.empty()) {
                line["Processes"] = entry.processes;
            }
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
