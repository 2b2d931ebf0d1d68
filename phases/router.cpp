#include "phases/router.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "docker/failure.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

constexpr const char* k_default_router_image = "nginx:stable-alpine";
constexpr const char* k_config_dir = "/pallet";
constexpr const char* k_config_file = "/pallet/nginx.conf";
// Routers of docker-pallet 0.1: a snippet in the image's conf.d, loaded by the image's nginx.conf.
constexpr const char* k_legacy_config_dir = "/etc/nginx/conf.d";
// Exit status of the router's entry script when the image lacks what the router needs.
constexpr int k_exit_unusable_image = 66;

// The router's entry: checks the image, seeds the configuration on first start only (later
// starts, after a restart of the engine, keep what the plugin last wrote), chooses the user
// nginx's workers run as (the image's own nginx or www-data, else nobody), starts nginx with
// the plugin's configuration alone.
constexpr const char* k_router_entry =
    "command -v nginx >/dev/null 2>&1 || { echo 'docker-pallet: the router image has no nginx' "
    ">&2; exit 66; }; "
    "{ command -v bash || command -v nc; } >/dev/null 2>&1 || { echo 'docker-pallet: the router "
    "image has neither bash nor nc, which health checks need' >&2; exit 66; }; "
    "[ -f /pallet/nginx.conf ] || printf '%s' \"$PALLET_ROUTER_CONFIG\" > /pallet/nginx.conf; "
    ": > /pallet/user.conf; "
    "for u in nginx www-data nobody; do if grep -q \"^$u:\" /etc/passwd; then "
    "echo \"user $u $(id -gn $u);\" > /pallet/user.conf; break; fi; done; "
    "exec nginx -c /pallet/nginx.conf -g 'daemon off;'";

// Replaces the configuration ($1: the file, $2: nginx's main configuration), keeping the old
// one when nginx rejects the new; returns once the old workers no longer take connections
// (nginx retitles a worker "shutting down" just before it closes its listening sockets), so
// that the next request meets the new configuration. /proc only: images lack ps and pgrep.
constexpr const char* k_router_update =
    "f=$1; conf=$2; cat > $f.new && cp $f $f.old && mv $f.new $f || exit 1\n"
    "nginx -t -q -c \"$conf\" || { mv $f.old $f; exit 1; }\n"
    "master=; for p in /proc/[0-9]*; do case \"$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)\" in "
    "'nginx: master'*) master=${p#/proc/};; esac; done\n"
    "workers() { for p in /proc/[0-9]*; do set -- $(cat $p/stat 2>/dev/null); "
    "[ \"$4\" = \"$master\" ] && echo $1; done; }\n"
    "old=$(workers)\n"
    "nginx -s reload -c \"$conf\" || exit 1\n"
    "i=0; while [ $i -lt 100 ]; do busy=; for w in $old; do "
    "case \"$(tr '\\0' ' ' < /proc/$w/cmdline 2>/dev/null)\" in ''|*'shutting down'*) ;; "
    "*) busy=1;; esac; done; [ -z \"$busy\" ] && break; sleep 0.05; i=$((i+1)); done\n"
    "sleep 0.05\n";

// A health request as a user's arrives through the router ($1 host, $2 path, $3 SITE_DOMAIN,
// $4 SITE_PROTOCOL): raw HTTP over bash's /dev/tcp or nc, so that no redirect is followed and
// any status can be read; prints the answer's beginning.
constexpr const char* k_probe =
    "request() { printf 'GET %s HTTP/1.1\\r\\nHost: %s\\r\\nX-Forwarded-Proto: %s\\r\\n"
    "X-Forwarded-For: 127.0.0.1\\r\\nX-Real-IP: 127.0.0.1\\r\\n"
    "User-Agent: docker-pallet-health-check\\r\\nAccept: */*\\r\\nConnection: close\\r\\n\\r\\n' "
    "\"$2\" \"$3\" \"$4\"; }\n"
    "if command -v bash >/dev/null 2>&1; then\n"
    "  request \"$@\" | bash -c 'exec 3<>\"/dev/tcp/$0/8000\" || exit 7; cat >&3; "
    "while IFS= read -r -t 5 line <&3 || [ -n \"$line\" ]; do printf \"%s\\n\" \"$line\"; line=; "
    "done' \"$1\"\n"
    "else\n"
    "  request \"$@\" | nc -w 5 \"$1\" 8000\n"
    "fi 2>&1 | head -c 4000\n";

}  // namespace

