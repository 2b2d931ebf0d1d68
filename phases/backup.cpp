#include "phases/backup.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>

#include "orchestrator/open.h"
#include "services/backup.h"
#include "state/history.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/text_table.h"

namespace pallet::phases {
namespace {

using nlohmann::ordered_json;

// The last step of every backup, in its last job: the tar of /storage, meta.json, the
// move from the hidden directory into the list (so that a backup cut short never shows), and
// the retention. "$1": the hidden directory, "$2": the ID, "$3": 1 for /storage, "$4": how many
// to keep, "$5": a backup kept whatever its age. Prints the size in KiB, then each it removed.
constexpr const char* k_finish_script =
    "set -e\n"
    "umask 077\n"
    "chmod 700 /backups\n"
    "mkdir -p \"$1\"\n"
    "if [ \"$3\" = 1 ]; then tar -C /storage -cf \"$1/storage.tar\" .; fi\n"
    "printf '%s\\n' \"$PALLET_BACKUP_META\" > \"$1/meta.json\"\n"
    "mv \"$1\" \"/backups/$2\"\n"
    "echo \"size $(du -sk \"/backups/$2\" | cut -f1)\"\n"
    "n=0\n"
    "for b in $(ls -1 /backups | grep -E '^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$' | sort -r); do\n"
    "  n=$((n + 1))\n"
    "  if [ \"$n\" -gt \"$4\" ] && [ \"$b\" != \"$5\" ]; then rm -rf \"/backups/$b\"; echo "
    "\"removed $b\"; fi\n"
    "done\n"
    // Left by backups cut short (a crash, a lost engine) a day ago or more.
    "find /backups -maxdepth 1 -name '.partial-*' -mmin +1440 -exec rm -rf {} + 2>/dev/null "
    "|| true\n";

// Every backup: "@ID SIZE_KIB", its meta.json, "version KIND V" of each server.
constexpr const char* k_list_script =
    "cd /backups 2>/dev/null || exit 0\n"
    "for b in $(ls -1 | grep -E '^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$' | sort -r); do\n"
    "  [ -f \"$b/meta.json\" ] || continue\n"
    "  echo \"@$b $(du -sk \"$b\" | cut -f1)\"\n"
    "  head -n 1 \"$b/meta.json\"\n"
    "  for v in \"$b\"/*.version; do\n"
    "    if [ -f \"$v\" ]; then echo \"version $(basename \"$v\" .version) $(head -n 1 \"$v\")\"; "
    "fi\n"
    "  done\n"
    "done\n";

constexpr const char* k_remove_script =
    "for b in \"$@\"; do [ -d \"/backups/$b\" ] || { echo \"$b\"; exit 3; }; done\n"
    "for b in \"$@\"; do rm -rf \"/backups/$b\"; done\n";

constexpr const char* k_discard_script = "rm -rf \"$1\"\n";

// The backup "$1" as a tar archive of its directory on stdout (3: there is none).
// "$1": the ID, or "" for the newest (5: there is none).
constexpr const char* k_export_script =
    "id=\"$1\"\n"
    "if [ -z \"$id\" ]; then\n"
    "  id=\"$(ls -1 /backups | grep -E '^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$' | sort | tail -n 1)\"\n"
    "  [ -n \"$id\" ] || exit 5\n"
    "fi\n"
    "[ -f \"/backups/$id/meta.json\" ] || exit 3\n"
    "exec tar -C /backups -cf - \"$id\"\n";

// An archive of backup export on stdin, into the hidden directory "$1": saved first and
// checked, as it comes from anywhere: one directory named as a backup, holding files of the
// names a backup's are (no link, no path of its own), each once. Prints the files, then its
// meta.json. 4: not such an archive.
constexpr const char* k_import_script =
    "set -e\n"
    "umask 077\n"
    "chmod 700 /backups\n"
    "mkdir -p \"$1/in\"\n"
    "cat > \"$1/archive.tar\"\n"
    "no() { echo \"$1\"; exit 4; }\n"
    "names=\"$(tar -tf \"$1/archive.tar\" 2>/dev/null)\" || no 'it is not a tar archive'\n"
    "top=\"$(printf '%s\\n' \"$names\" | head -n 1 | cut -d/ -f1)\"\n"
    "printf '%s\\n' \"$top\" | grep -Eqx '[0-9]{8}-[0-9]{6}-[0-9a-f]{4}' "
    "|| no 'it holds no backup directory'\n"
    "odd=\"$(printf '%s\\n' \"$names\" | grep -Evx "
    "\"$top/?|$top/(meta[.]json|storage[.]tar|[a-z]+[.](dump|version|rdb))\" || true)\"\n"
    "[ -z \"$odd\" ] || no \"it holds $(printf '%s\\n' \"$odd\" | head -n 1), which no backup "
    "does\"\n"
    "[ -z \"$(printf '%s\\n' \"$names\" | sed 's,/$,,' | sort | uniq -d)\" ] "
    "|| no 'it holds an entry twice'\n"
    "tar -C \"$1/in\" -xf \"$1/archive.tar\"\n"
    "rm \"$1/archive.tar\"\n"
    "[ -z \"$(find \"$1/in\" ! -type f ! -type d)\" ] || no 'it holds a link'\n"
    "[ -f \"$1/in/$top/meta.json\" ] || no 'it has no meta.json'\n"
    "for f in \"$1/in/$top\"/*; do mv \"$f\" \"$1/\"; done\n"
    "rm -rf \"$1/in\"\n"
    "cd \"$1\"; for f in *; do echo \"file $f\"; done\n"
    "head -n 1 meta.json\n";

std::string new_backup_id(double engine_now) {
    const auto now = static_cast<std::time_t>(engine_now);
    return fmt::format("{}-{}", util::utc_time(now, "%Y%m%d-%H%M%S"),
                       state::random_id().substr(0, 4));
}

// The provided services whose data a backup holds, that run now.
std::vector<std::string> backed_up_services(orchestrator::Orchestrator& opened,
                                            const state::Environment& env) {
    std::vector<std::string> kinds;
    for (const auto& [kind, service] : env.services) {
        if (!service.provisioned() || !services::backed_up(kind)) {
            continue;
        }
        // Made before this command (a service made just now holds nothing yet).
        const auto it = opened.state().services.find(kind);
        if (it != opened.state().services.end() && it->second != "not started" &&
            it->second != "external") {
            kinds.push_back(kind);
        }
    }
    return kinds;
}

std::string size_text(long long kib) {
    if (kib < 1024) {
        return fmt::format("{} KiB", kib);
    }
    if (kib < 1024 * 1024) {
        return fmt::format("{:.1f} MiB", static_cast<double>(kib) / 1024);
    }
    return fmt::format("{:.2f} GiB", static_cast<double>(kib) / (1024 * 1024));
}

state::Environment existing(Context& context, orchestrator::Orchestrator& opened,
                            const std::string& name) {
    if (!opened.state().settings) {
        return state::EnvironmentStore(context.docker).get(name);  // throws, with what to do
    }
    return *opened.state().settings;
}

// Runs the cleanup `script` on `arg`, whatever happens: a cleanup on the way out of a failure
// never hides the failure.
void clean_up(orchestrator::Orchestrator& opened, const state::Environment& env, const char* script,
              const std::string& arg) {
    const cancel::Shield shield;  // after a Ctrl-C too
    try {
        std::string ignored;
        opened.run_data_job(env, {"", script, {arg}, {}, false}, ignored);
    } catch (...) {
    }
}

// Removes the hidden directory `partial` of a backup that did not finish; what is left (the
// job failed too) is never listed, and goes with a later backup's retention.
void discard_partial(orchestrator::Orchestrator& opened, const state::Environment& env,
                     const std::string& partial) {
    clean_up(opened, env, k_discard_script, partial);
}

// The file of each part of a backup's contents.
std::string content_file(const std::string& what) {
    return what == "storage" ? "storage.tar" : services::dump_file(what);
}

ordered_json backup_meta(Context& context, const std::string& id, double time,
                         const state::Environment& env, const std::string& why,
                         const std::string& note, const std::string& version,
                         const std::string& image_id, const std::vector<std::string>& contents) {
    return {{"id", id},
            {"time", time},
            {"environment", env.name},
            {"why", why},
            {"note", note},
            {"version", version},
            {"image_id", image_id},
            {"contents", contents},
            {"by", context.actor_user + "@" + context.actor_host}};
}

}  // namespace

std::string job_output_tail(const std::string& output) {
    const auto lines = util::nonempty_lines(output);
    const size_t from = lines.size() > 10 ? lines.size() - 10 : 0;
    return util::join(
        std::vector<std::string>(lines.begin() + static_cast<long>(from), lines.end()), "\n");
}

Error no_such_backup(const Context& context, const std::string& env, const std::string& id) {
    return Error(fmt::format("{} has no backup {}; see {}", env, id,
                             context.command("pallet backup ls " + env)));
}

void check_backup_id(const std::string& id, const std::string& env, const std::string& path) {
    if (!is_backup_id(id)) {
        throw UsageError(fmt::format("\"{}\" is not a backup's ID (such as "
                                     "20261202-184650-1a2b); see docker pallet backup ls {}",
                                     id, env),
                         path);
    }
}

std::string content_name(const std::string& part) {
    if (part == "postgres") {
        return "PostgreSQL";
    }
    if (part == "redis") {
        return "Redis";
    }
    return part == "storage" ? "/storage" : part;
}

bool is_backup_id(const std::string& id) {
    static const std::regex k_form("[0-9]{8}-[0-9]{6}-[0-9a-f]{4}");
    return std::regex_match(id, k_form);
}

bool backs_up_before_deploy(orchestrator::Orchestrator& opened, const state::Environment& env) {
    return env.backup_before_deploy && !backed_up_services(opened, env).empty();
}

std::string take_backup(Context& context, orchestrator::Orchestrator& opened,
                        const state::Environment& env, const std::string& why,
                        const std::string& note, bool storage, const std::string& protect) {
    const double started = context.docker.engine_now();
    const std::string id = new_backup_id(started);
    const std::string partial = "/backups/.partial-" + id;
    const auto kinds = backed_up_services(opened, env);
    std::vector<std::string> left_out;
    for (const auto& [kind, service] : env.services) {
        if (!service.provisioned()) {
            left_out.push_back(kind + " (external: back it up where it runs)");
        } else if (!services::backed_up(kind)) {
            left_out.push_back(fmt::format("{} ({})", kind, services::why_not_backed_up(kind)));
        } else if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
            left_out.push_back(kind + " (it does not run)");
        }
    }
    std::vector<std::string> contents = kinds;
    if (storage) {
        contents.push_back("storage");
    }
    if (contents.empty()) {
        throw Error(
            fmt::format("nothing to back up: {} has no provided PostgreSQL or Redis that runs, and "
                        "--no-storage leaves /storage out",
                        env.name));
    }
    if (context.docker.dry_run()) {
        context.done("backup of {} ({}) into {}", env.name, util::join(contents, ", "),
                     opened.backups_place(env));
        return id;
    }
    if (!left_out.empty()) {
        context.note("docker-pallet: not in the backup: {}", util::join(left_out, "; "));
    }
    try {
        const auto* served = opened.state().served ? &*opened.state().served : nullptr;
        const ordered_json meta =
            backup_meta(context, id, started, env, why, note, served ? served->version : "",
                        served ? served->image_id : "", contents);
        // A job per service, in the server's own image; the last one also finishes (a job of
        // the router's image when there is no service): a container less per backup.
        std::vector<orchestrator::DataJob> jobs;
        for (const auto& kind : kinds) {
            const services::ServiceConfig& service = env.services.at(kind);
            orchestrator::DataJob job;
            job.service = kind;
            job.script =
                "set -e\numask 077\nmkdir -p \"$1\"\n" +
                services::dump_script(
                    service,
                    services::Endpoint{orchestrator::service_container(env.name, kind), env.name});
            job.env = services::dump_variables(service);
            jobs.push_back(job);
        }
        if (jobs.empty()) {
            jobs.emplace_back();
        }
        jobs.back().script += k_finish_script;
        jobs.back().storage = storage;
        jobs.back().env.emplace_back("PALLET_BACKUP_META", meta.dump());
        std::string output;
        for (size_t i = 0; i < jobs.size(); ++i) {
            const bool last = i + 1 == jobs.size();
            auto& job = jobs[i];
            job.args = {partial, id, storage ? "1" : "0", std::to_string(env.keep_backups),
                        protect};
            const std::string what = job.service.empty() ? std::string("/storage") : job.service;
            context.step("backing up {} of {}{}", what, env.name,
                         last && !job.service.empty() && storage ? " and /storage" : "");
            output.clear();
            if (const int code = opened.run_data_job(env, job, output); code != 0) {
                throw Error(
                    fmt::format("the backup of {}{} failed (exit {}):\n{}", what,
                                last && !job.service.empty() && storage ? " or /storage" : "", code,
                                job_output_tail(output)));
            }
        }
        std::string size;
        int removed = 0;
        for (const auto& line : util::nonempty_lines(output)) {
            removed += line.starts_with("removed ") ? 1 : 0;
            if (line.starts_with("size ")) {
                size = ", " + size_text(std::atoll(line.c_str() + 5));
            }
        }
        context.outcome("backup {} of {} taken ({}{}){}", id, env.name, util::join(contents, ", "),
                        size,
                        removed == 0 ? "" : fmt::format("; {} older one(s) removed", removed));
    } catch (...) {
        discard_partial(opened, env, partial);
        throw;
    }
    return id;
}

