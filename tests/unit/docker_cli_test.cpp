#include "docker/docker_cli.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "docker/failure.h"
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
    spec.env = {{"SITE_DOMAIN", "example.org"},
                {"DB_DEFAULT_URL", "postgres://u:secret@db/x"},
                {"HTTP_PROXY", "http://proxy:3128"}};
    spec.labels = {{"io.pallet.env", "staging"}, {"io.pallet.settings", "{\"SECRET\":\"s3\"}"}};
    spec.network = "pallet-staging";
    spec.mounts = {{"pallet-staging-storage", "/storage", false},
                   {"pallet-staging-static", "/static", true}};
    spec.stop_timeout = 10;
    EXPECT_EQ(DockerCli::run_args(spec, true, RunFiles{"/p/labels", "/p/env"}),
              (Args{"container",
                    "run",
                    "--detach",
                    "--name",
                    "pallet-staging-deploy",
                    "--label-file",
                    "/p/labels",
                    "--network",
                    "pallet-staging",
                    "--mount",
                    "type=volume,source=pallet-staging-storage,target=/storage",
                    "--mount",
                    "type=volume,source=pallet-staging-static,target=/static,readonly",
                    "--stop-timeout",
                    "10",
                    "--env",
                    "SITE_DOMAIN",
                    "--env",
                    "DB_DEFAULT_URL",
                    "--env-file",
                    "/p/env",
                    "sha256:abc",
                    "deploy"}));
    auto env = DockerCli::run_env(spec);
    EXPECT_EQ(env.at("DB_DEFAULT_URL"), "postgres://u:secret@db/x");
    EXPECT_EQ(env.count("HTTP_PROXY"), 0u) << "the docker CLI would use it itself";
    EXPECT_EQ(DockerCli::env_file_text(spec), "HTTP_PROXY=http://proxy:3128\n");
    EXPECT_EQ(DockerCli::label_file_text(spec),
              "io.pallet.env=staging\nio.pallet.settings={\"SECRET\":\"s3\"}\n");
}

TEST(DockerCli, NoValueOfAContainerEverReachesArgv) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    ContainerSpec spec;
    spec.name = "x";
    spec.image = "img";
    spec.env = {{"SECRET_KEY", "planted-1"}, {"LD_PRELOAD", "planted-2"}, {"PATH", "planted-3"}};
    spec.labels = {{"io.pallet.settings", "planted-4"}};
    docker.run_detached(spec);
    docker.create_container(spec);
    ASSERT_EQ(runner.commands.size(), 2u);
    for (const auto& command : runner.commands) {
        for (const auto& arg : command.argv) {
            EXPECT_EQ(arg.find("planted"), std::string::npos) << arg;
        }
        for (const auto& [key, value] : command.extra_env) {
            EXPECT_TRUE(key == "SECRET_KEY")
                << key << " would be read by the docker CLI or the loader";
        }
    }
}

TEST(DockerCli, LineBreaksCannotGoIntoDockersFiles) {
    ContainerSpec spec;
    spec.env = {{"HTTP_PROXY", "http://a\nb"}};
    EXPECT_THROW(DockerCli::env_file_text(spec), Error);
    spec.env = {{"PEM", "-----BEGIN\nKEY-----"}};
    EXPECT_EQ(DockerCli::env_file_text(spec), "") << "other values go through the environment";
    EXPECT_EQ(DockerCli::run_env(spec).at("PEM"), "-----BEGIN\nKEY-----");
}

TEST(DockerCli, DryRunPrintsChangesMaskedAndRunsQueriesOnly) {
    FakeRunner runner;
    DockerCli docker(runner, target(), /*dry_run=*/true);
    std::vector<std::string> printed;
    docker.set_logger([&](DockerCli::Log log, const std::string& line) {
        if (log == DockerCli::Log::dry_run) {
            printed.push_back(line);
        }
    });
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
              "would run: docker --context prod container run --detach --name x --env DB_PASSWORD "
              "--env DB_DEFAULT_URL img");
    EXPECT_EQ(printed[1], "would run: docker --context prod volume create v");
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
    EXPECT_EQ(runner.commands[0].argv, (Args{"docker", "--context", "prod", "container", "rm",
                                             "--force", "--volumes", "x"}));
}

}  // namespace
}  // namespace pallet::docker

namespace pallet::docker {
namespace {

TEST(DockerCli, CommandsShownToUsersReachTheSameEngine) {
    testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{"/usr/local/bin/docker", {"--context", "prod east"}});
    EXPECT_EQ(docker.command_line("pallet logs s --phase deploy -f"),
              "docker --context 'prod east' pallet logs s --phase deploy -f");
    DockerCli other(runner, DockerTarget{"/opt/wrapper", {"-H", "ssh://ops@db"}});
    EXPECT_EQ(other.command_line("rm -f x"), "/opt/wrapper -H ssh://ops@db rm -f x");
}

TEST(Redactor, RemovesKnownSecretsAndTheirUrlForms) {
    util::Redactor redactor;
    redactor.add("hunter2-long-secret");
    redactor.add("postgres://app:p%40ss-word@db:5432/app");
    redactor.add("1");  // too short to be told from ordinary text
    EXPECT_EQ(redactor.redact("KEY=hunter2-long-secret; rows: 1"), "KEY=****; rows: 1");
    EXPECT_EQ(redactor.redact("password p@ss-word or p%40ss-word"), "password **** or ****");
    EXPECT_EQ(redactor.redact("nothing here"), "nothing here");
}

}  // namespace
}  // namespace pallet::docker