std::string mime_types() {
    return "        text/html html htm;\n"
           "        text/css css;\n"
           "        text/plain txt;\n"
           "        text/csv csv;\n"
           "        text/xml xml;\n"
           "        application/javascript js mjs;\n"
           "        application/json json map;\n"
           "        application/manifest+json webmanifest;\n"
           "        application/wasm wasm;\n"
           "        application/pdf pdf;\n"
           "        application/zip zip;\n"
           "        application/gzip gz;\n"
           "        image/png png;\n"
           "        image/jpeg jpg jpeg;\n"
           "        image/gif gif;\n"
           "        image/webp webp;\n"
           "        image/avif avif;\n"
           "        image/svg+xml svg svgz;\n"
           "        image/x-icon ico;\n"
           "        font/woff woff;\n"
           "        font/woff2 woff2;\n"
           "        font/ttf ttf;\n"
           "        font/otf otf;\n"
           "        application/vnd.ms-fontobject eot;\n"
           "        audio/mpeg mp3;\n"
           "        audio/ogg ogg;\n"
           "        video/mp4 mp4;\n"
           "        video/webm webm;\n";
}

std::string nginx_main_context() {
    // The pid file tells that nginx listens; the workers' user is chosen by the entry script.
    return "include /pallet/user.conf;\n"
           "worker_processes auto;\n"
           "pid /tmp/pallet-nginx.pid;\n"
           "error_log stderr warn;\n"
           "events {\n"
           "    worker_connections 4096;\n"
           "}\n";
}

void write_nginx_config(Context& context, const std::string& container, const std::string& config) {
    context.docker.exec_with_input(
        container, {"sh", "-c", k_router_update, "update", k_config_file, k_config_file}, config);
}

std::string router_site_config(const state::Environment& env, const Upstreams& upstreams) {
    std::string upstream_block;
    std::string proxy;
    if (!upstreams.service.empty()) {
        // The swarm's DNS (dnsrr: one address per running task), asked again after a second; a
        // task that cannot be reached within 2s (its node is gone) passes the request on.
        proxy = fmt::format(
            "        resolver 127.0.0.11 valid=1s ipv6=off;\n"
            "        resolver_timeout 2s;\n"
            "        set $pallet_app {};\n"
            "        proxy_pass http://$pallet_app:8000;\n"
            "        proxy_connect_timeout 2s;\n",
            upstreams.service);
    } else {
        std::string servers;
        for (const auto& name : upstreams.servers) {
            servers += fmt::format("    server {}:8000 max_fails=0;\n", name);
        }
        if (servers.empty()) {
            servers = "    server 127.0.0.1:9 down;  # nothing serves yet\n";
        }
        upstream_block = fmt::format("upstream pallet_app {{\n{}    keepalive 32;\n}}\n", servers);
        proxy = "        proxy_pass http://pallet_app;\n";
    }
    return fmt::format(
        "{upstream}"
        "server {{\n"
        "    listen 80;\n"
        "    server_name _;\n"
        "    client_max_body_size 100m;\n"
        "    location /static/ {{\n"
        "        root /;\n"
        "        access_log off;\n"
        "        add_header Cache-Control \"public, max-age=31536000, immutable\";\n"
        "    }}\n"
        "    location / {{\n"
        "{proxy}"
        "        proxy_http_version 1.1;\n"
        "        proxy_set_header Connection \"\";\n"
        "        proxy_set_header Host $http_host;\n"
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "        proxy_set_header X-Forwarded-Proto {protocol};\n"
        "        proxy_next_upstream error timeout;\n"
        "    }}\n"
        "}}\n",
        fmt::arg("upstream", upstream_block), fmt::arg("proxy", proxy),
        fmt::arg("protocol", env.site_protocol));
}

