#include "phases/edge.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "orchestrator/open.h"
#include "orchestrator/router_nginx.h"
#include "phases/acme.h"
#include "state/environments.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/text_table.h"
#include "util/tls.h"

namespace pallet::phases {
namespace {

using orchestrator::k_serving_restart_policy;
using orchestrator::nginx_main_context;
using orchestrator::nginx_started;
using orchestrator::router_entry;
using orchestrator::router_image;
using orchestrator::write_nginx_config;
using state::k_edge_container;
constexpr const char* k_edge_next = state::k_edge_next_container;
constexpr const char* k_tls_dir = "/pallet/tls";  // certificates and keys, root's alone
// The default a user's site is never reached by: environments that keep it are left out.
constexpr const char* k_default_domain = "localhost";

// The edge's sites: every environment of this engine with a domain of its own, and where its
// router listens on the host. `conflicts` gets each host name two environments claim (both are
// left out; env create and update refuse such names, environments of older versions may have them).
std::vector<EdgeSite> collect_sites(Context& context, std::vector<std::string>& conflicts) {
    std::map<std::string, std::vector<std::string>> claims;  // domain -> environments
    std::vector<EdgeSite> sites;
    for (const auto& state : orchestrator::read_all(context, std::nullopt, true)) {
        const state::Environment& env = *state.settings;
        if (env.site_domain == k_default_domain) {
            continue;
        }
        sites.push_back(EdgeSite{state.name, env.site_domain, env.aliases, state.upstream,
                                 env.tls_cert, env.tls_key, env.site_protocol == "https", env.hsts,
                                 env.tls_acme});
        for (const auto& host : env.host_names()) {
            claims[host].push_back(state.name);
        }
    }
    std::vector<EdgeSite> kept;
    for (const auto& site : sites) {
        bool alone = claims[site.domain].size() == 1;
        for (const auto& alias : site.aliases) {
            alone = alone && claims[alias].size() == 1;
        }
        if (alone) {
            kept.push_back(site);
        }
    }
    for (const auto& [domain, envs] : claims) {
        if (envs.size() > 1) {
            conflicts.push_back(
                fmt::format("{} is a host name of {}", domain, util::join(envs, " and ")));
        }
    }
    return kept;
}

// nginx's listen parameter for "[ADDRESS:]PORT".
std::string listen_of(const std::string& text, const char* option) {
    const auto parsed = util::parse_listen_address(text);
    if (!parsed || parsed->port <= 0) {
        throw UsageError(
            fmt::format("invalid {} \"{}\": give PORT, IP:PORT or [IPV6]:PORT", option, text),
            "docker pallet edge up");
    }
    if (parsed->address.empty()) {
        return std::to_string(parsed->port);
    }
    return util::address_port(parsed->address, std::to_string(parsed->port));
}

// Waits until nginx runs in the edge; throws with what stopped it.
void wait_started(Context& context, const std::string& name, const EdgeListen& listen) {
    if (nginx_started(context, name, std::chrono::seconds(20))) {
        return;
    }
    const std::string output = util::trim(context.docker.logs_tail(name, 5));
    if (output.find("Address already in use") != std::string::npos ||
        output.find("could not bind") != std::string::npos) {
        // nginx: "bind() to 127.0.0.1:8080 failed (98: Address already in use)"
        const auto at = output.find("bind() to ");
        const std::string taken = at == std::string::npos
                                      ? listen.http + " or " + listen.https
                                      : output.substr(at + 10, output.find(' ', at + 10) - at - 10);
        throw Error(fmt::format(
            "port {} is taken on the engine's host; choose another: {}", taken,
            context.command("pallet edge up --http [ADDRESS:]PORT --https [ADDRESS:]PORT")));
    }
    throw Error(fmt::format("the edge ({}) did not start nginx. Its output:\n{}",
                            edge_image(context), output));
}

// The edge's listen addresses, from its labels.
EdgeListen listen_of(const docker::ContainerRecord& edge) {
    const std::string https = edge.label(state::label::k_edge_https);
    return {edge.label(state::label::k_edge_http), https.empty() ? "443" : https};
}

// Writes each site's certificate and key into the running edge (through stdin: no key on a
// command line; 600, root's), then its configuration, with a graceful reload.
void write_edge(Context& context, const std::string& container, const EdgeListen& listen,
                const std::vector<EdgeSite>& sites) {
    for (const auto& site : sites) {
        if (site.certificate.empty()) {
            continue;
        }
        for (const auto& [extension, text] :
             {std::pair{"crt", &site.certificate}, std::pair{"key", &site.key}}) {
            context.docker.exec_with_input(
                container,
                {"sh", "-c",
                 "umask 077 && mkdir -p \"$1\" && cat > \"$1/$2.new\" && mv \"$1/$2.new\" "
                 "\"$1/$2\"",
                 "sh", k_tls_dir, fmt::format("{}.{}", site.env, extension)},
                *text);
        }
    }
    write_nginx_config(context, container, edge_config(listen, sites));
}

// Once the edge answers ACME's challenges: the certificates of its ACME sites that are due
// (none yet, or expiring). 1 when any could not be had.
int certificates_due(Context& context, const std::vector<EdgeSite>& sites) {
    const bool acme =
        std::any_of(sites.begin(), sites.end(), [](const EdgeSite& site) { return site.acme; });
    return acme && !context.docker.dry_run() ? run_edge_renew(context, false) : 0;
}

}  // namespace

std::string edge_image(const Context& context) {
    return context.setting("edge-image").value_or(router_image(context));
}

const char* edge_container() { return k_edge_container; }

bool edge_running(Context& context) {
    const auto edge = context.docker.inspect_container(k_edge_container);
    return edge && edge->running;
}

std::string edge_config(const EdgeListen& listen, const std::vector<EdgeSite>& sites) {
    // The port in redirects to HTTPS (none for 443).
    const std::string https_port = listen.https.substr(listen.https.rfind(':') + 1);
    const std::string port_suffix = https_port == "443" ? "" : ":" + https_port;
    std::string servers;
    int index = 0;
    for (const auto& site : sites) {
        ++index;
        const bool tls = !site.certificate.empty();
        std::string names = site.domain;
        for (const auto& alias : site.aliases) {
            names += " " + alias;
        }
        std::string tls_lines = fmt::format(
            "        ssl_certificate {0}/{1}.crt;\n        ssl_certificate_key {0}/{1}.key;\n",
            k_tls_dir, site.env);
        if (site.hsts && site.https_only) {
            tls_lines +=
                "        add_header Strict-Transport-Security \"max-age=31536000\" always;\n";
        }
        std::string location;
        if (site.upstream.empty()) {
            location =
                "        location / {\n            return 503;  # its router does not run\n        "
                "}\n";
        } else {
            servers += fmt::format(
                "    upstream pallet_site_{index} {{  # {env}\n"
                "        server {upstream} max_fails=0;\n"
                "        keepalive 16;\n"
                "    }}\n",
                fmt::arg("index", index), fmt::arg("env", site.env),
                fmt::arg("upstream", site.upstream));
            location = fmt::format(
                "        location / {{\n"
                "            proxy_pass http://pallet_site_{};\n"
                "            proxy_http_version 1.1;\n"
                "            proxy_set_header Connection \"\";\n"
                "            proxy_set_header Host $http_host;\n"
                "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                "            proxy_next_upstream error timeout;\n"
                "        }}\n",
                index);
        }
        // HTTP: the site, or for an https site with its certificate a redirect; ACME's
        // challenges are answered on HTTP from the files the client leaves.
        std::string http_body = tls && site.https_only
                                    ? fmt::format(
                                          "        location / {{\n"
                                          "            return 308 https://$host{}$request_uri;\n"
                                          "        }}\n",
                                          port_suffix)
                                    : location;
        if (site.acme) {
            http_body = fmt::format(
                            "        location ^~ /.well-known/acme-challenge/ {{\n"
                            "            root {};\n"
                            "            default_type text/plain;\n"
                            "        }}\n",
                            k_acme_webroot_in_edge) +
                        http_body;
        }
        servers += fmt::format(
            "    server {{  # {env}\n        listen {listen};\n        server_name "
            "{domain};\n{body}    }}\n",
            fmt::arg("env", site.env), fmt::arg("listen", listen.http), fmt::arg("domain", names),
            fmt::arg("body", http_body));
        if (tls) {
            servers += fmt::format(
                "    server {{  # {env}\n        listen {listen} ssl http2;\n        server_name "
                "{domain};\n{tls}{body}    }}\n",
                fmt::arg("env", site.env), fmt::arg("listen", listen.https),
                fmt::arg("domain", names), fmt::arg("tls", tls_lines), fmt::arg("body", location));
        }
    }
    return fmt::format(
        "# Written by docker-pallet: the edge. Changes are overwritten.\n"
        "{main}"
        "http {{\n"
        "    access_log /dev/stdout;\n"
        "    server_tokens off;\n"
        "    keepalive_timeout 65s;\n"
        "    client_max_body_size 100m;\n"
        "    client_body_temp_path /tmp/pallet-edge-body;\n"
        "    proxy_temp_path /tmp/pallet-edge-proxy;\n"
        "    ssl_protocols TLSv1.2 TLSv1.3;\n"
        "    ssl_prefer_server_ciphers off;\n"
        "    ssl_session_cache shared:pallet_tls:10m;\n"
        "    ssl_session_timeout 1d;\n"
        // reuseport: a new edge can listen next to the old one on the same port until it
        // replaces it (edge up with another port for the other protocol).
        "    server {{  # a host name no environment has\n"
        "        listen {http} default_server reuseport;\n"
        "        server_name _;\n"
        "        return 404;\n"
        "    }}\n"
        "    server {{  # TLS for a name no environment has a certificate for: refused\n"
        "        listen {https} ssl http2 default_server reuseport;\n"
        "        ssl_reject_handshake on;\n"
        "    }}\n"
        "{servers}"
        "}}\n",
        fmt::arg("main", nginx_main_context()), fmt::arg("http", listen.http),
        fmt::arg("https", listen.https), fmt::arg("servers", servers));
}

int run_edge_up(Context& context, const std::optional<std::string>& http,
                const std::optional<std::string>& https) {
    const auto edge = context.docker.inspect_container(k_edge_container);
    // What is not given stays as the running edge has it.
    const EdgeListen was = edge ? listen_of(*edge) : EdgeListen{};
    const EdgeListen listen{http ? listen_of(*http, "--http") : was.http,
                            https ? listen_of(*https, "--https") : was.https};
    std::vector<std::string> conflicts;
    const auto sites = collect_sites(context, conflicts);
    if (!conflicts.empty()) {
        throw Error(fmt::format("{}: give one of them another domain ({})",
                                util::join(conflicts, "; "),
                                context.command("pallet env update ENV --site-domain DOMAIN")));
    }
    if (edge && edge->running && listen.http == was.http && listen.https == was.https) {
        write_edge(context, k_edge_container, listen_of(*edge), sites);
        context.done("the edge on {} and {} serves {} site(s)", listen_of(*edge).http,
                     listen_of(*edge).https, sites.size());
        return certificates_due(context, sites);
    }
    // The new edge starts next to the old one (other ports) and replaces it once nginx runs in
    // it: when it cannot start, the old one goes on as it was. It starts without certificates
    // (no file of theirs is there yet), then gets them and its whole configuration.
    if (edge && !edge->running) {
        context.docker.remove_containers({k_edge_container});
    }
    context.docker.remove_containers({k_edge_next});
    std::vector<EdgeSite> plain = sites;
    for (auto& site : plain) {
        site.certificate.clear();
        site.key.clear();
    }
    context.docker.create_volume(
        state::k_acme_volume,
        {{state::label::k_managed, "true"}, {state::label::k_phase, state::phase::k_acme}});
    docker::ContainerSpec spec;
    spec.name = k_edge_next;
    spec.image = edge_image(context);
    spec.command = {"sh", "-c", router_entry()};
    spec.env = {{"PALLET_ROUTER_CONFIG", edge_config(listen, plain)}};
    spec.labels = {{state::label::k_managed, "true"},
                   {state::label::k_phase, state::phase::k_edge},
                   {state::label::k_edge_http, listen.http},
                   {state::label::k_edge_https, listen.https}};
    spec.network = "host";  // the host's ports, and each router's port on the host
    // Its configuration and certificates, kept across restarts of the engine, removed with it;
    // the ACME client's challenges (and account), kept for the next edge.
    spec.mounts = {{"", "/pallet", false}, {state::k_acme_volume, "/pallet/acme", false}};
    spec.stop_timeout = 10;
    try {
        context.docker.run_detached(spec);
        if (!context.docker.dry_run()) {
            wait_started(context, k_edge_next, listen);
            write_edge(context, k_edge_next, listen, sites);
        }
        context.docker.set_restart_policy({k_edge_next}, k_serving_restart_policy);
    } catch (...) {
        context.docker.remove_containers({k_edge_next});
        throw;
    }
    if (edge && edge->running) {
        context.docker.remove_containers({k_edge_container});
        context.step("the edge moved from {} and {}", listen_of(*edge).http,
                     listen_of(*edge).https);
    }
    context.docker.rename_container(k_edge_next, k_edge_container);
    context.done("the edge listens on {} (HTTP) and {} (HTTPS) for {} site(s)", listen.http,
                 listen.https, sites.size());
    return certificates_due(context, sites);
}

int run_edge_down(Context& context) {
    if (!context.docker.inspect_container(k_edge_container)) {
        context.step("no edge runs on this engine");
        return 0;
    }
    context.docker.remove_containers({k_edge_container});
    context.done("removed the edge; environments stay reachable on their own ports");
    return 0;
}

int run_edge_status(Context& context, Format format) {
    const auto edge = context.docker.inspect_container(k_edge_container);
    std::vector<std::string> conflicts;
    const auto sites = collect_sites(context, conflicts);
    const std::string listen = edge && edge->running ? listen_of(*edge).http : "";
    if (format == Format::json) {
        for (const auto& site : sites) {
            nlohmann::ordered_json line = {{"Domain", site.domain},
                                           {"Environment", site.env},
                                           {"Router", site.upstream},
                                           {"Edge", listen}};
            fmt::print("{}\n", line.dump());
        }
        return 0;
    }
    fmt::print("{}\n", listen.empty()
                           ? "No edge runs on this engine (docker pallet edge up starts one)."
                           : fmt::format("The edge listens on {} (HTTP) and {} (HTTPS).", listen,
                                         listen_of(*edge).https));
    util::TextTable table({"DOMAIN", "ENVIRONMENT", "ROUTER", "HTTPS"});
    for (const auto& site : sites) {
        std::string tls = "-";
        if (!site.certificate.empty()) {
            const auto until =
                util::utc_time(util::certificate_info(site.certificate).not_after, "%Y-%m-%d");
            tls = fmt::format("until {}{}", until, site.https_only ? ", HTTP redirects" : "");
        }
        table.add_row(
            {site.aliases.empty() ? site.domain : site.domain + " " + util::join(site.aliases, " "),
             site.env, site.upstream.empty() ? "- (not serving: 503)" : site.upstream, tls});
    }
    fmt::print("{}", table.render());
    for (const auto& conflict : conflicts) {
        fmt::print("left out: {}\n", conflict);
    }
    return 0;
}

void refresh_edge(Context& context) {
    if (context.docker.dry_run()) {
        return;
    }
    try {
        const auto edge = context.docker.inspect_container(k_edge_container);
        if (!edge || !edge->running) {
            return;
        }
        std::vector<std::string> conflicts;
        const auto sites = collect_sites(context, conflicts);
        for (const auto& conflict : conflicts) {
            context.step("warning: the edge leaves out a domain: {}", conflict);
        }
        write_edge(context, k_edge_container, listen_of(*edge), sites);
    } catch (const Error& e) {
        context.step("warning: the edge could not be brought up to date ({}); run {}", e.what(),
                     context.command("pallet edge up"));
    }
}

}  // namespace pallet::phases