#include "docker/ssh_tunnel.h"

namespace pallet::docker {
namespace {

TEST(SshHost, OnlySshUrlsWithWhatSshNeeds) {
    auto plain = parse_ssh_host("ssh://db.example.org");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->host, "db.example.org");
    EXPECT_EQ(plain->user, "");
    EXPECT_EQ(plain->socket, "") << "the remote docker says where its engine is";
    auto full = parse_ssh_host("ssh://ops@[2001:db8::1]:2222/run/user/1000/docker.sock");
    ASSERT_TRUE(full);
    EXPECT_EQ(full->user, "ops");
    EXPECT_EQ(full->host, "2001:db8::1");
    EXPECT_EQ(full->port, "2222");
    EXPECT_EQ(full->socket, "/run/user/1000/docker.sock");
    EXPECT_FALSE(parse_ssh_host("unix:///var/run/docker.sock"));
    EXPECT_FALSE(parse_ssh_host("tcp://1.2.3.4:2376"));
    EXPECT_FALSE(parse_ssh_host("ssh://"));
}

TEST(DockerCli, ServiceMountsAreInTheOrderDockerServiceUpdateKeeps) {
    // docker service update sorts mounts by target; any other order is a changed task template,
    // and every task would be replaced by an update.
    ServiceSpec spec;
    spec.name = "pallet-web-serve-1";
    spec.image = "app:v1";
    spec.mounts = {Mount::bind_of("/srv/shared/web/storage", "/storage"),
                   Mount::bind_of("/srv/shared/web/static", "/static")};
    const Args args = DockerCli::service_args(spec, "/p/env");
    std::vector<std::string> mounts;
    for (size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "--mount") {
            mounts.push_back(args[i + 1]);
        }
    }
    EXPECT_EQ(mounts, (Args{"type=bind,source=/srv/shared/web/static,target=/static",
                            "type=bind,source=/srv/shared/web/storage,target=/storage"}));
}

TEST(DockerCli, ScalingChangesTheReplicasAlone) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    docker.scale_service("pallet-web-serve-1", 5);
    ASSERT_EQ(runner.commands.size(), 1u);
    EXPECT_EQ(runner.commands[0].argv, (Args{"docker", "--context", "prod", "service", "scale",
                                             "--detach", "pallet-web-serve-1=5"}));
}

TEST(DockerCli, ReplicasCountTasksThatRunAndAreMeantTo) {
    FakeRunner runner;
    DockerCli docker(runner, target());
    runner.answer(0, "pallet-web-serve-1 5/3\npallet-web-router 1/1\n");
    // A task of a lost node, or one stopping after a scale down, is not meant to run.
    runner.answer(0,
                  "pallet-web-router.xyz Running 2 minutes ago\n"
                  "pallet-web-serve-1.1 Running 2 minutes ago\n"
                  "pallet-web-serve-1.2 Running 5 seconds ago\n"
                  "pallet-web-serve-1.3 Starting 1 second ago\n");
    const auto replicas = docker.service_replicas({"io.pallet.env=web"});
    ASSERT_EQ(runner.commands.size(), 2u);
    EXPECT_EQ(runner.commands[1].argv,
              (Args{"docker", "--context", "prod", "service", "ps", "--filter",
                    "desired-state=running", "--format", "{{.Name}} {{.CurrentState}}",
                    "pallet-web-router", "pallet-web-serve-1"}));
    EXPECT_EQ(replicas.at("pallet-web-serve-1"), "2/3");
    EXPECT_EQ(replicas.at("pallet-web-router"), "1/1");
}

TEST(DockerCli, VolumesOfADriverCarryTheirOptionsQuotedAsMountReadsThem) {
    ServiceSpec spec;
    spec.name = "pallet-web-serve-1";
    spec.image = "app:v1";
    Mount storage("pallet-web-storage", "/storage");
    storage.driver = "local";
    storage.options = {
        {"device", ":/export/web/storage"}, {"o", "addr=10.0.0.9,nfsvers=4"}, {"type", "nfs"}};
    spec.mounts = {storage};
    const Args args = DockerCli::service_args(spec, "/p/env");
    const auto mount = std::find(args.begin(), args.end(), "--mount");
    ASSERT_NE(mount, args.end());
    EXPECT_EQ(*(mount + 1),
              "type=volume,source=pallet-web-storage,target=/storage,volume-driver=local,"
              "volume-opt=device=:/export/web/storage,\"volume-opt=o=addr=10.0.0.9,nfsvers=4\","
              "volume-opt=type=nfs");
}

}  // namespace
}  // namespace pallet::docker

namespace pallet::docker {
namespace {

TEST(Failure, DockersWordsAreClassifiedInTheAdapter) {
    EXPECT_EQ(
        classify(
            "docker: Error response from daemon: Conflict. The container name \"/x\" is already in "
            "use by container \"abc\"."),
        Failure::name_taken);
    EXPECT_EQ(classify("Error response from daemon: driver failed programming external "
                       "connectivity on endpoint "
                       "r: Bind for 127.0.0.1:8080 failed: port is already allocated"),
              Failure::port_taken);
    EXPECT_EQ(classify("listen tcp4 0.0.0.0:80: bind: address already in use"),
              Failure::port_taken);
    EXPECT_EQ(classify("Error response from daemon: network with name pallet-x already exists"),
              Failure::exists);
    EXPECT_EQ(classify("No such image: shop@sha256:abc"), Failure::no_such_image);
    EXPECT_EQ(classify("Error response from daemon: something else"), Failure::other);
}

}  // namespace
}  // namespace pallet::docker
