// `docker pallet env create` and `env update`: settings, checked, and what follows them (the edge,
// a certificate).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "orchestrator/engine/services.h"
#include "orchestrator/open.h"
#include "phases/acme.h"
#include "phases/backup.h"
#include "phases/edge.h"
#include "phases/env_commands.h"
#include "phases/phase_env.h"
#include "phases/restore.h"
#include "phases/services.h"
#include "state/environments.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/text_table.h"
#include "util/tls.h"
#include "util/together.h"
#include "util/url.h"

namespace pallet::phases {
namespace {

// A duration flag's value, from `min` to `max` seconds.
int duration_option(const std::string& text, const char* flag, long long min, long long max,
                    const std::string& path) {
    auto duration = util::parse_duration(text);
    if (!duration || duration->count() < min || duration->count() > max) {
        throw UsageError(
            fmt::format("invalid {} \"{}\": use a duration from {} to {} (30s, 2m, 1h30m)", flag,
                        text, util::format_duration(std::chrono::seconds(min)),
                        util::format_duration(std::chrono::seconds(max))),
            path);
    }
    return static_cast<int>(duration->count());
}

void apply_port(state::Environment& env, const std::string& text, const std::string& path) {
    env.edge_only = text == "none";
    if (env.edge_only) {
        // Its router listens where only the edge (on the host's network) reaches it.
        env.port = 0;
        env.bind_address = "127.0.0.1";
        return;
    }
    auto listen = util::parse_listen_address(text);
    if (!listen) {
        throw UsageError(
            fmt::format("invalid --port \"{}\": use PORT (1-65535), IP:PORT, "
                        "[IPV6]:PORT or none, for example 8080, 0.0.0.0:80 or [::1]:8080",
                        text),
            path);
    }
    env.port = listen->port;
    if (!listen->address.empty()) {
        env.bind_address = listen->address;
    }
}

// A health path goes into the request line of a raw HTTP request: printable ASCII, no spaces.
bool is_health_path(const std::string& path) {
    return !path.empty() && path.size() <= 1024 && path[0] == '/' &&
           std::all_of(path.begin(), path.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// The text of a file named on the command line (a certificate, a key): at most 64 KiB.
std::string read_file(const std::string& file, const char* option, const std::string& path) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw UsageError(fmt::format("{} {}: cannot read the file", option, file), path);
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > 65536) {
        throw UsageError(fmt::format("{} {}: larger than 64 KiB", option, file), path);
    }
    return text;
}

// HTTPS at the edge: the user's certificate, one from ACME, or none; HSTS.
void apply_tls(state::Environment& env, const EnvCreateOptions& options, const std::string& path) {
    if (options.tls_cert.has_value() != options.tls_key.has_value()) {
        throw UsageError("--tls-cert and --tls-key go together", path);
    }
    if (options.tls && options.tls_cert) {
        throw UsageError(fmt::format("--tls {} and --tls-cert: give one of them", *options.tls),
                         path);
    }
    if (options.tls_cert) {
        env.tls_cert = read_file(*options.tls_cert, "--tls-cert", path);
        env.tls_key = read_file(*options.tls_key, "--tls-key", path);
        env.tls_acme = false;
    }
    if (options.tls == "none") {
        env.tls_cert.clear();
        env.tls_key.clear();
        env.tls_acme = false;
    } else if (options.tls == "acme") {
        env.tls_acme = true;
    } else if (options.tls) {
        throw UsageError(
            fmt::format("invalid --tls \"{}\": use acme (a certificate from an ACME server) or "
                        "none (--tls-cert and --tls-key give your own)",
                        *options.tls),
            path);
    }
    if ((options.acme_email || options.acme_directory) && !env.tls_acme) {
        throw UsageError("--acme-email and --acme-directory go with --tls acme", path);
    }
    if (!env.tls_acme) {
        env.acme_email.clear();
        env.acme_directory.clear();
        env.acme_failure.clear();
    } else {
        env.acme_email = options.acme_email.value_or(env.acme_email);
        env.acme_directory = options.acme_directory.value_or(
            env.acme_directory.empty() ? std::string(k_default_acme_directory)
                                       : env.acme_directory);
        if (env.acme_email.find('@') == std::string::npos || env.acme_email.size() > 254 ||
            !std::all_of(env.acme_email.begin(), env.acme_email.end(),
                         [](char c) { return c > 0x20 && c < 0x7f; })) {
            throw UsageError(
                fmt::format(
                    "--tls acme needs --acme-email ADDRESS (the ACME account's contact), not "
                    "\"{}\"",
                    env.acme_email),
                path);
        }
        const auto url = util::parse_url(env.acme_directory);
        if (!url || url->scheme != "https" || url->host.empty() || !url->userinfo.empty()) {
            throw UsageError(
                fmt::format("invalid --acme-directory \"{}\": the https:// URL of an ACME "
                            "server's directory",
                            env.acme_directory),
                path);
        }
        if (env.site_domain == "localhost") {
            throw UsageError(
                "--tls acme needs the site's own domain (--site-domain): no ACME server "
                "certifies localhost",
                path);
        }
    }
    if (options.hsts && options.no_hsts) {
        throw UsageError("--hsts and --no-hsts: give one of them", path);
    }
    env.hsts = options.hsts || (env.hsts && !options.no_hsts);
}

// Applies the settings given on the command line to `env`.
void apply_settings(state::Environment& env, const EnvCreateOptions& options,
                    const std::string& path) {
    env.kind = options.kind.value_or(env.kind);
    env.site_domain = options.site_domain.value_or(env.site_domain);
    if (!util::is_host_name(env.site_domain)) {
        throw UsageError(fmt::format("invalid --site-domain \"{}\": use a host name such as "
                                     "www.example.org (letters, digits, hyphens and dots)",
                                     env.site_domain),
                         path);
    }
    if (options.no_aliases && options.aliases) {
        throw UsageError("--alias and --no-aliases: give one of them", path);
    }
    if (options.no_aliases) {
        env.aliases.clear();
    }
    if (options.aliases) {
        env.aliases.clear();
        for (const auto& alias : *options.aliases) {
            if (!util::is_host_name(alias) || alias == env.site_domain) {
                throw UsageError(
                    fmt::format("invalid --alias \"{}\": another host name of the site, such "
                                "as www.example.org",
                                alias),
                    path);
            }
            env.aliases.push_back(alias);
        }
    }
    env.site_protocol = options.site_protocol.value_or(env.site_protocol);
    if (options.port) {
        apply_port(env, *options.port, path);
    }
    env.health_path = options.health_path.value_or(env.health_path);
    if (!is_health_path(env.health_path)) {
        throw UsageError(fmt::format("invalid --health-path \"{}\": a path that starts with / "
                                     "(printable ASCII, no spaces; percent-encode the rest)",
                                     env.health_path),
                         path);
    }
    constexpr long long k_day = 24 * 3600;
    if (options.health_timeout) {
        env.health_timeout =
            duration_option(*options.health_timeout, "--health-timeout", 1, k_day, path);
    }
    if (options.service_timeout) {
        env.service_timeout =
            duration_option(*options.service_timeout, "--service-timeout", 1, k_day, path);
    }
    if (options.drain) {
        env.drain_ms = duration_option(*options.drain, "--drain", 0, 3600, path) * 1000;
    }
    if (options.process_stop_timeout) {
        env.process_stop_timeout =
            duration_option(*options.process_stop_timeout, "--process-stop-timeout", 0, 3600, path);
    }
    if (options.process_settle) {
        env.process_settle =
            duration_option(*options.process_settle, "--process-settle", 0, 3600, path);
    }
    if (options.backup_before_deploy && options.no_backup_before_deploy) {
        throw UsageError("--backup-before-deploy and --no-backup-before-deploy: give one of them",
                         path);
    }
    env.backup_before_deploy = options.backup_before_deploy ||
                               (env.backup_before_deploy && !options.no_backup_before_deploy);
    env.keep_backups = options.keep_backups.value_or(env.keep_backups);
    if (options.ttl && options.no_ttl) {
        throw UsageError("--ttl and --no-ttl: give one of them", path);
    }
    if (options.ttl) {
        env.ttl = duration_option(*options.ttl, "--ttl", 1, 366 * k_day, path);
    }
    if (options.no_ttl) {
        env.ttl = 0;
    }
    apply_tls(env, options, path);
    if (!env.tls_cert.empty() && !env.tls_acme) {
        // Checked again whenever the domain changes: the certificate must name it.
        try {
            for (const auto& name : env.host_names()) {
                util::check_certificate(env.tls_cert, env.tls_key, name, std::time(nullptr));
            }
        } catch (const Error& e) {
            throw Error(fmt::format("{} cannot use this certificate: {}", env.name, e.what()));
        }
    }
}

// A domain of its own (not the default localhost) belongs to one environment of the engine: the
// edge sends its requests there.
void check_domain_free(Context& context, const state::Environment& env) {
    for (const auto& other : state::EnvironmentStore(context.docker).list()) {
        const std::string& name = other.name;
        for (const auto& mine : env.host_names()) {
            const auto theirs = other.host_names();
            if (name != env.name && mine != "localhost" &&
                std::find(theirs.begin(), theirs.end(), mine) != theirs.end()) {
                throw Error(
                    fmt::format("{} is already a host name of {}: one domain, one "
                                "environment (the edge sends its requests there)",
                                mine, name));
            }
        }
    }
}

// After `env` (saved) became an ACME site, or changed its host names: its certificate, now when
// an edge runs (it answers the challenges), else when one starts. When none can be had, the
// environment goes back to `before` (removed when it was new) and the error says why.
void obtain_certificate(Context& context, state::Environment& env,
                        const state::Environment* before) {
    const bool newly = before == nullptr || !before->tls_acme;
    if (!env.tls_acme || !certificate_due(env, std::time(nullptr), newly) ||
        context.docker.dry_run()) {
        return;
    }
    if (!edge_running(context)) {
        context.step("{} gets its certificate when the edge starts: {}", env.name,
                     context.command("pallet edge up"));
        return;
    }
    state::EnvironmentStore store(context.docker);
    try {
        request_certificate(context, env);
        store.save(env);
        ++env.generation;
        refresh_edge(context);
    } catch (const Error& e) {
        if (before == nullptr) {
            store.remove(env);
        } else {
            state::Environment back = *before;
            back.generation = env.generation;
            store.save(back);
        }
        refresh_edge(context);
        throw Error(before == nullptr
                        ? fmt::format("{}; {} was not created", e.what(), env.name)
                        : fmt::format("{}; {} was left as it was", e.what(), env.name));
    }
    context.step(
        "{} has a certificate from {} until {}", env.name, env.acme_directory,
        util::utc_time(util::certificate_info(env.tls_cert).not_after, "%Y-%m-%dT%H:%M:%SZ"));
}

// The settings of a copy of `source` (env create --from): all of them but what is the source's
// alone (its host names, its fixed port, its provided services' passwords) and its state
// (maintenance, a failed ACME request). Options given with --from apply on top.
state::Environment copy_of(const state::Environment& source, const EnvCreateOptions& options,
                           const std::string& path) {
    if (options.orchestrator || options.shared_path || options.router_node ||
        options.service_node || options.volume_driver || !options.volume_options.empty()) {
        throw UsageError(
            fmt::format("a copy runs where {} does: --orchestrator, --shared-path, "
                        "--volume-driver, --volume-opt, --router-node and --service-node do not go "
                        "with --from",
                        source.name),
            path);
    }
    if (!options.site_domain && source.site_domain != "localhost") {
        throw UsageError(
            fmt::format("{}'s domain is {}: give the copy one of its own "
                        "(--site-domain {}.{})",
                        source.name, source.site_domain, options.name, source.site_domain),
            path);
    }
    state::Environment copy = source;
    copy.generation = 0;
    copy.maintenance = false;
    copy.maintenance_message.clear();
    copy.acme_failure.clear();
    copy.touched = 0;
    copy.aliases.clear();
    if (!copy.edge_only) {
        copy.port = 0;  // any free one, unless --port says
    }
    for (auto& [kind, service] : copy.services) {
        if (service.provisioned()) {
            service = services::parse_service_arg(kind, path);  // passwords of its own
        }
    }
    return copy;
}

// A file of this command's own (a backup on its way between two environments): made for the
// user alone, removed when this goes.
class TemporaryFile {
  public:
    TemporaryFile() {
        const char* dir = std::getenv("TMPDIR");
        std::string pattern =
            std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/docker-pallet-XXXXXX";
        const int fd = ::mkstemp(pattern.data());
        if (fd < 0) {
            throw Error(fmt::format("cannot make a temporary file in {}: {}",
                                    pattern.substr(0, pattern.rfind('/')), std::strerror(errno)));
        }
        ::close(fd);
        m_path = pattern;
    }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
    ~TemporaryFile() { ::unlink(m_path.c_str()); }
    const std::string& path() const { return m_path; }

