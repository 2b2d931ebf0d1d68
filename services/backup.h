#pragma once

#include <string>
#include <utility>
#include <vector>

#include "services/catalog.h"

// How the data of a provided service is saved into a backup: a shell script for a new container
// of the service's own image (the server's own version of its client), beside the service on
// the environment's network. The scripts hold no secret: they read passwords from the
// variables of dump_variables, which the orchestrator keeps off command lines.
namespace pallet::services {

// True when a backup holds the data of a provided service of this kind: PostgreSQL and Redis.
// The others hold nothing to restore (memcache is a cache, smtp a catcher) or are not backed up
// yet (rabbitmq's queues, elasticsearch's indexes): why_not_backed_up says which.
bool backed_up(const std::string& kind);
// "a cache", "messages in flight": why a provided service of this kind is not backed up.
std::string why_not_backed_up(const std::string& kind);

// The file a backup keeps the service's data in ("postgres.dump", "redis.rdb").
std::string dump_file(const std::string& kind);

// A script that writes the service's data into the directory "$1" (dump_file in it) and the
// server's version into "$1/KIND.version"; it fails (not 0) when it could not.
// PostgreSQL: pg_dump in its custom format as the server's admin, one transaction;
// Redis: the server's RDB (redis-cli --rdb: the server forks and writes it, as for BGSAVE).
std::string dump_script(const ServiceConfig& service, const Endpoint& endpoint);

// A script that prints the server's version as dump_script records it (PostgreSQL's
// server_version_num), to check a backup against before a restore.
std::string version_script(const ServiceConfig& service, const Endpoint& endpoint);

// True when a server of version `server` can take back data dumped from one of version
// `dumped` (as version_script prints them): PostgreSQL, not from a newer major version.
bool restorable(const std::string& kind, const std::string& dumped, const std::string& server);

// A script that restores "$1/dump_file" into a new database "$2" beside the application's, owned
// by its role; it leaves the application's database as it is. PostgreSQL only.
std::string restore_script(const ServiceConfig& service, const Endpoint& endpoint);
// A script that puts "$1/redis.rdb" in the place of what the environment's Redis holds, whole:
// a server of the job loads it (a file it cannot load stops here, the Redis untouched), and the
// environment's server takes it as that server's replica, which keeps its own data until the
// copy has all come, then stops being one. Redis only.
std::string redis_restore_script(const Endpoint& endpoint);
// Puts the database "$2" made by restore_script in the application's place in one transaction
// (the application's connections ended first), then drops the one it replaced (renamed "$3").
std::string swap_script(const ServiceConfig& service, const Endpoint& endpoint);
// Drops the database "$2" of a restore that did not go through.
std::string discard_script(const ServiceConfig& service, const Endpoint& endpoint);

// The variables dump_script reads (passwords).
std::vector<std::pair<std::string, std::string>> dump_variables(const ServiceConfig& service);

}  // namespace pallet::services
