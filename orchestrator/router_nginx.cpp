#include "orchestrator/router_nginx.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string_view>

#include "docker/failure.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::orchestrator {
namespace {

constexpr const char* k_default_router_image = "nginx:stable-alpine";
constexpr const char* k_config_file = k_router_config_file;
// Routers of docker-pallet 0.1: a snippet in the image's conf.d, loaded by the image's nginx.conf.
constexpr const char* k_legacy_config_dir = "/etc/nginx/conf.d";

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

std::string maintenance_page(const std::string& message) {
    // Every character that HTML or an nginx string would read as its own is written as an
    // entity: the page is text, whatever the message holds.
    std::string text;
    for (const char c : message.empty() ? std::string(k_default_maintenance_message) : message) {
        if (std::string_view("&<>\"'$\\{};").find(c) != std::string_view::npos) {
            text += fmt::format("&#{};", static_cast<int>(static_cast<unsigned char>(c)));
        } else if (static_cast<unsigned char>(c) >= 0x20) {
            text += c;
        }
    }
    return fmt::format(
        "<!doctype html><html><head><meta charset='utf-8'><title>Maintenance</title></head>"
        "<body><h1>Maintenance</h1><p>{}</p></body></html>\n",
        text);
}

std::string router_site_config(const state::Environment& env, const Upstreams& upstreams) {
    std::string upstream_block;
    std::string proxy;
    if (env.maintenance) {
        // Every request but /static/ gets the page; health requests reach the replicas
        // directly, so serve, scale and a restore's checks go on.
        proxy = fmt::format(
            "        default_type text/html;\n"
            "        add_header Retry-After {} always;\n"
            "        add_header Cache-Control \"no-store\" always;\n"
            "        return 503 \"{}\";\n",
            k_maintenance_retry_after, maintenance_page(env.maintenance_message));
    } else if (!upstreams.service.empty()) {
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
    if (env.maintenance) {
        return fmt::format(
            "server {{\n"
            "    listen 80;\n"
            "    server_name _;\n"
            "    location /static/ {{\n"
            "        root /;\n"
            "        access_log off;\n"
            "    }}\n"
            "    location / {{\n"
            "{proxy}"
            "    }}\n"
            "}}\n",
            fmt::arg("proxy", proxy));
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

std::string router_image(const Context& context, const std::string& running) {
    if (auto chosen = context.setting("router-image")) {
        return *chosen;
    }
    return running.empty() ? k_default_router_image : running;
}

void explain_missing_router_image(Context& context, const std::string& image) {
    if (context.docker.dry_run() || context.docker.inspect_image(image)) {
        return;
    }
    std::string why;
    if (context.docker.pull_image(image, why)) {
        return;
    }
    throw Error(fmt::format(
        "the router image {} is not on the engine and could not be pulled ({}). The router (nginx) "
        "sends users' requests to an environment's replicas, and holds its serve lock while what "
        "it serves changes. Load or build that image there, or choose another nginx image: "
        "PALLET_ROUTER_IMAGE, or router-image under plugins.pallet in config.json",
        image, why));
}

void write_router_config(Context& context, const std::string& container,
                         const state::Environment& env, const Upstreams& upstreams, bool legacy) {
    const std::string file =
        legacy ? std::string(k_legacy_config_dir) + "/pallet.conf" : std::string(k_config_file);
    const std::string config = legacy ? fmt::format(
                                            "# Written by docker-pallet for environment "
                                            "{}. Changes are overwritten.\n{}",
                                            env.name, router_site_config(env, upstreams))
                                      : router_config(env, upstreams);
    // A legacy router runs the image's own nginx.conf, which includes the snippet.
    const std::string main_config = legacy ? "/etc/nginx/nginx.conf" : k_config_file;
    context.docker.exec_with_input(
        container, {"sh", "-c", k_router_update, "update", file, main_config}, config);
}

HealthAnswer probe_from(Context& context, const std::string& container,
                        const state::Environment& env, const std::string& target,
                        const std::string& path) {
    std::string output;
    context.docker.exec_script(container, k_probe, &output,
                               {target, path, env.site_domain, env.site_protocol});
    return parse_health_answer(output);
}

std::vector<std::string> resolve_from(Context& context, const std::string& container,
                                      const std::string& name) {
    std::string output;
    context.docker.exec_script(container, "getent ahostsv4 \"$1\" | cut -d' ' -f1 | sort -u",
                               &output, {name});
    std::vector<std::string> addresses = util::nonempty_lines(output);
    std::sort(addresses.begin(), addresses.end());
    return addresses;
}

bool nginx_started(Context& context, const std::string& container, std::chrono::seconds timeout) {
    const auto deadline = cancel::now() + timeout;
    while (true) {
        if (context.docker.exec_succeeds(container,
                                         {"sh", "-c", "kill -0 $(cat /tmp/pallet-nginx.pid)"})) {
            return true;
        }
        const auto state = context.docker.inspect_container(container);
        // A restart policy starts it again: that it finished once is what tells.
        if (!state || !state->running || docker::parse_docker_time(state->finished_at) ||
            cancel::now() > deadline) {
            return false;
        }
        cancel::sleep(std::chrono::milliseconds(100));
    }
}

}  // namespace pallet::orchestrator
