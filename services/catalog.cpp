#include "services/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

#include "util/error.h"
#include "util/strings.h"
#include "util/url.h"

namespace pallet::services {
namespace {

constexpr const char* k_admin_user = "pallet";
// Names of the spare roles and databases a shared PostgreSQL keeps for the next test run.
constexpr const char* k_spare_prefix = "pallet_spare_";

std::string host_port(const util::Url& url, int default_port) {
    return url.host_port(default_port);
}

std::vector<util::Url> parse_urls(const ServiceConfig& service) {
    std::vector<util::Url> urls;
    for (const auto& part : util::split(service.external_url, '|')) {
        urls.push_back(*util::parse_url(part));  // validated when the service was added
    }
    return urls;
}

}  // namespace

std::string admin_user() { return k_admin_user; }

std::string identifier(const std::string& scope) {
    std::string out;
    for (char c : scope) {
        out += (c == '-') ? '_' : c;
    }
    return out;
}

const std::vector<ServiceKind>& catalog() {
    static const std::vector<ServiceKind> k_catalog = {
        {"postgres",
         "postgres:16",
         5432,
         {"postgres", "postgresql"},
         true,
         "/var/lib/postgresql/data"},
        {"redis", "redis:7", 6379, {"redis", "rediss"}, true, "/data"},
        {"memcache", "memcached:1.6", 11211, {"memcache", "memcached"}, true, ""},
        {"rabbitmq", "rabbitmq:3", 5672, {"amqp", "amqps"}, true, "/var/lib/rabbitmq"},
        {"smtp", "axllent/mailpit", 1025, {"smtp"}, true, "", 8025},
        {"elasticsearch",
         "elasticsearch:8.15.0",
         9200,
         {"http", "https"},
         true,
         "/usr/share/elasticsearch/data"},
        {"syslog", "balabit/syslog-ng:4.8.1", 514, {"udp", "tcp"}, true, ""},
        {"http-proxy", "", 3128, {"http", "https"}, false, ""},
    };
    return k_catalog;
}

const ServiceKind* find_kind(const std::string& name) {
    static const std::vector<std::pair<std::string, std::string>> k_aliases = {
        {"postgresql", "postgres"}, {"memcached", "memcache"},    {"mail", "smtp"},
        {"email", "smtp"},          {"elastic", "elasticsearch"}, {"es", "elasticsearch"},
        {"proxy", "http-proxy"},    {"amqp", "rabbitmq"}};
    std::string canonical = name;
    for (const auto& [alias, target] : k_aliases) {
        if (alias == name) {
            canonical = target;
        }
    }
    for (const auto& kind : catalog()) {
        if (kind.name == canonical) {
            return &kind;
        }
    }
    return nullptr;
}

std::string known_kinds() {
    std::vector<std::string> names;
    for (const auto& kind : catalog()) {
        names.push_back(kind.name);
    }
    return util::join(names, ", ");
}

std::string make_password() {
    static constexpr char k_alphabet[] =
        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::random_device device;
    std::uniform_int_distribution<size_t> pick(0, sizeof k_alphabet - 2);
    std::string password;
    for (int i = 0; i < 24; ++i) {
        password += k_alphabet[pick(device)];
    }
    return password;
}

ServiceConfig parse_service_arg(const std::string& arg, const std::string& command_path) {
    auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const ServiceKind* kind = find_kind(name);
    if (kind == nullptr) {
        throw UsageError(
            fmt::format("unknown service \"{}\"; known services: {}", name, known_kinds()),
            command_path);
    }
    ServiceConfig service;
    service.kind = kind->name;
    if (eq == std::string::npos) {
        if (!kind->provisionable) {
            throw UsageError(fmt::format("{} is not provisioned by docker pallet; give your "
                                         "server's URL: {}=SCHEME://HOST:PORT",
                                         kind->name, kind->name),
                             command_path);
        }
        service.password = make_password();
        service.admin_password = make_password();
        return service;
    }
    service.external_url = arg.substr(eq + 1);
    for (const auto& part : util::split(service.external_url, '|')) {
        auto url = util::parse_url(part);
        if (!url) {
            throw UsageError(fmt::format("malformed URL for {}: \"{}\" (expected "
                                         "SCHEME://[USER:PASSWORD@]HOST[:PORT][/PATH][?QUERY], "
                                         "special characters of a password percent-encoded)",
                                         kind->name, util::mask_url(part)),
                             command_path);
        }
        if (std::find(kind->schemes.begin(), kind->schemes.end(), url->scheme) ==
            kind->schemes.end()) {
            throw UsageError(fmt::format("{}:// is not a URL for {} (expected {}://...)",
                                         url->scheme, kind->name, kind->schemes.front()),
                             command_path);
        }
    }
    return service;
}

std::vector<std::pair<std::string, std::string>> service_variables(const ServiceConfig& service,
                                                                   const Endpoint& endpoint) {
    const std::string& kind = service.kind;
    const std::string scope = identifier(endpoint.scope);
    if (service.provisioned()) {
        const std::string& host = endpoint.host;
        if (kind == "postgres") {
            return {{"DB_DEFAULT_URL", fmt::format("postgres://{}:{}@{}:5432/{}", scope,
                                                   service.password, host, scope)}};
        }
        if (kind == "redis") {
            return {{"REDIS_URL", fmt::format("redis://{}:6379/{}", host, service.db_index)},
                    {"REDIS_HOSTS", fmt::format("{}:6379", host)},
                    {"REDIS_DB_INDEX", std::to_string(service.db_index)}};
        }
        if (kind == "memcache") {
            return {{"MEMCACHE_HOSTS", fmt::format("{}:11211", host)}, {"MEMCACHE_PREFIX", scope}};
        }
        if (kind == "rabbitmq") {
            return {{"AMQP_URLS",
                     fmt::format("amqp://{}:{}@{}:5672/{}", scope, service.password, host, scope)}};
        }
        if (kind == "smtp") {
            return {{"EMAIL_HOST", host}, {"EMAIL_PORT", "1025"}};
        }
        if (kind == "elasticsearch") {
            return {{"ELASTICSEARCH_URLS", fmt::format("http://{}:9200", host)},
                    {"ELASTICSEARCH_INDEX_NAME", scope}};
        }
        if (kind == "syslog") {
            return {{"SYSLOG_SERVER", host}, {"SYSLOG_PORT", "514"}, {"SYSLOG_PROTO", "udp"}};
        }
        return {};
    }
    const auto urls = parse_urls(service);
    const util::Url& first = urls.front();
    if (kind == "postgres") {
        return {{"DB_DEFAULT_URL", service.external_url}};
    }
    if (kind == "redis") {
        return {{"REDIS_URL", service.external_url},
                {"REDIS_HOSTS", host_port(first, 6379)},
                {"REDIS_DB_INDEX", first.path.empty() ? "0" : first.path}};
    }
    if (kind == "memcache") {
        std::vector<std::string> hosts;
        for (const auto& url : urls) {
            hosts.push_back(host_port(url, 11211));
        }
        return {{"MEMCACHE_HOSTS", util::join(hosts, "|")}, {"MEMCACHE_PREFIX", scope}};
    }
    if (kind == "rabbitmq") {
        return {{"AMQP_URLS", service.external_url}};
    }
    if (kind == "smtp") {
        return {{"EMAIL_HOST", first.host}, {"EMAIL_PORT", first.port.empty() ? "25" : first.port}};
    }
    if (kind == "elasticsearch") {
        return {{"ELASTICSEARCH_URLS", service.external_url}, {"ELASTICSEARCH_INDEX_NAME", scope}};
    }
    if (kind == "syslog") {
        return {{"SYSLOG_SERVER", first.host},
                {"SYSLOG_PORT", first.port.empty() ? "514" : first.port},
                {"SYSLOG_PROTO", first.scheme}};
    }
    if (kind == "http-proxy") {
        return {{"HTTP_PROXY", service.external_url}};
    }
    return {};
}

std::vector<std::pair<std::string, std::string>> container_variables(const ServiceConfig& service) {
    if (service.kind == "postgres") {
        return {{"POSTGRES_USER", k_admin_user},
                {"POSTGRES_PASSWORD", service.admin_password},
                {"POSTGRES_DB", "postgres"}};
    }
    if (service.kind == "rabbitmq") {
        return {{"RABBITMQ_DEFAULT_USER", k_admin_user},
                {"RABBITMQ_DEFAULT_PASS", service.admin_password}};
    }
    if (service.kind == "elasticsearch") {
        return {{"discovery.type", "single-node"},
                {"xpack.security.enabled", "false"},
                {"ES_JAVA_OPTS", "-Xms512m -Xmx512m"}};
    }
    return {};
}

std::vector<std::string> tcp_targets(const ServiceConfig& service) {
    static const std::map<std::string, int> k_default_ports = {
        {"postgres", 5432},  {"postgresql", 5432}, {"redis", 6379}, {"rediss", 6379},
        {"memcache", 11211}, {"memcached", 11211}, {"amqp", 5672},  {"amqps", 5671},
        {"smtp", 25},        {"http", 80},         {"https", 443},  {"tcp", 514}};
    std::vector<std::string> targets;
    if (service.provisioned()) {
        return targets;
    }
    for (const auto& url : parse_urls(service)) {
        auto port = k_default_ports.find(url.scheme);
        if (port != k_default_ports.end()) {
            targets.push_back(host_port(url, port->second));
        }
    }
    return targets;
}

bool is_shareable(const std::string& kind) {
    return kind == "postgres" || kind == "redis" || kind == "rabbitmq" || kind == "elasticsearch";
}

int leased_db_index(const std::string& ready_output) {
    constexpr std::string_view k_marker = "pallet-db-index=";
    const auto at = ready_output.find(k_marker);
    if (at == std::string::npos) {
        return 0;
    }
    try {
        return std::stoi(ready_output.substr(at + k_marker.size()));
    } catch (const std::exception&) {
        return 0;
    }
}

std::string admin_password_variable(const std::string& kind) {
    if (kind == "postgres") {
        return "POSTGRES_PASSWORD";
    }
    if (kind == "rabbitmq") {
        return "RABBITMQ_DEFAULT_PASS";
    }
    return "";
}

std::string drop_command(const ServiceConfig& service, const Endpoint& endpoint) {
    const std::string scope = identifier(endpoint.scope);
    if (service.kind == "postgres") {
        // Drops the run's database and role, then makes a spare for the next run (at most two
        // wait), so that it does not wait for CREATE DATABASE.
        return fmt::format(
            "export PGPASSWORD=\"$POSTGRES_PASSWORD\"; "
            "sql() {{ psql -q -h 127.0.0.1 -U \"$POSTGRES_USER\" -d postgres \"$@\"; }}; "
            "for db in $(sql -Atc \"SELECT datname FROM pg_database WHERE datdba = (SELECT oid "
            "FROM pg_roles WHERE rolname = '{role}')\"); do "
            "sql -c \"DROP DATABASE IF EXISTS \\\"$db\\\" WITH (FORCE)\"; done; "
            "sql -c 'DROP ROLE IF EXISTS \"{role}\"'; "
            "spare={spare}$(date +%s%N); "
            "[ \"$(sql -Atc \"SELECT count(*) FROM pg_database WHERE datname LIKE '{spare}%'\")\" "
            "-lt 2 ] && sql -c \"CREATE ROLE $spare LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE\" "
            "-c \"CREATE DATABASE $spare OWNER $spare\"",
            fmt::arg("role", scope), fmt::arg("spare", k_spare_prefix));
    }
    if (service.kind == "rabbitmq") {
        return fmt::format("rabbitmqctl -q delete_vhost '{0}'; rabbitmqctl -q delete_user '{0}'",
                           scope);
    }
    if (service.kind == "redis" && endpoint.shared) {
        // Only a lease still this run's: after a day it may have gone to another run.
        return fmt::format(
            "r() {{ redis-cli -h 127.0.0.1 \"$@\"; }}; "
            "[ \"$(r -n 0 GET pallet:lease:{index})\" = '{scope}' ] && r -n {index} FLUSHDB "
            ">/dev/null "
            "&& r -n 0 DEL pallet:lease:{index} >/dev/null",
            fmt::arg("index", service.db_index), fmt::arg("scope", scope));
    }
    if (service.kind == "redis") {
        return fmt::format("redis-cli -h 127.0.0.1 -n {} flushdb", service.db_index);
    }
    return "";
}

std::vector<std::pair<std::string, std::string>> check_variables(const ServiceConfig& service) {
    return {{"PALLET_ADMIN_PASSWORD", service.admin_password},
            {"PALLET_APP_PASSWORD", service.password}};
}

std::string ready_script(const ServiceConfig& service, const Endpoint& endpoint) {
    // Passwords are letters and digits (make_password): single quotes hold them as they are.
    std::string script;
    for (const auto& [key, value] : check_variables(service)) {
        script += fmt::format("{}='{}'\n", key, value);
    }
    return script + ready_check(service, endpoint);
}

std::string ready_check(const ServiceConfig& service, const Endpoint& endpoint) {
    const std::string scope = identifier(endpoint.scope);
    if (service.kind == "postgres") {
        // One psql: set up as the admin, then connect as the application and query. A shared
        // server may hold a spare role and database made in advance (see drop_command): taking
        // one by renaming it saves creating a database while the user waits. The shell puts the
        // application's password into psql's input (never its command line).
        return fmt::format(
            "export PGPASSWORD=\"$PALLET_ADMIN_PASSWORD\"\n"
            "psql -v ON_ERROR_STOP=1 -q -h 127.0.0.1 -U {user} -d postgres >/dev/null <<SQL\n"
            "DO \\$\\$ DECLARE spare text; BEGIN\n"
            "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN\n"
            "    SELECT datname INTO spare FROM pg_database WHERE datname LIKE '{spare}%' LIMIT "
            "1;\n"
            "    IF spare IS NOT NULL THEN\n"
            "      BEGIN\n"
            "        EXECUTE format('ALTER DATABASE %I RENAME TO %I', spare, '{role}');\n"
            "        EXECUTE format('ALTER ROLE %I RENAME TO %I', spare, '{role}');\n"
            "      EXCEPTION WHEN others THEN NULL;  -- taken by a concurrent run\n"
            "      END;\n"
            "    END IF;\n"
            "  END IF;\n"
            "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN\n"
            "    CREATE ROLE \"{role}\" LOGIN NOSUPERUSER NOCREATEROLE;\n"
            "  END IF;\n"
            "END \\$\\$;\n"
            "ALTER ROLE \"{role}\" {createdb} PASSWORD '$PALLET_APP_PASSWORD';\n"
            "SELECT 'CREATE DATABASE \"{role}\" OWNER \"{role}\"' WHERE NOT EXISTS "
            "(SELECT FROM pg_database WHERE datname = '{role}')\\gexec\n"
            "REVOKE ALL ON DATABASE \"{role}\" FROM PUBLIC;\n"
            "\\connect \"host=127.0.0.1 dbname={role} user={role} password=$PALLET_APP_PASSWORD\"\n"
            "SELECT 1;\n"
            "SQL\n",
            fmt::arg("user", k_admin_user), fmt::arg("role", scope),
            fmt::arg("spare", k_spare_prefix),
            fmt::arg("createdb", endpoint.test_run ? "CREATEDB" : "NOCREATEDB"));
    }
    if (service.kind == "redis" && endpoint.shared) {
        // Database 0 holds the leases; databases 1-15 go to one run at a time (SET NX is atomic).
        // All taken: fail, and the caller tries again until its readiness timeout.
        return fmt::format(
            "r() {{ redis-cli -h 127.0.0.1 \"$@\"; }}\n"
            "r ping | grep -q PONG || exit 1\n"
            "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do\n"
            "  [ \"$(r -n 0 GET pallet:lease:$i)\" = '{scope}' ] && {{ echo pallet-db-index=$i; "
            "exit 0; }}\n"
            "done\n"
            "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do\n"
            "  if [ \"$(r -n 0 SET pallet:lease:$i '{scope}' NX EX 86400)\" = OK ]; then\n"
            "    r -n $i FLUSHDB >/dev/null; echo pallet-db-index=$i; exit 0\n"
            "  fi\n"
            "done\n"
            "echo 'all 15 Redis databases are leased by other runs' >&2; exit 1\n",
            fmt::arg("scope", scope));
    }
    if (service.kind == "redis") {
        return "redis-cli -h 127.0.0.1 ping | grep -q PONG\n";
    }
    if (service.kind == "memcache") {
        return "bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211 && printf \"version\\r\\n\" >&3 && "
               "read -t 3 line <&3 && [[ $line == VERSION* ]]'\n";
    }
    if (service.kind == "rabbitmq") {
        return fmt::format(
            "set -e\n"
            "rabbitmq-diagnostics -q check_running >/dev/null 2>&1\n"
            "rabbitmqctl -q list_users 2>/dev/null | grep -q '^{role}\\b' "
            "|| rabbitmqctl -q add_user '{role}' \"$PALLET_APP_PASSWORD\" >/dev/null\n"
            "rabbitmqctl -q list_vhosts 2>/dev/null | grep -qx '{role}' "
            "|| rabbitmqctl -q add_vhost '{role}' >/dev/null\n"
            "rabbitmqctl -q set_permissions -p '{role}' '{role}' '.*' '.*' '.*' >/dev/null\n",
            fmt::arg("role", scope));
    }
    if (service.kind == "smtp") {
        return "printf 'QUIT\\r\\n' | nc -w 3 127.0.0.1 1025 | grep -q '^220'\n";
    }
    if (service.kind == "syslog") {
        // UDP cannot be asked; the sink's TCP listener (601) answers when it listens on both.
        return "bash -c 'exec 3<>/dev/tcp/127.0.0.1/601'\n";
    }
    if (service.kind == "elasticsearch") {
        return "curl -fsS "
               "'http://127.0.0.1:9200/_cluster/health?wait_for_status=yellow&timeout=1s' "
               ">/dev/null\n";
    }
    return "true\n";
}

}  // namespace pallet::services
