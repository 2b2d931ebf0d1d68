// Backups before a deploy, against each orchestrator of the fake engine: taken first, in the
// provided service's own image, with no password on a command line; a failed one stops the
// deploy; --no-backup and the setting go without.
#include "phases/backup.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "phases/release.h"
#include "phases/restore.h"
#include "services/backup.h"
#include "use_case_fixture.h"
#include "util/cancel.h"

namespace pallet::phases {
namespace {

class Backups : public UseCase {
  protected:
    // "shop" with a provided PostgreSQL that runs already (made by an earlier deploy).
    void create_with_postgres(bool before_deploy = true) {
        create_with({"postgres"}, before_deploy);
    }
    // ...with provided services of these kinds, each running.
    void create_with(const std::vector<std::string>& kinds, bool before_deploy = true) {
        state::Environment env;
        env.backup_before_deploy = before_deploy;
        for (const auto& kind : kinds) {
            env.services[kind] = {kind, "", "AppSecret42",
                                  kind == "postgres" ? "AdminSecret42" : ""};
        }
        create("shop", env);
        engine.images["nginx:stable-alpine"] = "sha256:router";  // jobs of no service run in it
        for (const auto& kind : kinds) {
            const std::string image = kind == "postgres" ? "pg:16" : "redis:7";
            const std::map<std::string, std::string> labels = {
                {state::label::k_managed, "true"},
                {state::label::k_env, "shop"},
                {state::label::k_phase, state::phase::k_service},
                {state::label::k_service, kind}};
            if (!swarm()) {
                auto& server = engine.add("pallet-shop-" + kind, labels, "running");
                server.image = image;
                server.image_id = kind == "postgres" ? "sha256:pg16" : "sha256:redis";
                continue;
            }
            std::vector<std::string> create = {"service", "create", "--name",
                                               "pallet-shop-" + kind};
            for (const auto& [key, value] : labels) {
                create.insert(create.end(), {"--label", key + "=" + value});
            }
            create.push_back(image);
            docker::Command command;
            engine.swarm.answer(create, command);
        }
    }
    // Where in the commands the first data job and the deploy ran (-1: never).
    int first(const std::function<bool(const std::vector<std::string>&)>& is) const {
        for (size_t i = 0; i < engine.commands.size(); ++i) {
            if (is(engine.commands[i])) {
                return static_cast<int>(i);
            }
        }
        return -1;
    }
    static bool data_job(const std::vector<std::string>& args) {
        return args.size() > 2 && args[0] == "container" && args[1] == "run" &&
               std::find(args.begin(), args.end(), "--entrypoint") != args.end() &&
               std::any_of(args.begin(), args.end(), [](const std::string& arg) {
                   return arg.find("pallet-shop-backup-") == 0;
               });
    }
    // The script of a data job ("" for any other command).
    static std::string script_of(const std::vector<std::string>& args) {
        const auto c = std::find(args.begin(), args.end(), "-c");
        return data_job(args) && c != args.end() && c + 1 != args.end() ? *(c + 1) : "";
    }
    // The data jobs that ran from the command `from` on, by index.
    std::vector<size_t> data_jobs(size_t from = 0) const {
        std::vector<size_t> found;
        for (size_t i = from; i < engine.commands.size(); ++i) {
            if (data_job(engine.commands[i])) {
                found.push_back(i);
            }
        }
        return found;
    }
    // Backups as the listing job prints them, newest first: one by hand after the deploy of
    // shop:2, the one that deploy took, and the one of shop:1's.
    void list_three_backups() {
        engine.printed = [](const std::vector<std::string>& args) -> std::string {
            if (script_of(args).find("sort -r") == std::string::npos) {
                return "";
            }
            return "@20261125-115000-bbbb 5\n"
                   "{\"id\":\"20261125-115000-bbbb\",\"time\":1795607400,\"why\":\"by hand\","
                   "\"contents\":[\"postgres\"]}\n"
                   "@20261125-110000-aaaa 12\n"
                   "{\"id\":\"20261125-110000-aaaa\",\"time\":1795604400,"
                   "\"why\":\"before deploy of shop:2\",\"contents\":[\"postgres\"]}\n"
                   "@20261125-100000-cccc 12\n"
                   "{\"id\":\"20261125-100000-cccc\",\"time\":1795600800,"
                   "\"why\":\"before deploy of shop:1\",\"contents\":[\"postgres\"]}\n";
        };
    }
    // After a restore cut short (commands from `from` on): the database beside and the backup of
    // what it would have replaced went again (taken while the restore ran beside, it went as a
    // backup or, cut short itself, as the partial one it still was), and the site is out of
    // maintenance. `cancelled`: a Ctrl-C may have come before that backup began at all.
    void expect_undone(size_t from, bool cancelled = false) {
        std::string before;  // the backup of what the restore would replace
        int restored = -1;
        int dropped = -1;
        int removed = -1;
        for (const size_t job : data_jobs(from)) {
            const auto& args = engine.commands[job];
            const std::string script = script_of(args);
            if (script.find("mv \"$1\" \"/backups/$2\"") != std::string::npos) {
                const auto partial = std::find_if(args.begin(), args.end(), [](const auto& arg) {
                    return arg.rfind("/backups/.partial-", 0) == 0;
                });
                ASSERT_TRUE(partial != args.end() && partial + 3 < args.end());
                before = *(partial + 1);
                EXPECT_EQ(*(partial + 3), "11") << "on top of the 10 kept: it costs no backup";
            } else if (script.find("pg_restore") != std::string::npos) {
                restored = static_cast<int>(job);

            } else if (script.find("DROP DATABASE IF EXISTS") != std::string::npos) {
                dropped = static_cast<int>(job);
                EXPECT_NE(script.find("pg_terminate_backend"), std::string::npos)
                    << "a restore cut short may still hold it";
            } else if (!before.empty() &&
                       (std::find(args.begin(), args.end(), before) != args.end() ||
                        std::find(args.begin(), args.end(), "/backups/.partial-" + before) !=
                            args.end())) {
                removed = static_cast<int>(job);
            }
        }
        ASSERT_NE(restored, -1);
        EXPECT_GT(dropped, restored) << "the database beside goes";
        if (!cancelled || !before.empty()) {
            ASSERT_FALSE(before.empty()) << "what it replaces is kept first";
            EXPECT_GT(removed, restored) << "and the backup of what is still there";
        }
        EXPECT_FALSE(state::EnvironmentStore(docker).get("shop").maintenance)
            << "the site serves again";
    }
    bool deploy_started(const std::vector<std::string>& args) const {
        const std::string name = swarm() ? "pallet-shop-deploy-" : "pallet-shop-deploy";
        return args.size() > 3 && (args[0] == "container" || args[0] == "service") &&
               (args[1] == "run" || args[1] == "create") &&
               std::any_of(args.begin(), args.end(),
                           [&](const std::string& arg) { return arg.find(name) == 0; });
    }
};
INSTANTIATE_TEST_SUITE_P(BothOrchestrators, Backups, ::testing::Values(Kind::engine, Kind::swarm),
                         kind_name);

TEST_P(Backups, ADeployTakesOneFirstInTheServersOwnImageWithNoPasswordOnACommandLine) {
    create_with_postgres();
    EXPECT_EQ(deploy({"shop", "shop:2", std::nullopt}, image("shop:2")), 0);
    const int job = first(data_job);
    const int deploy_at = first([&](const auto& args) { return deploy_started(args); });
    ASSERT_GE(job, 0) << "a backup was taken";
    ASSERT_GE(deploy_at, 0) << "and the deploy ran";
    EXPECT_LT(job, deploy_at) << "the backup comes first";
    const auto& args = engine.commands[job];
    EXPECT_NE(std::find(args.begin(), args.end(), swarm() ? "pg:16" : "sha256:pg16"), args.end())
        << "in the image the server runs (its own pg_dump)";
    const std::string script = args[args.size() - 7];  // -c SCRIPT job DIR ID 1 KEEP PROTECT
    EXPECT_NE(script.find("pg_dump"), std::string::npos) << script;
    EXPECT_NE(script.find("--format=custom"), std::string::npos) << script;
    for (const auto& command : engine.commands) {
        for (const auto& arg : command) {
            EXPECT_EQ(arg.find("AppSecret42"), std::string::npos) << "on a command line: " << arg;
            EXPECT_EQ(arg.find("AdminSecret42"), std::string::npos) << "on a command line: " << arg;
        }
    }
}

TEST_P(Backups, AFailedBackupStopsTheDeployAndSaysHowToGoWithout) {
    create_with_postgres();
    engine.exit_code = 1;  // the dump fails
    const std::string error = error_of([&] {
        deploy({"shop", "shop:2", std::nullopt}, image("shop:2"));
    });
    EXPECT_NE(error.find("the backup of postgres"), std::string::npos) << error;
    EXPECT_NE(error.find("docker pallet deploy --no-backup shop shop:2"), std::string::npos)
        << error;
    EXPECT_EQ(first([&](const auto& args) { return deploy_started(args); }), -1)
        << "the deploy did not run";
    EXPECT_TRUE(deploys().empty());
}

TEST_P(Backups, NoBackupThisOnceOrByTheSettingTakesNone) {
    create_with_postgres();
    DeployOptions options{"shop", "shop:2", std::nullopt};
    options.no_backup = true;
    EXPECT_EQ(deploy(options, image("shop:2")), 0);
    EXPECT_EQ(first(data_job), -1) << "--no-backup";
}

TEST_P(Backups, TheSettingTurnsThemOff) {
    create_with_postgres(false);
    EXPECT_EQ(deploy({"shop", "shop:2", std::nullopt}, image("shop:2")), 0);
    EXPECT_EQ(first(data_job), -1) << "env update --no-backup-before-deploy";
}

TEST_P(Backups, AnEnvironmentWithoutProvidedDataTakesNoneBeforeADeploy) {
    create("shop");
    EXPECT_EQ(deploy({"shop", "shop:2", std::nullopt}, image("shop:2")), 0);
    EXPECT_EQ(first(data_job), -1);
}

TEST_P(Backups, AnExportStreamsTheArchiveToStdoutInOneJob) {
    create_with_postgres();
    const size_t from = engine.commands.size();
    EXPECT_EQ(run_backup_export(context, "shop", "20261125-110000-aaaa"), 0);
    const auto jobs = data_jobs(from);
    ASSERT_EQ(jobs.size(), 1u);
    const auto& args = engine.commands[jobs[0]];
    EXPECT_EQ(engine.outputs[jobs[0]], docker::Output::data) << "its stdout is the plugin's";
    EXPECT_NE(script_of(args).find("tar -C /backups -cf - \"$id\""), std::string::npos);
    EXPECT_EQ(args.back(), "20261125-110000-aaaa");
    EXPECT_EQ(std::find(args.begin(), args.end(), "--interactive"), args.end()) << "reads nothing";

    engine.exit_code = 3;  // no such backup
    const std::string error =
        error_of([&] { run_backup_export(context, "shop", "20261125-110000-aaaa"); });
    EXPECT_NE(error.find("shop has no backup 20261125-110000-aaaa"), std::string::npos) << error;
    EXPECT_NE(error_of([&] { run_backup_export(context, "shop", "../../etc"); }), "");
}

TEST_P(Backups, AnArchiveThatIsNoBackupIsRefusedAndLeavesNothingBehind) {
    create_with_postgres();
    const std::string file = ::testing::TempDir() + "/not-a-backup.tar";
    std::ofstream(file) << "not a tar archive";
    engine.exit_code = 4;
    engine.printed = [](const std::vector<std::string>& args) {
        return script_of(args).find("archive.tar") != std::string::npos
                   ? std::string("it is not a tar archive\n")
                   : std::string();
    };
    const size_t from = engine.commands.size();
    const std::string error = error_of([&] {
        run_restore(context, RestoreOptions{"shop", "", file});
    });
    std::remove(file.c_str());
    EXPECT_NE(error.find(file + " is not an archive of docker pallet backup export: it is not a "
                                "tar archive"),
              std::string::npos)
        << error;
    const auto jobs = data_jobs(from);
    ASSERT_EQ(jobs.size(), 2u) << "the import, then the discard of what it saved";
    const auto& import = engine.commands[jobs[0]];
    EXPECT_EQ(engine.input_files[jobs[0]], file) << "read as it goes, not held in memory";
    EXPECT_NE(std::find(import.begin(), import.end(), "--interactive"), import.end())
        << "docker passes its stdin on";
    const std::string partial = import.back();
    EXPECT_EQ(partial.find("/backups/.partial-"), 0u) << partial;
    EXPECT_TRUE(script_of(engine.commands[jobs[1]]).ends_with("\nrm -rf \"$1\"\n") ||
                script_of(engine.commands[jobs[1]]) == "rm -rf \"$1\"\n");
    EXPECT_EQ(engine.commands[jobs[1]].back(), partial);
    EXPECT_EQ(engine.find("pallet-shop-router"), nullptr) << "no maintenance page went up";
}

TEST_P(Backups, RollbackWithTheDataNamesTheBackupOfBeforeTheDeployAndAsksFirst) {
    create_with_postgres();
    ASSERT_EQ(run_release(context, {"shop", "shop:1", std::nullopt}, std::nullopt), 0);
    ASSERT_EQ(run_release(context, {"shop", "shop:2", std::nullopt}, std::nullopt), 0);
    list_three_backups();
    const size_t from = engine.commands.size();

    std::string error;
    try {
        run_rollback(context, RollbackOptions{"shop", std::nullopt, true, false});
    } catch (const UsageError& e) {
        error = e.what();
    }
    EXPECT_NE(error.find("no terminal to ask: confirm with --yes"), std::string::npos) << error;

    std::vector<std::string> asked;
    context.ask = [&](const std::string& question) {
        asked.push_back(question);
        return false;
    };
    ::testing::internal::CaptureStderr();
    const int code = run_rollback(context, RollbackOptions{"shop", std::nullopt, true, false});
    const std::string said = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(code, 1);
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_NE(said.find("restores the backup 20261125-110000-aaaa of shop, taken before the "
                        "deploy of shop:2"),
              std::string::npos)
        << "not the newer one by hand\n"
        << said;
    EXPECT_NE(said.find("(2026-11-25 11:00:00 UTC, 1h00m ago), then serves shop:1"),
              std::string::npos)
        << said;
    EXPECT_NE(
        said.find("everything written to its PostgreSQL since 2026-11-25 11:00:00 UTC is lost"),
        std::string::npos)
        << "what the backup holds, by name\n"
        << said;
    for (const size_t job : data_jobs(from)) {
        EXPECT_NE(script_of(engine.commands[job]).find("sort -r"), std::string::npos)
            << "only listings ran, nothing restored:\n"
            << script_of(engine.commands[job]);
    }
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 1}}));
}