std::string router_config(const state::Environment& env, const Upstreams& upstreams) {
    std::string site;
    for (const auto& line : util::split(router_site_config(env, upstreams), '\n')) {
        site += line.empty() ? "\n" : "    " + line + "\n";
    }
    return fmt::format(
        "# Written by docker-pallet for environment {env}. Changes are overwritten.\n"
        "{main}"
        "http {{\n"
        "    types {{\n{types}    }}\n"
        "    default_type application/octet-stream;\n"
        "    access_log /dev/stdout;\n"
        "    server_tokens off;\n"
        "    sendfile on;\n"
        "    tcp_nopush on;\n"
        "    keepalive_timeout 65s;\n"
        "    client_body_temp_path /tmp/pallet-nginx-body;\n"
        "    proxy_temp_path /tmp/pallet-nginx-proxy;\n"
        "{site}"
        "}}\n",
        fmt::arg("env", env.name), fmt::arg("main", nginx_main_context()),
        fmt::arg("types", mime_types()), fmt::arg("site", site));
}

HealthAnswer parse_health_answer(const std::string& raw) {
    HealthAnswer answer;
    auto lines = util::split(raw, '\n');
    for (auto& line : lines) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
    }
    const std::string first = lines.empty() ? "" : util::trim(lines.front());
    if (first.rfind("HTTP/", 0) == 0 && first.size() >= 12) {
        try {
            answer.status = std::stoi(first.substr(first.find(' ') + 1, 3));
        } catch (const std::exception&) {
            answer.status = 0;
        }
    }
    if (answer.status == 0) {
        const std::string why = util::trim(raw);
        answer.evidence = why.empty() ? "no HTTP answer on port 8000"
                                      : "no HTTP answer on port 8000 (" + why.substr(0, 200) + ")";
        return answer;
    }
    answer.healthy = answer.status >= 100 && answer.status < 400;
    answer.evidence = first;
    // The first lines of the body, after the headers.
    size_t i = 1;
    while (i < lines.size() && !lines[i].empty()) {
        ++i;
    }
    int shown = 0;
    for (++i; i < lines.size() && shown < 5; ++i) {
        const std::string line = util::trim(lines[i]);
        if (!line.empty()) {
            answer.evidence += "\n  | " + line.substr(0, 200);
            ++shown;
        }
    }
    return answer;
}

const char* router_entry() { return k_router_entry; }

std::string router_image(const Context& context) {
    return context.setting("router-image").value_or(k_default_router_image);
}

const std::optional<docker::ContainerRecord>& Router::record() {
    if (!m_inspected) {
        m_record = m_context.docker.inspect_container(state::router_container(m_env.name));
        m_inspected = true;
    }
    return m_record;
}

bool Router::running() { return record() && record()->running; }

int Router::start() {
    const std::string name = state::router_container(m_env.name);
    try {
        int port = m_env.port;
        if (port == 0 && !m_context.docker.dry_run()) {
            start_on(0, false);
            auto record = m_context.docker.inspect_container(name);
            if (!record || !record->published_port()) {
                wait_started(name);  // says why it stopped
                throw Error(
                    fmt::format("the router of {} got no port from the engine", m_env.name));
            }
            port = *record->published_port();
        }
        start_on(port, true);
        m_started_port = port;
        return port;
    } catch (...) {
        m_context.docker.remove_containers({name});
        m_context.docker.remove_volumes({state::router_volume(m_env.name)});
        throw;
    }
}

std::string Router::container() const {
    // A swarm router's task container, or the engine router's own name.
    return m_record && !m_record->id.empty() && m_record->name.empty()
               ? m_record->id
               : state::router_container(m_env.name);
}

std::string Router::url() {
    if (m_started_port != 0) {
        return fmt::format("http://{}/",
                           util::address_port(m_env.bind_address, std::to_string(m_started_port)));
    }
    return record() ? record()->published_url() : "";
}

