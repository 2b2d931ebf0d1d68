#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pallet::services {

// What an environment (or a test run) has of one service.
struct ServiceConfig {
    std::string kind;          // a catalog name: postgres, redis, ...
    std::string external_url;  // the user's own server; empty when the plugin provisions it
    std::string password;      // provisioned: the application's password, made per environment
    std::string admin_password;
    int db_index = 0;  // redis: the database the application gets (leased on a shared server)
    bool provisioned() const { return external_url.empty(); }
};

// A kind of service the plugin knows.
struct ServiceKind {
    std::string name;
    std::string default_image;         // official image, overridable (PALLET_<NAME>_IMAGE, ...)
    int port;                          // where it listens in its container
    std::vector<std::string> schemes;  // URL schemes accepted for an external server
    bool provisionable;
    std::string data_path;  // where its data lives in the container (a named volume)
    int web_port = 0;       // a web view for people (mailpit's), published on 127.0.0.1
};

// The catalog, in a stable order.
const std::vector<ServiceKind>& catalog();

// The kind named `name` (aliases: memcached, mail, email, elastic, es, proxy); nullptr if unknown.
const ServiceKind* find_kind(const std::string& name);

// "postgres, redis, ...": for error messages.
std::string known_kinds();

// Parses NAME or NAME=URL; validates the name and the URL (scheme of that kind, a host).
// Throws UsageError with `command_path` for its hint.
ServiceConfig parse_service_arg(const std::string& arg, const std::string& command_path);

// Where the application reaches a provisioned service and what it is called inside it.
struct Endpoint {
    std::string host;   // the service container's name on the environment's network
    std::string scope;  // the environment's (or run's) name: database, prefix, vhost, index
    // A test run: its test runner may create scratch databases (Django, Rails, pytest-django
    // make their own). Environments keep least privilege.
    bool test_run = false;
    // The server is shared by concurrent test runs (warm services): a Redis database is leased
    // for the run (ready_script prints "pallet-db-index=N"), and released by drop_command.
    bool shared = false;
};

// True for the kinds whose server concurrent test runs can share, each keeping to what it was
// given (a database and role, a leased Redis database, a vhost, an index prefix). Memcached,
// SMTP and syslog have no such partition (a test runner's flush_all clears every key): each run
// gets its own, which starts in a moment.
bool is_shareable(const std::string& kind);

// The Redis database a shared server's ready script leased, from its output; 0 when none.
int leased_db_index(const std::string& ready_output);

// The standard's variables for one service (all phases), values included.
std::vector<std::pair<std::string, std::string>> service_variables(const ServiceConfig& service,
                                                                   const Endpoint& endpoint);

// Environment variables of a provisioned service's own container (credentials, settings).
std::vector<std::pair<std::string, std::string>> container_variables(const ServiceConfig& service);

// A shell script run in the service's container: it fails until the service answers in its own
// protocol (as the application's role where there is one) and creates what the application
// gets (role, database, vhost), idempotently. It holds no secret: it reads the passwords from
// the variables of check_variables, so that it can be a swarm service's health check.
std::string ready_check(const ServiceConfig& service, const Endpoint& endpoint);

// The variables ready_check reads the service's passwords from.
std::vector<std::pair<std::string, std::string>> check_variables(const ServiceConfig& service);

// ready_check with those variables set first, to run with `sh -s` in the service's container
// (fed on stdin, so that no password shows on a command line).
std::string ready_script(const ServiceConfig& service, const Endpoint& endpoint);

// The variable of a provided service's container that holds its admin password, if any.
std::string admin_password_variable(const std::string& kind);

// A shell command (for `sh -c` in the service's container) that drops what a test run got from a
// shared service: its role with every database the role owns (its own and those its test
// runner made), vhost and user, its Redis database. It holds no secret
// (it reads the admin password from the container's own environment), so it may run detached.
// Empty: nothing to drop.
std::string drop_command(const ServiceConfig& service, const Endpoint& endpoint);

// "host:port" of every server of an external service that a TCP connection can check (all but
// UDP syslog), with the scheme's default port where the URL has none.
std::vector<std::string> tcp_targets(const ServiceConfig& service);

// A name usable as a PostgreSQL role and database, a vhost, a prefix ([a-z0-9_]): what a scope
// (an environment's or a run's name) is called inside a service.
std::string identifier(const std::string& scope);

// The role a provided server's admin has (PostgreSQL, RabbitMQ).
std::string admin_user();

// A random password of letters and digits.
std::string make_password();

}  // namespace pallet::services