TEST_P(Backups, RollbackWithTheDataNeedsTheBackupTheDeployTook) {
    create_with_postgres();
    ASSERT_EQ(run_release(context, {"shop", "shop:1", std::nullopt}, std::nullopt), 0);
    DeployOptions without{"shop", "shop:2", std::nullopt};
    without.no_backup = true;
    ASSERT_EQ(run_release(context, without, std::nullopt), 0);
    engine.printed = nullptr;  // no backup at all
    const std::string error = error_of([&] {
        run_rollback(context, RollbackOptions{"shop", std::nullopt, true, true});
    });
    EXPECT_NE(error.find("no backup taken before the deploy of shop:2"), std::string::npos)
        << error;
    EXPECT_NE(error.find("docker pallet rollback shop"), std::string::npos) << error;
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 1}}));
}

// A listing of one backup that holds `contents` (a JSON array).
std::function<std::string(const std::vector<std::string>&)> one_backup(
    const std::string& contents) {
    return [contents](const std::vector<std::string>& args) -> std::string {
        const auto c = std::find(args.begin(), args.end(), "-c");
        if (c == args.end() || c + 1 == args.end() ||
            (c + 1)->find("sort -r") == std::string::npos) {
            return "";
        }
        return "@20261125-110000-aaaa 5\n{\"id\":\"20261125-110000-aaaa\",\"time\":1795604400,"
               "\"why\":\"by hand\",\"contents\":" +
               contents + "}\n";
    };
}

