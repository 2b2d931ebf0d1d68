#include "phases/edge.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "phases/router.h"
#include "state/environments.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/text_table.h"

namespace pallet::phases {
namespace {

constexpr const char* k_edge_container = "pallet-edge";
constexpr const char* k_edge_next = "pallet-edge-next";  // a new edge, until it replaces the old
// The default a user's site is never reached by: environments that keep it are left out.
constexpr const char* k_default_domain = "localhost";

// The edge's sites: every environment of this engine with a domain of its own, and where its
// router listens on the host. `conflicts` gets each domain two environments claim (left out).
std::vector<EdgeSite> collect_sites(Context& context, std::vector<std::string>& conflicts) {
    const auto records = context.docker.list_containers({fmt::format("{}=true", state::label::k_managed)});
    std::map<std::string, std::string> upstreams;  // env -> host address:port of its router
    for (const auto& record : records) {
        if (record.label(state::label::k_phase) == state::phase::k_router && record.running) {
            if (const auto port = record.published_port()) {
                upstreams[record.label(state::label::k_env)] = std::to_string(*port);
            }
        }
    }
    std::map<std::string, std::vector<std::string>> claims;  // domain -> environments
    std::vector<EdgeSite> sites;
    for (const auto& [name, env] : state::newest_environments(records, context.command("pallet"))) {
        if (env.site_domain == k_default_domain || env.swarm()) {
            continue;
        }
        EdgeSite site{name, env.site_domain, ""};
        if (const auto it = upstreams.find(name); it != upstreams.end()) {
            const std::string address = env.bind_address == "0.0.0.0" ? "127.0.0.1" : env.bind_address;
            site.upstream = address.find(':') != std::string::npos ? fmt::format("[{}]:{}", address, it->second)
                                                                   : fmt::format("{}:{}", address, it->second);
        }
        claims[util::trim(env.site_domain)].push_back(name);
        sites.push_back(site);
    }
    std::vector<EdgeSite> kept;
    for (const auto& site : sites) {
        if (claims[site.domain].size() == 1) {
            kept.push_back(site);
        }
    }
    for (const auto& [domain, envs] : claims) {
        if (envs.size() > 1) {
            conflicts.push_back(fmt::format("{} is the SITE_DOMAIN of {}", domain, util::join(envs, " and ")));
        }
    }
    return kept;
}

// nginx's listen parameter for "[ADDRESS:]PORT".
std::string listen_of(const std::string& text) {
    const auto parsed = util::parse_listen_address(text);
    if (!parsed || parsed->port <= 0) {
        throw UsageError(fmt::format("invalid --http \"{}\": give PORT, IP:PORT or [IPV6]:PORT", text),
                         "docker pallet edge up");
    }
    if (parsed->address.empty()) {
        return std::to_string(parsed->port);
    }
    return parsed->address.find(':') != std::string::npos ? fmt::format("[{}]:{}", parsed->address, parsed->port)
                                                          : fmt::format("{}:{}", parsed->address, parsed->port);
}

// Waits until nginx runs in the edge; throws with what stopped it.
void wait_started(Context& context, const std::string& name, const std::string& listen) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (true) {
        if (context.docker.exec_succeeds(name, {"sh", "-c", "kill -0 $(cat /tmp/pallet-nginx.pid)"})) {
            return;
        }
        const auto state = context.docker.inspect_container(name);
        if (!state || !state->running || std::chrono::steady_clock::now() > deadline) {
            const std::string output = util::trim(context.docker.logs_tail(name, 5));
            if (output.find("Address already in use") != std::string::npos ||
                output.find("could not bind") != std::string::npos) {
                throw Error(fmt::format("port {} is taken on the engine's host; choose another: {}", listen,
                                        context.command("pallet edge up --http [ADDRESS:]PORT")));
            }
            throw Error(fmt::format("the edge ({}) did not start nginx. Its output:\n{}", router_image(context),
                                    output));
        }
        cancel::sleep(std::chrono::milliseconds(100));
    }
}

}  // namespace