std::vector<BackupInfo> list_backups(Context& context, orchestrator::Orchestrator& opened,
                                     const state::Environment& env) {
    (void)context;
    std::string output;
    if (const int code = opened.run_data_job(env, {"", k_list_script, {}, {}, false}, output);
        code != 0) {
        throw Error(fmt::format("could not list the backups of {} (exit {}):\n{}", env.name, code,
                                job_output_tail(output)));
    }
    std::vector<BackupInfo> backups;
    for (const auto& line : util::nonempty_lines(output)) {
        if (line.front() == '@') {
            BackupInfo info;
            const auto space = line.find(' ');
            info.id = line.substr(1, space - 1);
            if (space != std::string::npos) {
                info.size_kib = std::atoll(line.c_str() + space + 1);
            }
            backups.push_back(info);
        } else if (backups.empty()) {
            continue;
        } else if (line.starts_with("version ")) {
            const auto parts = util::split(line, ' ');
            if (parts.size() >= 3) {
                backups.back().server_versions[parts[1]] = parts[2];
            }
        } else {
            const auto meta = ordered_json::parse(line, nullptr, false);
            if (meta.is_discarded() || !meta.is_object()) {
                continue;
            }
            BackupInfo& info = backups.back();
            info.time = meta.value("time", 0.0);
            info.why = meta.value("why", "");
            info.note = meta.value("note", "");
            info.version = meta.value("version", "");
            info.image_id = meta.value("image_id", "");
            info.contents = meta.value("contents", std::vector<std::string>{});
        }
    }
    return backups;
}

