// Backups before a deploy, against each orchestrator of the fake engine: taken first, in the
// provided service's own image, with no password on a command line; a failed one stops the
// deploy; --no-backup and the setting go without.
#include "phases/backup.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "services/backup.h"
#include "use_case_fixture.h"

namespace pallet::phases {
namespace {

class Backups : public UseCase {
  protected:
    // "shop" with a provided PostgreSQL that runs already (made by an earlier deploy).
    void create_with_postgres(bool before_deploy = true) {
        state::Environment env;
        env.backup_before_deploy = before_deploy;
        env.services["postgres"] = {"postgres", "", "AppSecret42", "AdminSecret42"};
        create("shop", env);
        const std::map<std::string, std::string> labels = {
            {state::label::k_managed, "true"},
            {state::label::k_env, "shop"},
            {state::label::k_phase, state::phase::k_service},
            {state::label::k_service, "postgres"}};
        if (!swarm()) {
            auto& server = engine.add("pallet-shop-postgres", labels, "running");
            server.image = "pg:16";
            server.image_id = "sha256:pg16";
            return;
        }
        std::vector<std::string> create = {"service", "create", "--name", "pallet-shop-postgres"};
        for (const auto& [key, value] : labels) {
            create.insert(create.end(), {"--label", key + "=" + value});
        }
        create.push_back("pg:16");
        docker::Command command;
        engine.swarm.answer(create, command);
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
