#include "docker/docker_cli.h"

#include <gtest/gtest.h>

#include "docker/masking.h"
#include "fake_runner.h"
#include "util/error.h"

namespace pallet::docker {
namespace {

using Args = std::vector<std::string>;
using testing::FakeRunner;

DockerTarget target() { return DockerTarget{"docker", {"--context", "prod"}}; }

TEST(DockerCli, GlobalFlagsPrecedeEveryCommand) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    runner.answer(0, "");
    docker.list_containers({"io.pallet.env=staging"});
    ASSERT_EQ(runner.commands.size(), 1u);
    EXPECT_EQ(runner.commands[0].argv,
              (Args{"docker", "--context", "prod", "container", "ls", "--all", "--quiet",
                    "--no-trunc", "--filter", "label=io.pallet.env=staging"}));
}

TEST(DockerCli, ListingIsOnePsAndOneInspectWhateverTheCount) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    runner.answer(0, "a\nb\nc\n");
    runner.answer(0, "[]");
    docker.list_containers({"io.pallet.managed=true"});
    ASSERT_EQ(runner.commands.size(), 2u);
    EXPECT_EQ(runner.commands[1].argv,
              (Args{"docker", "--context", "prod", "container", "inspect", "a", "b", "c"}));
}

TEST(DockerCli, RunArgsKeepValuesOffArgv) {
    ContainerSpec spec;
    spec.name = "pallet-staging-deploy";
    spec.image = "sha256:abc";
    spec.command = {"deploy"};
    spec.env = {{"SITE_DOMAIN", "example.org"}, {"DB_DEFAULT_URL", "postgres://u:secret@db/x"},
                {"HTTP_PROXY", "http://proxy:3128"}};
    spec.labels = {{"io.pallet.env", "staging"}};
    spec.network = "pallet-staging";
    spec.mounts = {{"pallet-staging-storage", "/storage", false},
                   {"pallet-staging-static", "/static", true}};
    spec.stop_timeout = 10;
    EXPECT_EQ(DockerCli::run_args(spec, true),
              (Args{"container", "run", "--detach", "--name", "pallet-staging-deploy", "--label",
                    "io.pallet.env=staging", "--network", "pallet-staging", "--mount",
                    "type=volume,source=pallet-staging-storage,target=/storage", "--mount",
                    "type=volume,source=pallet-staging-static,target=/static,readonly",
                    "--stop-timeout", "10", "--env", "SITE_DOMAIN", "--env", "DB_DEFAULT_URL",
                    "--env", "HTTP_PROXY=http://proxy:3128", "sha256:abc", "deploy"}));
    auto env = DockerCli::run_env(spec);
    EXPECT_EQ(env.at("DB_DEFAULT_URL"), "postgres://u:secret@db/x");
    EXPECT_EQ(env.count("HTTP_PROXY"), 0u) << "the docker CLI would use it itself";
}

TEST(DockerCli, DryRunPrintsChangesMaskedAndRunsQueriesOnly) {
    FakeRunner runner;
    DockerCli docker(runner, target(), /*dry_run=*/true);
    std::vector<std::string> printed;
    docker.set_dry_run_sink([&](const std::string& line) { printed.push_back(line); });
    ContainerSpec spec;
    spec.name = "x";
    spec.image = "img";
    spec.env = {{"DB_PASSWORD", "hunter2"}, {"DB_DEFAULT_URL", "postgres://u:pw@db/x"}};
    docker.run_detached(spec);
    docker.create_volume("v", {});
    runner.answer(1, "", "Error: No such image: img");
    EXPECT_FALSE(docker.inspect_image("img").has_value());
    ASSERT_EQ(runner.commands.size(), 1u) << "only the query ran";
    ASSERT_EQ(printed.size(), 2u);
    EXPECT_EQ(printed[0],
              "docker --context prod container run --detach --name x --env 'DB_PASSWORD=****' "
              "--env 'DB_DEFAULT_URL=postgres://u:****@db/x' img");
    EXPECT_EQ(printed[1], "docker --context prod volume create v");
}

TEST(DockerCli, NameConflictIsReportedNotThrown) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    runner.answer(125, "",
                  "docker: Error response from daemon: Conflict. The container name \"/x\" is "
                  "already in use by container \"abc\".");
    ContainerSpec spec;
    spec.name = "x";
    spec.image = "img";
    EXPECT_EQ(docker.run_detached(spec), StartOutcome::name_taken);
}

TEST(DockerCli, FailuresNameTheCommandAndDockersWords) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    runner.answer(1, "", "Error response from daemon: network with name n already exists\n");
    try {
        docker.create_network("n", {});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "docker network create failed: Error response from daemon: network with "
                     "name n already exists");
    }
}

TEST(DockerCli, ErrorsSkipDockersHelpHint) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    runner.answer(125, "",
                  "docker: Error response from daemon: driver failed: port is already allocated.\n"
                  "Run 'docker run --help' for more information\n");
    ContainerSpec spec;
    spec.name = "x";
    spec.image = "img";
    try {
        docker.run_detached(spec);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("port is already allocated"), std::string::npos);
    }
}

TEST(DockerCli, UnreachableEngineSaysWhatToDo) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    runner.answer(1, "",
                  "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the "
                  "docker daemon running?");
    try {
        docker.list_networks({});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot reach the Docker engine"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("--context or --host"), std::string::npos);
    }
}

TEST(DockerCli, CleanupNeverThrowsAndSurvivesCancellation) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    runner.answer(1, "", "Error: No such container: x");
    EXPECT_NO_THROW(docker.remove_containers({"x"}));
    ASSERT_EQ(runner.commands.size(), 1u);
    EXPECT_EQ(runner.commands[0].on_cancel, OnCancel::finish);
    EXPECT_EQ(runner.commands[0].argv,
              (Args{"docker", "--context", "prod", "container", "rm", "--force", "--volumes", "x"}));
}

TEST(Masking, SecretsAndUrlPasswords) {
    EXPECT_EQ(mask_value("DB_PASSWORD", "x"), "****");
    EXPECT_EQ(mask_value("SECRET_KEY", "x"), "****");
    EXPECT_EQ(mask_value("SITE_DOMAIN", "example.org"), "example.org");
    EXPECT_EQ(mask_url_passwords("amqp://u:p@h1:5672/v|amqp://u:p@h2/v"),
              "amqp://u:****@h1:5672/v|amqp://u:****@h2/v");
    EXPECT_EQ(mask_url_passwords("redis://h:6379/0"), "redis://h:6379/0");
}

}  // namespace
}  // namespace pallet::docker