int run_backup(Context& context, const BackupOptions& options) {
    state::validate_env_name(options.env, "docker pallet backup");
    if (!util::is_one_line(options.note, 200)) {
        throw UsageError("--note: one line of at most 200 characters", "docker pallet backup");
    }
    auto opened = orchestrator::open(context, options.env);
    existing(context, *opened, options.env);
    const state::Environment env = opened->ensure();  // its network and volumes
    const std::string id =
        take_backup(context, *opened, env, "by hand", options.note, options.storage);
    if (!context.docker.dry_run()) {
        context.result(id);
    }
    return 0;
}

int run_backup_ls(Context& context, const std::string& name, Format format) {
    state::validate_env_name(name, "docker pallet backup ls");
    auto opened = orchestrator::open(context, name);
    const state::Environment env = existing(context, *opened, name);
    const auto backups = list_backups(context, *opened, env);
    if (format == Format::json) {
        ordered_json list = ordered_json::array();
        for (const auto& backup : backups) {
            list.push_back({{"ID", backup.id},
                            {"Time", util::utc_time(static_cast<std::time_t>(backup.time),
                                                    "%Y-%m-%dT%H:%M:%SZ")},
                            {"Why", backup.why},
                            {"Note", backup.note},
                            {"Version", backup.version},
                            {"ImageID", backup.image_id},
                            {"Contents", backup.contents},
                            {"ServerVersions", backup.server_versions},
                            {"SizeBytes", backup.size_kib * 1024}});
        }
        fmt::print("{}\n", list.dump(2));
        return 0;
    }
    util::TextTable table({"ID", "CREATED", "VERSION", "WHY", "SIZE", "CONTENTS"});
    const double now = context.docker.engine_now();
    for (const auto& backup : backups) {
        table.add_row({backup.id, state::time_ago(backup.time, now),
                       backup.version.empty() ? "-" : backup.version,
                       backup.note.empty() ? backup.why : backup.why + ": " + backup.note,
                       size_text(backup.size_kib),
                       backup.contents.empty() ? "-" : util::join(backup.contents, ",")});
    }
    fmt::print("{}", table.render());
    return 0;
}

