#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "phases/use_case.h"
#include "util/error.h"

namespace pallet::orchestrator {
class Orchestrator;
}

// Backups of an environment's provided data (PostgreSQL, Redis) and /storage, kept on the
// engine beside the environment (Orchestrator::run_data_job writes them at /backups): one
// directory per backup, named by its ID, with a meta.json that `backup ls` reads, so that every
// client that reaches the engine sees the same.
namespace pallet::phases {

struct BackupOptions {
    std::string env;
    std::string note;
    bool storage = true;  // a tar of /storage too
};

// A backup as `backup ls` shows it.
struct BackupInfo {
    std::string id;   // 20261202-184650-1a2b: the engine's UTC time, then a random part
    double time = 0;  // the engine's clock
    std::string why;  // "by hand", "before deploy of shop:2"
    std::string note;
    std::string version;  // served when it was taken ("" when none was)
    std::string image_id;
    std::vector<std::string> contents;                   // postgres, redis, storage
    std::map<std::string, std::string> server_versions;  // postgres: 160004
    long long size_kib = 0;
    bool holds(const std::string& what) const {
        return std::find(contents.begin(), contents.end(), what) != contents.end();
    }
};

// A part of a backup's contents as a sentence says it: PostgreSQL, Redis, /storage.
std::string content_name(const std::string& part);

// True when `id` has the form of a backup's ID (the only form a path is ever built from).
bool is_backup_id(const std::string& id);
// Refuses (UsageError of `path`) an `id` of another form, saying where the IDs of `env` are.
void check_backup_id(const std::string& id, const std::string& env, const std::string& path);
// The error for a backup `id` that `env` does not have, with where its backups are listed.
Error no_such_backup(const Context& context, const std::string& env, const std::string& id);
// The last lines of a data job's output, for an error.
std::string job_output_tail(const std::string& output);

// `docker pallet backup ENV`: a backup, taken while the environment serves. Prints its ID.
int run_backup(Context& context, const BackupOptions& options);
// `docker pallet backup ls ENV`: the environment's backups, newest first.
int run_backup_ls(Context& context, const std::string& env, Format format);
// `docker pallet backup rm ENV ID...`.
int run_backup_rm(Context& context, const std::string& env, const std::vector<std::string>& ids);
// `docker pallet backup export ENV ID`: the backup as a tar archive on stdout, the form
// import_backup takes.
int run_backup_export(Context& context, const std::string& env, const std::string& id);

// Writes the backup `id` of `env` ("": its newest) as backup export's archive into `file` ("":
// stdout); false when `id` is "" and there is no backup.
bool export_backup(Context& context, orchestrator::Orchestrator& opened,
                   const state::Environment& env, const std::string& id, const std::string& file);
// Takes the archive `file` (backup export's; "-": stdin; messages call it `shown` when given) in
// as a new backup of `env` ("imported
// from ENV's backup ID") and returns its ID. Refuses an archive of any other form (nothing is
// left of it then).
std::string import_backup(Context& context, orchestrator::Orchestrator& opened,
                          const state::Environment& env, const std::string& file,
                          const std::string& shown = "");
// Removes a backup, saying nothing (an import a refused restore leaves).
void discard_backup(orchestrator::Orchestrator& opened, const state::Environment& env,
                    const std::string& id);

// Takes a backup of `env` (its provided PostgreSQL and Redis that run, /storage when
// `storage`) and applies its retention (never to `protect`, the backup a restore is about to
// take back); returns the backup's ID. Throws an Error saying which part failed; a failed backup
// leaves nothing in the list.
std::string take_backup(Context& context, orchestrator::Orchestrator& opened,
                        const state::Environment& env, const std::string& why,
                        const std::string& note, bool storage, const std::string& protect = "");

// The environment's backups, newest first.
std::vector<BackupInfo> list_backups(Context& context, orchestrator::Orchestrator& opened,
                                     const state::Environment& env);

// True when a deploy of `env` takes a backup first: it has provided data that runs, and its
// settings ask for one.
bool backs_up_before_deploy(orchestrator::Orchestrator& opened, const state::Environment& env);

}  // namespace pallet::phases