  private:
    std::string m_path;
};

// env create --from --data: the backup `wanted` of `source` ("": its newest; a new one when it
// has none) restored into the new environment `env`, its services started for it.
void copy_data(Context& context, const state::Environment& source, const state::Environment& env,
               const std::string& wanted) {
    auto from = orchestrator::open(context, source.name);
    const state::Environment source_now = from->ensure();
    const std::string which = wanted.empty() ? std::string("newest backup") : "backup " + wanted;
    if (context.docker.dry_run()) {
        context.done("copy of the {} of {} into {}", which, source.name, env.name);
        return;
    }
    context.step("copying the {} of {} into {}", which, source.name, env.name);
    auto opened = orchestrator::open(context, env.name);
    const state::Environment ensured = opened->ensure();
    // The export and its import run while the copy's services start (a new PostgreSQL takes
    // seconds to get ready); the restore needs both.
    const TemporaryFile archive;
    std::string imported;
    util::run_together(
        {[&] {
             if (!export_backup(context, *from, source_now, wanted, archive.path())) {
                 context.step("{} has no backup yet: taking one", source.name);
                 const std::string id =
                     take_backup(context, *from, source_now, "for the copy " + env.name, "", true);
                 export_backup(context, *from, source_now, id, archive.path());
             }
             imported = import_backup(context, *opened, ensured, archive.path(),
                                      fmt::format("the export of {}'s {}", source.name, which));
         },
         [&] { opened->provide_services(ensured); }});
    RestoreOptions restore{env.name};
    restore.id = imported;
    restore.into_new = true;
    restore_backup(context, restore);
}

}  // namespace

int run_env_create(Context& context, const EnvCreateOptions& options) {
    const std::string path = "docker pallet env create";
    state::validate_env_name(options.name, path);
    state::Environment env;
    std::optional<state::Environment> source;
    if (options.from) {
        state::validate_env_name(*options.from, path);
        if (options.data && !options.data->empty()) {
            check_backup_id(*options.data, *options.from, path);
        }
        source = state::EnvironmentStore(context.docker).get(*options.from);
        env = copy_of(*source, options, path);
    } else if (options.data) {
        throw UsageError("--data goes with --from ENV, the environment whose data it copies", path);
    }
    env.name = options.name;
    try {
        apply_settings(env, options, path);
    } catch (const UsageError&) {
        throw;
    } catch (const Error& e) {
        if (!options.from) {
            throw;
        }
        throw Error(
            fmt::format("{} (the certificate of {}: give the copy its own with "
                        "--tls-cert and --tls-key, or --tls acme, or --tls none)",
                        e.what(), *options.from));
    }
    if (env.ttl > 0) {
        env.touched = context.docker.engine_now();
    }
    if (options.site_domain || options.aliases || options.from) {
        check_domain_free(context, env);
    }
    add_service_args(options.services, env.services, path);
    // A copy runs where its source does: copy_of refused these options with --from.
    if (options.orchestrator == "swarm") {
        env.orchestrator = "swarm";
        env.shared_path = options.shared_path.value_or("");
        env.router_node = options.router_node.value_or("");
        env.service_node = options.service_node.value_or("");
        env.volume_driver = options.volume_driver.value_or("");
        for (const auto& option : options.volume_options) {
            const auto equals = option.find('=');
            if (equals == std::string::npos || equals == 0) {
                throw UsageError(fmt::format("--volume-opt takes KEY=VALUE, not {}", option),
                                 "docker pallet env create");
            }
            env.volume_options[option.substr(0, equals)] = option.substr(equals + 1);
        }
    } else if (options.shared_path || options.router_node || options.service_node ||
               options.volume_driver || !options.volume_options.empty()) {
        throw UsageError(
            "--shared-path, --volume-driver, --volume-opt, --router-node and --service-node are "
            "for --orchestrator swarm",
            path);
    }
    orchestrator::check_new_environment(context, env);
    if (options.check) {
        orchestrator::engine::check_external_services(context, "", env.services);
    }
    env = state::EnvironmentStore(context.docker).create(env);
    if (options.data) {
        try {
            copy_data(context, *source, env, *options.data);
        } catch (...) {
            // Nothing half-made: the copy goes with all it has, also after a Ctrl-C.
            const cancel::Shield shield;
            const std::exception_ptr failed = std::current_exception();
            try {
                orchestrator::open(context, env.name)->remove(env, true);
                refresh_edge(context);
            } catch (...) {
            }
            try {
                std::rethrow_exception(failed);
            } catch (const Error& e) {
                throw Error(fmt::format("{}\n{} was not created", e.what(), env.name));
            }
        }
    }
    refresh_edge(context);
    obtain_certificate(context, env, nullptr);
    if (options.from) {
        context.done("created environment {} ({}{}), a copy of {}{}", env.name, env.kind,
                     env.swarm() ? ", on the swarm" : "", *options.from,
                     options.data ? " with its data" : "");
    } else {
        context.done("created environment {} ({}{})", env.name, env.kind,
                     env.swarm() ? ", on the swarm" : "");
    }
    return 0;
}

int run_env_update(Context& context, const EnvCreateOptions& options) {
    state::validate_env_name(options.name, "docker pallet env update");
    state::EnvironmentStore store(context.docker);
    state::Environment env = store.get(options.name);
    const state::Environment before = env;
    const int old_port = env.port;
    const std::string old_address = env.bind_address;
    apply_settings(env, options, "docker pallet env update");
    if (env.ttl > 0) {
        env.touched = context.docker.engine_now();  // an update keeps it alive
    }
    if (options.site_domain || options.aliases) {
        check_domain_free(context, env);
    }
    store.save(env);
    ++env.generation;
    refresh_edge(context);  // its domain, at once
    obtain_certificate(context, env, &before);
    context.done("updated {}; the settings apply from the next serve", env.name);
    if (env.port != old_port || env.bind_address != old_address) {
        context.step(
            "the new address applies when the router starts again: {pallet} stop "
            "{} && {pallet} serve {}",
            env.name, env.name, fmt::arg("pallet", context.command("pallet")));
    }
    return 0;
}

}  // namespace pallet::phases