int run_backup_rm(Context& context, const std::string& name, const std::vector<std::string>& ids) {
    state::validate_env_name(name, "docker pallet backup rm");
    for (const auto& id : ids) {
        check_backup_id(id, name, "docker pallet backup rm");
    }
    auto opened = orchestrator::open(context, name);
    const state::Environment env = existing(context, *opened, name);
    if (context.docker.dry_run()) {
        context.done("removal of the backup(s) {} of {}", util::join(ids, " "), env.name);
        return 0;
    }
    std::string output;
    const int code = opened->run_data_job(env, {"", k_remove_script, ids, {}, false}, output);
    if (code == 3) {
        throw no_such_backup(context, env.name, util::trim(output));
    }
    if (code != 0) {
        throw Error(fmt::format("could not remove the backup(s) of {} (exit {}):\n{}", env.name,
                                code, job_output_tail(output)));
    }
    context.done("removed the backup(s) {} of {}", util::join(ids, " "), env.name);
    return 0;
}

bool export_backup(Context& context, orchestrator::Orchestrator& opened,
                   const state::Environment& env, const std::string& id, const std::string& file) {
    orchestrator::DataJob job{"", k_export_script, {id}, {}, false};
    job.output_to_stdout = true;
    job.output_file = file;
    std::string output;
    const int code = opened.run_data_job(env, job, output);
    if (code == 5 && id.empty()) {
        return false;
    }
    if (code == 3) {
        throw no_such_backup(context, env.name, id);
    }
    if (code != 0) {
        throw Error(fmt::format("the export of the backup {} of {} failed (exit {}):\n{}", id,
                                env.name, code, job_output_tail(output)));
    }
    return true;
}

