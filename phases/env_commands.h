#pragma once

#include <optional>
#include <string>
#include <vector>

#include "phases/use_case.h"

namespace pallet::phases {

// Settings of `env create` and `env update`; unset ones stay as they are (or default).
struct EnvCreateOptions {
    std::string name;
    std::optional<std::string> kind;
    std::optional<std::string> site_domain;
    std::optional<std::string> site_protocol;
    std::optional<std::string> port;  // HOSTPORT, ADDRESS:HOSTPORT or none (the edge only)
    std::optional<std::string> health_path;
    std::optional<std::string> health_timeout;        // a duration: 90s, 5m
    std::optional<std::string> drain;                 // a duration
    std::optional<std::string> service_timeout;       // a duration
    std::optional<std::string> process_stop_timeout;  // a duration: SIGTERM to SIGKILL
    std::optional<std::string> process_settle;        // a duration: new processes stay up
    std::vector<std::string> services;                // create only: NAME or NAME=URL
    bool check = false;                               // create only: check external servers answer
    std::optional<std::string> orchestrator;          // create only: engine (default) or swarm
    std::optional<std::string> shared_path;           // swarm: DIR on every node
    std::optional<std::string> router_node;           // swarm: the router's node
    std::optional<std::string> service_node;          // swarm: provided services' node
    std::optional<std::string> volume_driver;         // swarm: instead of a shared path
    std::vector<std::string> volume_options;          // swarm: KEY=VALUE for the volume driver
    std::optional<std::vector<std::string>>
        aliases;                                // more host names for the edge (replace the list)
    bool no_aliases = false;                    // removes them
    std::optional<std::string> tls_cert;        // a PEM certificate chain file, for the edge
    std::optional<std::string> tls_key;         // its PEM key file
    std::optional<std::string> tls;             // acme (a certificate from ACME) or none
    std::optional<std::string> acme_email;      // the ACME account's contact
    std::optional<std::string> acme_directory;  // the ACME server's directory URL
    bool hsts = false;                          // HTTPS answers say Strict-Transport-Security
    bool no_hsts = false;                       // they no longer do
    std::optional<int> keep_backups;            // how many backups are kept
    bool backup_before_deploy = false;          // a deploy takes a backup first (the default)
    bool no_backup_before_deploy = false;       // it does not
    std::optional<std::string> ttl;             // a duration: expires after that long idle
    bool no_ttl = false;                        // never expires
    std::optional<std::string> from;            // create only: a copy of this environment...
    std::optional<std::string> data;            // ...with its data, of this backup ("": latest)
};

int run_env_create(Context& context, const EnvCreateOptions& options);
int run_env_update(Context& context, const EnvCreateOptions& options);
int run_env_service_add(Context& context, const std::string& name,
                        const std::vector<std::string>& services, bool check);
int run_env_service_rm(Context& context, const std::string& name,
                       const std::vector<std::string>& kinds, bool volumes);
int run_env_ls(Context& context, Format format, bool quiet);
// `docker pallet env prune`: removes every environment whose time to live has passed, with its
// volumes and backups (under --dry-run: names them).
int run_env_prune(Context& context);
// Variables are listed by name, external URLs masked; `reveal` shows their values.
int run_env_show(Context& context, const std::string& name, Format format, bool reveal);
int run_env_set(Context& context, const std::string& name, const std::vector<std::string>& pairs);
int run_env_unset(Context& context, const std::string& name, const std::vector<std::string>& keys);

}  // namespace pallet::phases
