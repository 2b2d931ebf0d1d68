#include "phases/acme.h"

#include <fmt/format.h>

#include "docker/failure.h"
#include "phases/edge.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/tls.h"

namespace pallet::phases {

// lego, the ACME client Debian packages (and Traefik is built on): one static binary, HTTP-01
// from a webroot, its account kept in a directory. The image of its own project, the version
// Debian has, which the tests run.
constexpr const char* k_default_acme_image = "goacme/lego:v4.9.1";
const char* const k_default_acme_directory = "https://acme-v02.api.letsencrypt.org/directory";
const char* const k_acme_webroot_in_edge = "/pallet/acme/webroot";

namespace {

constexpr std::time_t k_renew_before = 30 * 24 * 3600;  // as Let's Encrypt advises for 90 days

// The last lines of the client's output that say something: why it failed.
std::string last_words(const std::string& output) {
    std::vector<std::string> lines = util::nonempty_lines(output);
    if (lines.size() > 3) {
        lines.erase(lines.begin(), lines.end() - 3);
    }
    return lines.empty() ? "it said nothing" : util::join(lines, " ");
}

// A file the client wrote, read through the edge (which mounts the same volume).
std::string read_issued(Context& context, const std::string& path) {
    std::string text;
    if (!context.docker.exec_script(edge_container(), "cat \"$1\"", &text, {path})) {
        throw Error(
            fmt::format("the ACME client reported success, but {} is not in the edge", path));
    }
    return text;
}

}  // namespace

std::string acme_image(const Context& context) {
    return context.setting("acme-image").value_or(k_default_acme_image);
}

bool certificate_due(const state::Environment& env, std::time_t now, bool force) {
    if (force || env.tls_cert.empty()) {
        return true;
    }
    try {
        for (const auto& name : env.host_names()) {
            if (util::check_certificate(env.tls_cert, env.tls_key, name, now).not_after - now <
                k_renew_before) {
                return true;
            }
        }
    } catch (const Error&) {
        return true;  // it does not name a host name, or it expired
    }
    return false;
}

void request_certificate(Context& context, state::Environment& env) {
    docker::ContainerSpec spec;
    spec.name = state::acme_container(env.name);
    spec.image = acme_image(context);
    spec.labels = {{state::label::k_managed, "true"},
                   {state::label::k_phase, state::phase::k_acme},
                   {state::label::k_env, env.name}};
    spec.network = "host";  // the ACME server, as the engine's host reaches it
    // Its account and the challenges' files; the edge mounts the same volume.
    spec.mounts = {{state::k_acme_volume, "/acme", false}};
    spec.remove_on_exit = true;
    spec.command = {"--accept-tos", "--server", env.acme_directory, "--path",
                    "/acme/lego",   "--email",  env.acme_email,     "--key-type",
                    "ec256",        "--http",   "--http.webroot",   "/acme/webroot"};
    for (const auto& name : env.host_names()) {
        spec.command.insert(spec.command.end(), {"--domains", name});
    }
    spec.command.push_back("run");
    // Where the client leaves the challenges' files and the edge reads them.
    if (!context.docker.exec_succeeds(edge_container(), {"mkdir", "-p", k_acme_webroot_in_edge})) {
        throw Error(fmt::format("could not make {} in the edge", k_acme_webroot_in_edge));
    }
    context.step("asking {} for a certificate for {}", env.acme_directory,
                 util::join(env.host_names(), ", "));
    std::string output;
    if (context.docker.run_captured(spec, output) != 0) {
        if (docker::classify(output) == docker::Failure::name_taken) {
            throw Error(
                fmt::format("a certificate for {} is being asked for already (container {})",
                            env.name, spec.name));
        }
        throw Error(fmt::format("the ACME server issued no certificate for {}: {}", env.site_domain,
                                last_words(output)));
    }
    const std::string base = fmt::format("/pallet/acme/lego/certificates/{}", env.site_domain);
    const std::string certificate = read_issued(context, base + ".crt");
    const std::string key = read_issued(context, base + ".key");
    context.docker.redactor().add(key);
    for (const auto& name : env.host_names()) {
        util::check_certificate(certificate, key, name, std::time(nullptr));
    }
    env.tls_cert = certificate;
    env.tls_key = key;
    env.acme_failure.clear();
}

int run_edge_renew(Context& context, bool force) {
    if (!edge_running(context)) {
        throw Error(fmt::format(
            "no edge runs: the ACME server's challenges are answered there; start it with {}",
            context.command("pallet edge up")));
    }
    state::EnvironmentStore store(context.docker);
    const std::time_t now = std::time(nullptr);
    int due = 0;
    int failed = 0;
    for (auto env : store.list()) {
        if (!env.tls_acme) {
            continue;
        }
        if (!certificate_due(env, now, force)) {
            context.step(
                "{}: the certificate is valid until {}, not due", env.name,
                util::utc_time(util::certificate_info(env.tls_cert).not_after, "%Y-%m-%d"));
            continue;
        }
        ++due;
        if (context.docker.dry_run()) {
            context.step("dry run, not done: a new certificate for {}", env.name);
            continue;
        }
        try {
            request_certificate(context, env);
            store.save(env);
            context.done(
                "{}: a new certificate, valid until {}", env.name,
                util::utc_time(util::certificate_info(env.tls_cert).not_after, "%Y-%m-%d"));
        } catch (const Error& e) {
            ++failed;
            // The old certificate stays in use; status shows why there is no new one.
            env.acme_failure =
                fmt::format("{}: {}", util::utc_time(now, "%Y-%m-%dT%H:%M:%SZ"), e.what());
            store.save(env);
            context.step("warning: {}: {}", env.name, e.what());
        }
    }
    if (due > failed) {
        refresh_edge(context);
    }
    if (due == 0) {
        context.done("no certificate is due");
    }
    return failed > 0 ? 1 : 0;
}

}  // namespace pallet::phases