int run_backup_export(Context& context, const std::string& name, const std::string& id) {
    const std::string path = "docker pallet backup export";
    state::validate_env_name(name, path);
    check_backup_id(id, name, path);
    auto opened = orchestrator::open(context, name);
    const state::Environment env = existing(context, *opened, name);
    export_backup(context, *opened, env, id, "");
    context.done("exported the backup {} of {}", id, env.name);
    return 0;
}

void discard_backup(orchestrator::Orchestrator& opened, const state::Environment& env,
                    const std::string& id) {
    clean_up(opened, env, k_remove_script, id);  // if it fails, listed still: backup rm removes it
}

std::string import_backup(Context& context, orchestrator::Orchestrator& opened,
                          const state::Environment& env, const std::string& file,
                          const std::string& shown) {
    const std::string from = !shown.empty() ? shown : file == "-" ? std::string("stdin") : file;
    const double now = context.docker.engine_now();
    const std::string id = new_backup_id(now);
    const std::string partial = "/backups/.partial-" + id;
    if (context.docker.dry_run()) {
        context.done("import of {} as a backup of {}", from, env.name);
        return id;
    }
    context.step("importing {} as a backup of {}", from, env.name);
    try {
        orchestrator::DataJob job{"", k_import_script, {partial}, {}, false};
        job.input = file;
        std::string output;
        const int code = opened.run_data_job(env, job, output);
        if (code == 4) {
            throw Error(fmt::format("{} is not an archive of docker pallet backup export: {}", from,
                                    util::trim(job_output_tail(output))));
        }
        if (code != 0) {
            throw Error(fmt::format("the import of {} failed (exit {}):\n{}", from, code,
                                    job_output_tail(output)));
        }
        std::vector<std::string> files;
        ordered_json original;
        for (const auto& line : util::nonempty_lines(output)) {
            if (line.starts_with("file ")) {
                files.push_back(line.substr(5));
            } else if (line.front() == '{') {
                original = ordered_json::parse(line, nullptr, false);
            }
        }
        if (!original.is_object() || !original.contains("contents") ||
            !original["contents"].is_array()) {
            throw Error(
                fmt::format("{} is not an archive of docker pallet backup export: its "
                            "meta.json says nothing of what it holds",
                            from));
        }
        std::vector<std::string> contents;
        for (const auto& part : original["contents"]) {
            const std::string what = part.is_string() ? part.get<std::string>() : "";
            const bool known = what == "storage" || services::backed_up(what);
            if (!known ||
                std::find(files.begin(), files.end(), content_file(what)) == files.end()) {
                throw Error(fmt::format(
                    "{} is not an archive of docker pallet backup export: it says it holds {}, "
                    "and has no {}",
                    from, what.empty() ? "something unnamed" : what,
                    known ? content_file(what) : "file of it"));
            }
            contents.push_back(what);
        }
        // Words of a file from anywhere: no control character reaches the terminal.
        const auto text = [&](const char* key) {
            std::string value = original.contains(key) && original[key].is_string()
                                    ? original[key].get<std::string>()
                                    : std::string();
            std::erase_if(value, [](char c) { return static_cast<unsigned char>(c) < 0x20; });
            return value.substr(0, 300);
        };
        const std::string source = fmt::format(
            "imported from {}'s backup {}", text("environment").empty() ? "?" : text("environment"),
            text("id").empty() ? "?" : text("id"));
        orchestrator::DataJob finish{"", k_finish_script, {}, {}, false};
        finish.args = {partial, id, "0", std::to_string(env.keep_backups), id};
        finish.env.emplace_back("PALLET_BACKUP_META",
                                backup_meta(context, id, now, env, source, text("note"),
                                            text("version"), text("image_id"), contents)
                                    .dump());
        if (const int done = opened.run_data_job(env, finish, output); done != 0) {
            throw Error(fmt::format("the import of {} failed (exit {}):\n{}", from, done,
                                    job_output_tail(output)));
        }
        context.outcome("{} is the backup {} of {} ({}; {})", from, id, env.name, source,
                        util::join(contents, ", "));
    } catch (...) {
        discard_partial(opened, env, partial);
        throw;
    }
    return id;
}

}  // namespace pallet::phases
