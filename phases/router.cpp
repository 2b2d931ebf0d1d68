#include "phases/router.h"

#include <fmt/format.h>

#include "state/labels.h"
#include "util/error.h"

namespace pallet::phases {
namespace {

constexpr const char* k_default_router_image = "nginx:stable-alpine";
constexpr const char* k_config_dir = "/etc/nginx/conf.d";

// Seeds the configuration on first start only: later ones keep what the plugin last wrote.
constexpr const char* k_router_entry =
    "if [ ! -f /etc/nginx/conf.d/pallet.conf ]; then rm -f /etc/nginx/conf.d/*.conf; "
    "printf '%s' \"$PALLET_ROUTER_CONFIG\" > /etc/nginx/conf.d/pallet.conf; fi; "
    "exec nginx -g 'daemon off;'";

// Replaces the configuration, keeping the old one when nginx rejects the new.
constexpr const char* k_router_update =
    "f=/etc/nginx/conf.d/pallet.conf; cat > $f.new && cp $f $f.old && mv $f.new $f && "
    "if nginx -t -q; then nginx -s reload; else mv $f.old $f; exit 1; fi";

}  // namespace

std::string router_config(const state::Environment& env, const std::vector<std::string>& upstreams) {
    std::string servers;
    for (const auto& name : upstreams) {
        servers += fmt::format("    server {}:8000 max_fails=0;\n", name);
    }
    return fmt::format(
        "# Written by docker-pallet for environment {env}. Changes are overwritten.\n"
        "upstream pallet_app {{\n{servers}    keepalive 32;\n}}\n"
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
        "        proxy_pass http://pallet_app;\n"
        "        proxy_http_version 1.1;\n"
        "        proxy_set_header Connection \"\";\n"
        "        proxy_set_header Host $http_host;\n"
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "        proxy_set_header X-Forwarded-Proto {protocol};\n"
        "        proxy_next_upstream error timeout;\n"
        "    }}\n"
        "}}\n",
        fmt::arg("env", env.name), fmt::arg("servers", servers),
        fmt::arg("protocol", env.site_protocol));
}

std::string Router::image() const {
    return m_context.setting("router-image").value_or(k_default_router_image);
}

bool Router::running() {
    auto record = m_context.docker.inspect_container(state::router_container(m_env.name));
    return record && record->running;
}

void Router::start(const std::vector<std::string>& upstreams) {
    const std::string name = state::router_container(m_env.name);
    const std::string config_volume = fmt::format("pallet-{}-router", m_env.name);
    m_context.docker.remove_containers({name});
    m_context.docker.remove_volumes({config_volume});  // seeded afresh from `upstreams`
    docker::ContainerSpec spec;
    spec.name = name;
    spec.image = image();
    spec.command = {"sh", "-c", k_router_entry};
    spec.env = {{"PALLET_ROUTER_CONFIG", router_config(m_env, upstreams)}};
    spec.labels = state::base_labels(m_env.name, state::phase::k_router);
    spec.network = state::network_name(m_env.name);
    spec.mounts = {{state::static_volume(m_env.name), "/static", true},
                   {config_volume, k_config_dir, false}};
    spec.publish = fmt::format("{}:{}:80", m_env.bind_address,
                               m_env.port == 0 ? std::string() : std::to_string(m_env.port));
    spec.restart = "unless-stopped";
    spec.stop_timeout = 10;
    m_context.docker.create_volume(config_volume,
                                   state::base_labels(m_env.name, state::phase::k_router));
    try {
        m_context.docker.run_detached(spec);
    } catch (const Error& e) {
        m_context.docker.remove_containers({name});
        const std::string why = e.what();
        if (why.find("already allocated") != std::string::npos ||
            why.find("address already in use") != std::string::npos) {
            throw Error(fmt::format("port {} on {} is taken on the engine's host; choose another: "
                                    "docker pallet env update {} --port PORT",
                                    m_env.port, m_env.bind_address, m_env.name));
        }
        throw;
    }
}

void Router::switch_to(const std::vector<std::string>& upstreams) {
    m_context.docker.exec_with_input(state::router_container(m_env.name), {"sh", "-c", k_router_update},
                                     router_config(m_env, upstreams));
}

bool Router::answers(const std::string& container, const std::string& path) {
    return m_context.docker.exec_succeeds(
        state::router_container(m_env.name),
        {"wget", "-q", "-O", "/dev/null", "-T", "3", fmt::format("http://{}:8000{}", container, path)});
}

}  // namespace pallet::phases
