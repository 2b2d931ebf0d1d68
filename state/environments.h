#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "docker/docker_cli.h"
#include "services/catalog.h"
#include "util/redactor.h"

namespace pallet::state {

// An environment's settings, as kept on the engine.
struct Environment {
    std::string name;
    std::string kind = "dev";  // ENVIRONMENT
    std::string site_domain = "localhost";
    std::string site_protocol = "http";
    std::string bind_address = "127.0.0.1";
    int port = 0;                   // 0: the engine picks a free one when serving starts
    std::string health_path = "/";  // a new serve container is healthy once this answers
    int health_timeout = 60;        // seconds a new version has to become healthy
    int drain_ms = 2000;            // requests in flight get this long after a switch
    int service_timeout = 120;      // seconds provided services have to get ready
    // Process types (the image's io.pallet.processes): how many of each run (1 when not set
    // here; 0 allowed), how long one has to finish its work after SIGTERM, and how long new ones
    // must stay up before the router switches to their version.
    std::map<std::string, int> process_counts;
    int process_stop_timeout = 30;
    int process_settle = 5;
    // Backups (docker pallet backup): how many it keeps, and whether a deploy takes one first
    // (when there is provided data).
    int keep_backups = 10;
    bool backup_before_deploy = true;
    // Maintenance (docker pallet maintenance, a restore): its router answers every request but
    // /static/ with 503, Retry-After and a plain page with this message ("": the default one).
    bool maintenance = false;
    std::string maintenance_message;
    std::map<std::string, services::ServiceConfig> services;  // by kind
    std::map<std::string, std::string> variables;
    // Where it runs: "engine" (containers on the engine addressed) or "swarm" (services on the
    // swarm whose manager is addressed; its records are swarm configs).
    std::string orchestrator = "engine";
    std::string shared_path;   // swarm: a directory on every node; DIR/ENV/storage and /static
    std::string router_node;   // swarm: the node the router runs on ("": the manager addressed)
    std::string service_node;  // swarm: the node provided services run on ("": the router's)
    // swarm, instead of a shared path: /storage and /static are volumes of this driver with these
    // options ("{volume}" in a value stands for storage or static), made by each node on use.
    std::string volume_driver;
    std::map<std::string, std::string> volume_options;
    std::vector<std::string> aliases;  // more host names the edge sends here (www.example.org)
    // HTTPS at the edge: a PEM certificate chain for site_domain and its key ("": none).
    std::string tls_cert;
    std::string tls_key;
    // The certificate comes from an ACME server (HTTP-01 answered by the edge), renewed by `edge
    // renew`; tls_cert and tls_key hold the newest one issued ("" until then).
    bool tls_acme = false;
    std::string acme_email;      // the ACME account's contact ("": none)
    std::string acme_directory;  // the ACME server's directory URL
    std::string acme_failure;    // why the last request failed ("" when it did not), with its time
    bool hsts = false;           // HTTPS answers carry Strict-Transport-Security (https sites only)
    bool edge_only = false;      // --port none: its router listens on 127.0.0.1 for the edge alone
    // A time to live (env prune): it expires `ttl` seconds after its last deploy, serve or env
    // update (0: never); `touched` is the engine's clock at its creation or last env update.
    int ttl = 0;
    double touched = 0;
    int generation = 0;
    bool swarm() const { return orchestrator == "swarm"; }
    // Every host name of the site: SITE_DOMAIN, then the aliases.
    std::vector<std::string> host_names() const {
        std::vector<std::string> names = {site_domain};
        names.insert(names.end(), aliases.begin(), aliases.end());
        return names;
    }
};

// Hands every secret value of `env` (variables, service passwords, URL credentials) to the
// redactor of what the plugin prints.
void learn_secrets(util::Redactor& redactor, const Environment& env);

// The environment whose settings a swarm config of this name holds (pallet-ENV-config-N), or
// nullopt for another name.
std::optional<std::string> environment_of_config(const std::string& config_name);

// The newest settings of each environment among `records` (other records are skipped).
// `pallet_command` starts the hint of an error about a damaged record.
std::map<std::string, Environment> newest_environments(
    const std::vector<docker::ContainerRecord>& records,
    const std::string& pallet_command = "docker pallet");

// Refuses (UsageError) a name that is not a short DNS-safe word.
void validate_env_name(const std::string& name, const std::string& command_path);

// The settings of environments, one record per generation: for an environment of the engine,
// the labels of a label-only container; for one of a swarm, a swarm config. Names are unique on
// an engine and on a swarm, so two writers never both win.
class EnvironmentStore {
  public:
    explicit EnvironmentStore(docker::DockerCli& docker) : m_docker(docker) {}

    std::optional<Environment> find(const std::string& name);
    // Throws an Error that says how to create it when missing.
    Environment get(const std::string& name);
    std::vector<Environment> list();
    // Creates the environment (its network and volumes come with its first deploy or serve).
    // Throws if it exists.
    Environment create(const Environment& settings);
    // The environment's settings, stored with defaults (on the engine) when missing.
    Environment ensure(const std::string& name);
    // Stores changed settings as a new generation.
    void save(const Environment& env);
    // Applies `change` to `env` and saves it; when another client saved a newer generation
    // meanwhile, applies it to that one instead (three tries). `env` becomes what was saved.
    void update(Environment& env, const std::function<void(Environment&)>& change);
    // Removes the settings records of the environment.
    void remove(const Environment& env);

  private:
    bool write(const Environment& env, int generation);

    docker::DockerCli& m_docker;
};

}  // namespace pallet::state