TEST_P(Backups, RedisIsRestoredInItsOwnImageAfterTheBackupOfWhatItHolds) {
    create_with({"redis"});
    engine.printed = one_backup("[\"redis\"]");
    const size_t from = engine.commands.size();
    ::testing::internal::CaptureStderr();
    const std::string before =
        restore_backup(context, RestoreOptions{"shop", "20261125-110000-aaaa"});
    const std::string said = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(before.empty()) << said;
    EXPECT_EQ(said.find("not restored"), std::string::npos) << said;
    int dumped = -1;
    int restored = -1;
    for (const size_t job : data_jobs(from)) {
        const std::string script = script_of(engine.commands[job]);
        const auto& args = engine.commands[job];
        if (script.find("redis-cli -h pallet-shop-redis --rdb") != std::string::npos) {
            dumped = static_cast<int>(job);
        }
        if (script.find("REPLICAOF") != std::string::npos) {
            restored = static_cast<int>(job);
            EXPECT_TRUE(std::find(args.begin(), args.end(), "redis:7") != args.end() ||
                        std::find(args.begin(), args.end(), "sha256:redis") != args.end())
                << "the server's own image";
            EXPECT_NE(std::find(args.begin(), args.end(), "/backups/20261125-110000-aaaa"),
                      args.end());
        }
    }
    ASSERT_NE(restored, -1) << "no job took the backup's Redis back";
    EXPECT_NE(dumped, -1) << "what the Redis held is not kept first";
    EXPECT_LT(dumped, restored);
    EXPECT_NE(said.find("what it replaced is the backup " + before), std::string::npos) << said;
}

