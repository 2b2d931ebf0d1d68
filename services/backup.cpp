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
        // Compression level 1: 2.4x as fast as pg_dump's default 6 on 316 MB of table, 4% larger
        // (a restore's backup of what it replaces is taken while the site is down).
        return fmt::format(
            "set -e\n"
            "export PGPASSWORD=\"$PALLET_ADMIN_PASSWORD\"\n"
            "psql -h {host} -U {admin} -d {database} -Atc 'SHOW server_version_num' > "
            "\"$1/{kind}.version\"\n"
            "pg_dump -h {host} -U {admin} -d {database} --format=custom --compress=1 "
            "--file=\"$1/{file}\"\n",
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

std::string version_script(const ServiceConfig& service, const Endpoint& endpoint) {
    if (service.kind != "postgres") {
        return "";
    }
    return fmt::format(
        "export PGPASSWORD=\"$PALLET_ADMIN_PASSWORD\"\n"
        "psql -h {} -U {} -d postgres -Atc 'SHOW server_version_num'\n",
        endpoint.host, admin_user());
}

bool restorable(const std::string& kind, const std::string& dumped, const std::string& server) {
    if (kind != "postgres") {
        return true;
    }
    const auto major = [](const std::string& number) {
        try {
            return std::stol(number) / 10000;  // 150018: 15 (PostgreSQL 10 and later)
        } catch (...) {
            return 0L;
        }
    };
    return major(dumped) <= major(server);
}

namespace {

// psql as the server's admin, stopping at the first error.
std::string admin_sql(const Endpoint& endpoint) {
    return fmt::format(
        "export PGPASSWORD=\"$PALLET_ADMIN_PASSWORD\"\n"
        "sql() {{ psql -v ON_ERROR_STOP=1 -q -h {} -U {} -d postgres \"$@\"; }}\n",
        endpoint.host, admin_user());
}

}  // namespace

std::string restore_script(const ServiceConfig& service, const Endpoint& endpoint) {
    if (service.kind != "postgres") {
        return "";
    }
    // Objects are made by the application's role (SET ROLE), whoever owned them before.
    return fmt::format(
        "set -e\n{sql}"
        "sql -c \"DROP DATABASE IF EXISTS \\\"$2\\\"\" -c \"CREATE DATABASE \\\"$2\\\" OWNER "
        "\\\"{role}\\\"\"\n"
        "pg_restore -h {host} -U {admin} -d \"$2\" --no-owner --role={role} --exit-on-error "
        "\"$1/{file}\"\n",
        fmt::arg("sql", admin_sql(endpoint)), fmt::arg("host", endpoint.host),
        fmt::arg("admin", admin_user()), fmt::arg("role", identifier(endpoint.scope)),
        fmt::arg("file", dump_file(service.kind)));
}

std::string redis_restore_script(const Endpoint& endpoint) {
    // The job's server: the backup's file, written to by nothing (no save, no AOF; the copy for
    // the replica goes over the socket at once), reached at the job's address on the environment's
    // network. Whatever ends the job (an error, a Ctrl-C that docker run passes on as a
    // signal), the environment's Redis is no replica after it: one of a server gone would refuse
    // every write.
    return fmt::format(
        "set -e\n"
        "r() {{ redis-cli -h {host} \"$@\"; }}\n"
        "[ -s \"$1/redis.rdb\" ] || {{ echo \"the backup has no redis.rdb\"; exit 1; }}\n"
        "redis-server --port 6390 --bind 0.0.0.0 --protected-mode no --save '' --appendonly no "
        "--dir \"$1\" --dbfilename redis.rdb --repl-diskless-sync yes "
        "--repl-diskless-sync-delay 0 --logfile /tmp/restore.log >/dev/null 2>&1 &\n"
        "server=$!\n"
        "until [ \"$(redis-cli -p 6390 PING 2>/dev/null)\" = PONG ]; do\n"
        "  if ! kill -0 $server 2>/dev/null; then\n"
        "    echo \"the backup's redis.rdb does not load:\"; tail -5 /tmp/restore.log; exit 1\n"
        "  fi\n"
        "  sleep 0.1\n"
        "done\n"
        "trap 'r REPLICAOF NO ONE >/dev/null 2>&1; kill $server 2>/dev/null' EXIT\n"
        "trap 'exit 130' INT TERM\n"
        "r REPLICAOF \"$(hostname -i | awk '{{print $1}}')\" 6390 >/dev/null\n"
        "tries=0\n"
        "until r INFO replication | grep -q '^master_link_status:up'; do\n"
        "  tries=$((tries + 1))\n"
        "  if [ $tries -gt 36000 ] || ! kill -0 $server 2>/dev/null; then\n"
        "    echo 'the Redis of the environment did not take the copy:'; r INFO replication; "
        "exit 1\n"
        "  fi\n"
        "  sleep 0.1\n"
        "done\n"
        "keys() {{ sed -n 's/^\\(db[0-9]*:keys=[0-9]*\\).*/\\1/p'; }}\n"
        "want=\"$(redis-cli -p 6390 INFO keyspace | keys)\"; got=\"$(r INFO keyspace | keys)\"\n"
        "if [ \"$want\" != \"$got\" ]; then\n"
        "  echo \"the Redis of the environment holds $got, the backup $want\"; exit 1\n"
        "fi\n"
        "r REPLICAOF NO ONE >/dev/null\n",
        fmt::arg("host", endpoint.host));
}

std::string swap_script(const ServiceConfig& service, const Endpoint& endpoint) {
    if (service.kind != "postgres") {
        return "";
    }
    const std::string database = identifier(endpoint.scope);
    return fmt::format(
        "set -e\n{sql}"
        "sql -c \"ALTER DATABASE \\\"{db}\\\" WITH ALLOW_CONNECTIONS false\" -c \"SELECT "
        "pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> "
        "pg_backend_pid()\" >/dev/null\n"
        "if ! sql -c \"ALTER DATABASE \\\"{db}\\\" RENAME TO \\\"$3\\\"; ALTER DATABASE \\\"$2\\\" "
        "RENAME TO \\\"{db}\\\"\"; then\n"
        "  sql -c \"ALTER DATABASE \\\"{db}\\\" WITH ALLOW_CONNECTIONS true\"; exit 1\n"
        "fi\n"
        "sql -c \"DROP DATABASE \\\"$3\\\"\" || echo \"warning: the replaced database $3 was not "
        "dropped\"\n",
        fmt::arg("sql", admin_sql(endpoint)), fmt::arg("db", database));
}

std::string discard_script(const ServiceConfig& service, const Endpoint& endpoint) {
    if (service.kind != "postgres") {
        return "";
    }
    // A restore cut short may still be connected to it (its client gone, its server process
    // not yet): ended first, as DROP DATABASE ... WITH (FORCE) would (PostgreSQL 13 and later).
    return fmt::format(
        "{}sql -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$2' "
        "AND pid <> pg_backend_pid()\" >/dev/null\n"
        "sql -c \"DROP DATABASE IF EXISTS \\\"$2\\\"\"\n",
        admin_sql(endpoint));
}

std::vector<std::pair<std::string, std::string>> dump_variables(const ServiceConfig& service) {
    if (service.kind == "postgres") {
        return {{"PALLET_ADMIN_PASSWORD", service.admin_password}};
    }
    return {};
}

}  // namespace pallet::services