std::string edge_config(const std::string& listen, const std::vector<EdgeSite>& sites) {
    std::string servers;
    int index = 0;
    for (const auto& site : sites) {
        ++index;
        if (site.upstream.empty()) {
            servers += fmt::format(
                "    server {{  # {env}: its router does not run\n"
                "        listen {listen};\n"
                "        server_name {domain};\n"
                "        return 503;\n"
                "    }}\n",
                fmt::arg("env", site.env), fmt::arg("listen", listen), fmt::arg("domain", site.domain));
            continue;
        }
        servers += fmt::format(
            "    upstream pallet_site_{index} {{  # {env}\n"
            "        server {upstream} max_fails=0;\n"
            "        keepalive 16;\n"
            "    }}\n"
            "    server {{\n"
            "        listen {listen};\n"
            "        server_name {domain};\n"
            "        location / {{\n"
            "            proxy_pass http://pallet_site_{index};\n"
            "            proxy_http_version 1.1;\n"
            "            proxy_set_header Connection \"\";\n"
            "            proxy_set_header Host $http_host;\n"
            "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
            "            proxy_next_upstream error timeout;\n"
            "        }}\n"
            "    }}\n",
            fmt::arg("index", index), fmt::arg("env", site.env), fmt::arg("upstream", site.upstream),
            fmt::arg("listen", listen), fmt::arg("domain", site.domain));
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
        "    server {{  # a host name no environment has\n"
        "        listen {listen} default_server;\n"
        "        server_name _;\n"
        "        return 404;\n"
        "    }}\n"
        "{servers}"
        "}}\n",
        fmt::arg("main", nginx_main_context()), fmt::arg("listen", listen), fmt::arg("servers", servers));
}

int run_edge_up(Context& context, const std::optional<std::string>& http) {
    const std::string listen = listen_of(http.value_or("80"));
    std::vector<std::string> conflicts;
    const auto sites = collect_sites(context, conflicts);
    if (!conflicts.empty()) {
        throw Error(fmt::format("{}: give one of them another domain ({})", util::join(conflicts, "; "),
                                context.command("pallet env update ENV --site-domain DOMAIN")));
    }
    const std::string config = edge_config(listen, sites);
    const auto edge = context.docker.inspect_container(k_edge_container);
    if (edge && edge->running && (!http || edge->label(state::label::k_edge_http) == listen)) {
        write_nginx_config(context, k_edge_container,
                           edge_config(edge->label(state::label::k_edge_http), sites));
        context.done("the edge on {} serves {} site(s)", edge->label(state::label::k_edge_http), sites.size());
        return 0;
    }
    // The new edge starts next to the old one (another port) and replaces it once nginx runs in
    // it: when it cannot start, the old one goes on as it was.
    if (edge && !edge->running) {
        context.docker.remove_containers({k_edge_container});
    }
    context.docker.remove_containers({k_edge_next});
    docker::ContainerSpec spec;
    spec.name = k_edge_next;
    spec.image = router_image(context);
    spec.command = {"sh", "-c", router_entry()};
    spec.env = {{"PALLET_ROUTER_CONFIG", config}};
    spec.labels = {{state::label::k_managed, "true"},
                   {state::label::k_phase, state::phase::k_edge},
                   {state::label::k_edge_http, listen}};
    spec.network = "host";  // the host's ports, and each router's port on the host
    // Its configuration, kept across restarts of the engine, removed with the container.
    spec.mounts = {{"", "/pallet", false}};
    spec.stop_timeout = 10;
    try {
        context.docker.run_detached(spec);
        if (!context.docker.dry_run()) {
            wait_started(context, k_edge_next, listen);
        }
        context.docker.set_restart_policy({k_edge_next}, k_serving_restart_policy);
    } catch (...) {
        context.docker.remove_containers({k_edge_next});
        throw;
    }
    if (edge && edge->running) {
        context.docker.remove_containers({k_edge_container});
        context.step("the edge moved from {} to {}", edge->label(state::label::k_edge_http), listen);
    }
    context.docker.rename_container(k_edge_next, k_edge_container);
    context.done("the edge listens on {} for {} site(s)", listen, sites.size());
    return 0;
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
    const std::string listen = edge && edge->running ? edge->label(state::label::k_edge_http) : "";
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
    fmt::print("{}\n", listen.empty() ? "No edge runs on this engine (docker pallet edge up starts one)."
                                      : fmt::format("The edge listens on {} (HTTP).", listen));
    util::TextTable table({"DOMAIN", "ENVIRONMENT", "ROUTER"});
    for (const auto& site : sites) {
        table.add_row({site.domain, site.env, site.upstream.empty() ? "- (not serving: 503)" : site.upstream});
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
        write_nginx_config(context, k_edge_container, edge_config(edge->label(state::label::k_edge_http), sites));
    } catch (const Error& e) {
        context.step("warning: the edge could not be brought up to date ({}); run {}", e.what(),
                     context.command("pallet edge up"));
    }
}

}  // namespace pallet::phases