// A restore cut short, by a failure or a Ctrl-C during its pg_restore: the database beside and the
// backup of what it would replace go, and the site serves again.
TEST_P(Backups, AFailedRestoreDiscardsWhatItMadeAndTheBackupOfWhatIsStillThere) {
    create_with_postgres();
    engine.printed = one_backup("[\"postgres\"]");
    engine.before = [this](const std::vector<std::string>& args) {
        engine.exit_code = script_of(args).find("pg_restore") != std::string::npos ? 1 : 0;
    };
    const size_t from = engine.commands.size();
    ::testing::internal::CaptureStderr();
    EXPECT_THROW(restore_backup(context, RestoreOptions{"shop", "20261125-110000-aaaa"}), Error);
    ::testing::internal::GetCapturedStderr();
    engine.before = nullptr;
    engine.exit_code = 0;
    expect_undone(from);
}

TEST_P(Backups, ACtrlCDuringARestoreWaitsForItsCleanup) {
    create_with_postgres();
    engine.printed = one_backup("[\"postgres\"]");
    struct Reset {
        ~Reset() { cancel::reset(); }
    } reset;
    // As the process runner does: once cancelled, a command is stopped, unless shielded.
    engine.before = [](const std::vector<std::string>& args) {
        if (script_of(args).find("pg_restore") != std::string::npos) {
            cancel::request();
        }
        if (cancel::requested() && !cancel::shielded()) {
            throw Cancelled();
        }
    };
    const size_t from = engine.commands.size();
    ::testing::internal::CaptureStderr();
    EXPECT_THROW(restore_backup(context, RestoreOptions{"shop", "20261125-110000-aaaa"}),
                 Cancelled);
    ::testing::internal::GetCapturedStderr();
    engine.before = nullptr;
    expect_undone(from, true);
}