void Router::start_on(int port, bool wait) {
    const std::string name = state::router_container(m_env.name);
    const std::string config_volume = state::router_volume(m_env.name);
    m_context.docker.remove_containers({name});
    m_context.docker.remove_volumes({config_volume});  // seeded afresh
    docker::ContainerSpec spec;
    spec.name = name;
    spec.image = image();
    spec.command = {"sh", "-c", k_router_entry};
    spec.env = {{"PALLET_ROUTER_CONFIG", router_config(m_env, {})}};
    spec.labels = state::base_labels(m_env.name, state::phase::k_router);
    spec.labels[state::label::k_router_config] = k_config_file;
    spec.network = state::network_name(m_env.name);
    spec.mounts = {{state::static_volume(m_env.name), "/static", true},
                   {config_volume, k_config_dir, false}};
    spec.publish =
        util::address_port(m_env.bind_address, port == 0 ? std::string() : std::to_string(port)) +
        ":80";
    spec.stop_timeout = 10;  // restart policy: set by the serve that commits to it
    m_context.docker.create_volume(config_volume,
                                   state::base_labels(m_env.name, state::phase::k_router));
    try {
        m_context.docker.run_detached(spec);
        if (wait && !m_context.docker.dry_run()) {
            wait_started(name);
        }
    } catch (const Error& e) {
        m_context.docker.remove_containers({name});
        m_context.docker.remove_volumes({config_volume});
        const auto* failure = dynamic_cast<const docker::DockerError*>(&e);
        if (failure != nullptr && failure->failure() == docker::Failure::port_taken) {
            throw Error(
                fmt::format("port {} on {} is taken on the engine's host; choose another: "
                            "{pallet} env update {} --port PORT",
                            port, m_env.bind_address, m_env.name,
                            fmt::arg("pallet", m_context.command("pallet"))));
        }
        throw;
    }
    m_inspected = false;
}

void Router::wait_started(const std::string& name) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (true) {
        // nginx writes its pid file once it listens.
        if (m_context.docker.exec_succeeds(name,
                                           {"sh", "-c", "kill -0 $(cat /tmp/pallet-nginx.pid)"})) {
            return;
        }
        auto state = m_context.docker.inspect_container(name);
        // Its restart policy starts it again: that it finished once is what tells.
        if (!state || !state->running || docker::parse_docker_time(state->finished_at)) {
            const std::string output = util::trim(m_context.docker.logs_tail(name, 10));
            if (state && state->exit_code == k_exit_unusable_image) {
                throw Error(
                    fmt::format("the router image {} cannot be used: {}\nChoose an nginx "
                                "image with sh and bash or nc (nginx:stable-alpine, "
                                "nginx:stable, Debian's nginx-light): PALLET_ROUTER_IMAGE "
                                "or router-image under plugins.pallet",
                                image(), output));
            }
            throw Error(fmt::format("the router ({}) stopped at once (exit {}). Its output:\n{}",
                                    image(), state ? state->exit_code : -1, output));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw Error(
                fmt::format("the router ({}) did not start nginx within 20s. Its output:\n{}",
                            image(), m_context.docker.logs_tail(name, 10)));
        }
        cancel::sleep(std::chrono::milliseconds(100));
    }
}

void Router::switch_to(const Upstreams& upstreams) {
    const bool legacy = record() && record()->label(state::label::k_router_config).empty();
    const std::string file =
        legacy ? std::string(k_legacy_config_dir) + "/pallet.conf" : std::string(k_config_file);
    const std::string config = legacy ? fmt::format(
                                            "# Written by docker-pallet for environment "
                                            "{}. Changes are overwritten.\n{}",
                                            m_env.name, router_site_config(m_env, upstreams))
                                      : router_config(m_env, upstreams);
    // A legacy router runs the image's own nginx.conf, which includes the snippet.
    const std::string main_config = legacy ? "/etc/nginx/nginx.conf" : k_config_file;
    m_context.docker.exec_with_input(
        container(), {"sh", "-c", k_router_update, "update", file, main_config}, config);
}

HealthAnswer Router::probe(const std::string& target, const std::string& path) {
    std::string output;
    m_context.docker.exec_script(container(), k_probe, &output,
                                 {target, path, m_env.site_domain, m_env.site_protocol});
    return parse_health_answer(output);
}

std::vector<std::string> Router::resolve(const std::string& name) {
    std::string output;
    m_context.docker.exec_script(container(), "getent ahostsv4 \"$1\" | cut -d' ' -f1 | sort -u",
                                 &output, {name});
    std::vector<std::string> addresses = util::nonempty_lines(output);
    std::sort(addresses.begin(), addresses.end());
    return addresses;
}

}  // namespace pallet::phases
