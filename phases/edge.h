#pragma once

#include <optional>
#include <string>
#include <vector>

#include "phases/use_case.h"

namespace pallet::phases {

// The edge: one nginx per engine in front of every environment's router, on the host's ports
// (80 by default), that sends each request to the environment whose SITE_DOMAIN is its Host.
// Environments keep their routers (where zero-downtime switches happen) and their own ports.

// An environment as the edge sees it: its domain and where its router listens on the host.
struct EdgeSite {
    std::string env;
    std::string domain;
    std::vector<std::string> aliases;
    std::string upstream;     // "127.0.0.1:8080"; empty when its router does not run
    std::string certificate;  // PEM chain for HTTPS ("": HTTP only); written next to its key
    std::string key;
    bool https_only = false;  // SITE_PROTOCOL https: HTTP redirects (308) once it has TLS
    bool hsts = false;        // its HTTPS answers say Strict-Transport-Security (https_only sites)
    bool acme = false;        // its certificate comes from ACME: HTTP answers the challenges
};

// Where the edge listens, as nginx's listen takes it ("80", "127.0.0.1:8080", "[::1]:8443").
struct EdgeListen {
    std::string http = "80";
    std::string https = "443";
};

// The edge's whole nginx configuration: each site's domain on HTTP, and on HTTPS with its
// certificate (files under /pallet/tls named after the environment); any other Host gets 404 on
// HTTP and no TLS handshake on HTTPS, a site whose router does not run 503.
std::string edge_config(const EdgeListen& listen, const std::vector<EdgeSite>& sites);

// The edge's image: plugins.pallet edge-image / PALLET_EDGE_IMAGE, else the router's.
std::string edge_image(const Context& context);

// The edge's container, and whether it runs.
const char* edge_container();
bool edge_running(Context& context);

// `docker pallet edge up [--http [ADDRESS:]PORT] [--https [ADDRESS:]PORT]`: starts the edge, or
// rewrites its sites.
int run_edge_up(Context& context, const std::optional<std::string>& http,
                const std::optional<std::string>& https);

// `docker pallet edge down`: stops and removes the edge.
int run_edge_down(Context& context);

// `docker pallet edge status`: where it listens and which domain goes to which environment.
int run_edge_status(Context& context, Format format);

// After a command changed an environment (its domain, its router's port, its existence): when an
// edge runs, rewrites its sites with a graceful reload. A failure is a warning, not the
// command's.
void refresh_edge(Context& context);

}  // namespace pallet::phases
