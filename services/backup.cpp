#include "services/backup.h"

#include <fmt/format.h>

namespace pallet::services {

bool backed_up(const std::string& kind) { return kind == "postgres" || kind == "redis"; }

std::string why_not_backed_up(const std::string& kind) {
    if (kind == "memcache") {
        return "a cache";
    }
    if (kind == "smtp") {
        return "a mail catcher";
    }
    if (kind == "syslog") {
        return "a log sink";
    }
    if (kind == "rabbitmq") {
        return "its queues are not backed up yet";
    }
    if (kind == "elasticsearch") {
        return "its indexes are not backed up yet (rebuild them from the database)";
    }
    return "not backed up";
}

std::string dump_file(const std::string& kind) {
    return kind == "postgres" ? "postgres.dump" : kind + ".rdb";
}

std::string dump_script(const ServiceConfig& service, const Endpoint& endpoint) {
    if (service.kind == "postgres") {
        // pg_dump takes one snapshot of the database in one transaction (repeatable read), and
        // the custom format restores table by table with pg_restore. As the server's admin:
        // whoever owns what the database holds (an extension made by hand), all of it. The
        // server's version decides which servers may take it back (never an older major one).
        return fmt::format(
            "set -e\n"
            "export PGPASSWORD=\"$PALLET_ADMIN_PASSWORD\"\n"
            "psql -h {host} -U {admin} -d {database} -Atc 'SHOW server_version_num' > "
            "\"$1/{kind}.version\"\n"
            "pg_dump -h {host} -U {admin} -d {database} --format=custom --file=\"$1/{file}\"\n",
            fmt::arg("host", endpoint.host), fmt::arg("admin", admin_user()),
            fmt::arg("database", identifier(endpoint.scope)), fmt::arg("kind", service.kind),
            fmt::arg("file", dump_file(service.kind)));
    }
    if (service.kind == "redis") {
        // The server forks and writes its RDB as for a BGSAVE, then sends it; writes go on
        // meanwhile. Sent from its disk: the diskless way waits 5 s for more replicas.
        return fmt::format(
            "set -e\n"
            "redis-cli -h {host} CONFIG SET repl-diskless-sync no >/dev/null\n"
            "redis-cli -h {host} INFO server | sed -n 's/^redis_version:\\([0-9.]*\\).*/\\1/p' "
            "> \"$1/{kind}.version\"\n"
            "redis-cli -h {host} --rdb \"$1/{file}\" >/dev/null\n",
            fmt::arg("host", endpoint.host), fmt::arg("kind", service.kind),
            fmt::arg("file", dump_file(service.kind)));
    }
    return "";
}

std::vector<std::pair<std::string, std::string>> dump_variables(const ServiceConfig& service) {
    if (service.kind == "postgres") {
        return {{"PALLET_ADMIN_PASSWORD", service.admin_password}};
    }
    return {};
}

}  // namespace pallet::services