TEST_P(Backups, ABackupWithRedisNeedsAProvidedRedisAndChangesNothingElse) {
    create_with_postgres();
    engine.printed = one_backup("[\"postgres\",\"redis\"]");
    const size_t from = engine.commands.size();
    const std::string error = error_of([&] {
        restore_backup(context, RestoreOptions{"shop", "20261125-110000-aaaa"});
    });
    EXPECT_NE(error.find("holds Redis data, and shop has no provided Redis to take it"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("docker pallet env service shop add redis"), std::string::npos) << error;
    // Reads only: the listing, and the PostgreSQL's version asked meanwhile.
    for (const size_t job : data_jobs(from)) {
        const std::string script = script_of(engine.commands[job]);
        EXPECT_TRUE(script.find("sort -r") != std::string::npos ||
                    script.find("SHOW server_version_num") != std::string::npos)
            << "only the listing ran:\n"
            << script;
    }
    EXPECT_FALSE(state::EnvironmentStore(docker).get("shop").maintenance);
}

TEST(Restore, RedisTakesTheCopyOnlyFromAServerThatLoadedItAndIsNoReplicaAfter) {
    const std::string script =
        services::redis_restore_script(services::Endpoint{"pallet-shop-redis", "shop"});
    const auto loaded = script.find("PING");
    const auto replica = script.find("REPLICAOF \"$(hostname -i");
    ASSERT_NE(loaded, std::string::npos) << script;
    ASSERT_NE(replica, std::string::npos) << script;
    EXPECT_LT(loaded, replica) << "a file the job's server cannot load never reaches the Redis";
    EXPECT_LT(script.find("[ -s \"$1/redis.rdb\" ]"), loaded) << "no file: no empty Redis";
    EXPECT_LT(script.find("trap 'r REPLICAOF NO ONE"), replica) << "a failure ends the replica";
    EXPECT_LT(script.find("trap 'exit 130' INT TERM"), replica)
        << "so does a Ctrl-C (docker run passes the signal on; the EXIT trap runs)";
    EXPECT_NE(script.find("--save ''"), std::string::npos) << "the backup's file is not written";
    EXPECT_NE(script.rfind("r REPLICAOF NO ONE"), script.find("trap 'r REPLICAOF NO ONE"));
}

TEST(Restore, APostgreSQLDumpGoesToTheSameOrANewerMajorVersionOnly) {
    EXPECT_TRUE(services::restorable("postgres", "150018", "150002")) << "a minor version older";
    EXPECT_TRUE(services::restorable("postgres", "150018", "160004"));
    EXPECT_FALSE(services::restorable("postgres", "160004", "150018"));
    EXPECT_FALSE(services::restorable("postgres", "990000", "150018"));
}

TEST(Restore, TheSwapIsTwoRenamesInOneTransactionAfterTheConnectionsEnd) {
    const services::ServiceConfig postgres{"postgres", "", "app", "admin"};
    const std::string swap =
        services::swap_script(postgres, services::Endpoint{"pallet-shop-postgres", "shop-2"});
    const auto terminate = swap.find("pg_terminate_backend");
    const auto renames = swap.find(
        "ALTER DATABASE \\\"shop_2\\\" RENAME TO \\\"$3\\\"; ALTER DATABASE \\\"$2\\\" RENAME TO "
        "\\\"shop_2\\\"");
    ASSERT_NE(terminate, std::string::npos) << swap;
    ASSERT_NE(renames, std::string::npos) << "one -c: one transaction\n" << swap;
    EXPECT_LT(swap.find("ALLOW_CONNECTIONS false"), terminate) << "none come back meanwhile";
    EXPECT_LT(terminate, renames);
    EXPECT_EQ(swap.find("admin"), std::string::npos) << "no password in the script";
}

TEST(BackupIds, OnlyTheirOwnFormMakesAPath) {
    EXPECT_TRUE(is_backup_id("20261202-184650-1a2b"));
    for (const char* bad : {"../../etc", "20261202-184650-1a2b/..", "", "20261202-184650",
                            "20261202-184650-1A2B", "x20261202-184650-1a2b"}) {
        EXPECT_FALSE(is_backup_id(bad)) << bad;
    }
}

}  // namespace
}  // namespace pallet::phases
