#include "docker/records.h"

#include <gtest/gtest.h>

#include "docker/docker_cli.h"
#include "fake_runner.h"

namespace pallet::docker {
namespace {

TEST(Records, ContainerInspect) {
    const std::string json = R"([{
      "Id": "abc", "Name": "/pallet-s-deploy", "Image": "sha256:img",
      "Created": "2026-11-24T10:00:00.5Z",
      "Config": {"Image": "app:1", "Labels": {"io.pallet.env": "s", "io.pallet.phase": "deploy"}},
      "State": {"Status": "exited", "Running": false, "ExitCode": 3,
                "StartedAt": "2026-11-24T10:00:01.25Z", "FinishedAt": "2026-11-24T10:00:11.25Z"},
      "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}}
    }])";
    auto records = parse_container_inspect(json);
    ASSERT_EQ(records.size(), 1u);
    const auto& r = records[0];
    EXPECT_EQ(r.name, "pallet-s-deploy");
    EXPECT_EQ(r.image, "app:1");
    EXPECT_EQ(r.image_id, "sha256:img");
    EXPECT_EQ(r.label("io.pallet.phase"), "deploy");
    EXPECT_EQ(r.label("missing"), "");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_FALSE(r.running);
    EXPECT_EQ(r.published, std::vector<std::string>{"127.0.0.1:8080->80/tcp"});
    EXPECT_EQ(r.published_url(), "http://127.0.0.1:8080/");
    EXPECT_DOUBLE_EQ(*parse_docker_time(r.finished_at) - *parse_docker_time(r.started_at), 10.0);
}

// Lines as docker 28's `container ls --format summary_template(...)` printed them.
TEST(Records, ContainerSummaries) {
    const std::string text =
        R"J({"ID":"1ec9","Names":"sumexit","Image":"busybox:1","State":"exited","Status":"Exited (3) 2 seconds ago","Ports":"","CreatedAt":"2026-12-04 21:15:42 +0000 UTC","Labels":{"io.pallet.env":"s","io.pallet.settings":""}})J"
        "\n"
        R"J({"ID":"36af","Names":"sumtest","Image":"nginx:1","State":"running","Status":"Up 2 seconds (healthy)","Ports":"127.0.0.1:32768->80/tcp","CreatedAt":"2026-12-04 22:15:41 +0100 CET","Labels":{"io.pallet.env":"s","io.pallet.settings":"{\"a\":1,\"b\":\"x,y=z\"}"}})J"
        "\n"
        R"J({"ID":"77aa","Names":"made","Image":"busybox:1","State":"created","Status":"Created","Ports":"0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp","CreatedAt":"2026-12-04 21:15:43 +0000 UTC","Labels":{}})J"
        "\n";
    auto records = parse_container_summaries(text);
    ASSERT_EQ(records.size(), 3u);
    EXPECT_TRUE(records[0].summary);
    EXPECT_EQ(records[0].name, "sumexit");
    EXPECT_FALSE(records[0].running);
    EXPECT_EQ(records[0].exit_code, 3);
    EXPECT_EQ(records[0].labels.count("io.pallet.settings"), 0u);  // empty: not set
    EXPECT_EQ(*parse_docker_time(records[0].created), 1796418942.0);
    EXPECT_TRUE(records[1].running);
    EXPECT_EQ(records[1].health, "healthy");
    EXPECT_EQ(records[1].label("io.pallet.settings"), R"({"a":1,"b":"x,y=z"})");
    EXPECT_EQ(records[1].published_url(), "http://127.0.0.1:32768/");
    EXPECT_EQ(*parse_docker_time(records[1].created), 1796418941.0);  // its zone: CET
    EXPECT_EQ(records[2].status, "created");
    EXPECT_EQ(records[2].published,
              (std::vector<std::string>{"0.0.0.0:8080->80/tcp", "[::]:8080->80/tcp"}));
    EXPECT_EQ(records[2].published_port(), 8080);
    EXPECT_TRUE(parse_container_summaries("").empty());
    EXPECT_ANY_THROW(parse_container_summaries("{not json"));
}

TEST(Records, SummaryTemplateNamesEachLabel) {
    EXPECT_EQ(summary_template({"io.pallet.env"}),
              "{\"ID\":{{json .ID}},\"Names\":{{json .Names}},\"Image\":{{json .Image}},"
              "\"State\":{{json .State}},\"Status\":{{json .Status}},\"Ports\":{{json .Ports}},"
              "\"CreatedAt\":{{json .CreatedAt}},"
              "\"Labels\":{\"io.pallet.env\":{{json (.Label \"io.pallet.env\")}}}}");
}

TEST(Records, ZeroTimesAreAbsent) {
    EXPECT_FALSE(parse_docker_time("0001-01-01T00:00:00Z").has_value());
    EXPECT_FALSE(parse_docker_time("garbage").has_value());
    EXPECT_DOUBLE_EQ(*parse_docker_time("1970-01-01T00:01:00Z"), 60.0);
}

TEST(Records, ImageInspect) {
    auto image = parse_image_inspect(R"([{"Id": "sha256:x", "RepoDigests": [],
        "Config": {"User": "1234", "Entrypoint": ["/app/app.sh"], "Cmd": null,
                   "Labels": {"io.pallet.services": "postgres"}}}])");
    EXPECT_EQ(image.id, "sha256:x");
    EXPECT_EQ(image.user, "1234");
    EXPECT_EQ(image.entrypoint, std::vector<std::string>{"/app/app.sh"});
    EXPECT_TRUE(image.cmd.empty());
    EXPECT_EQ(image.labels.at("io.pallet.services"), "postgres");
}

TEST(Records, VolumeLinesAndLabelStrings) {
    auto volumes = parse_volume_lines(
        "{\"Driver\":\"local\",\"Labels\":\"io.pallet.env=s,io.pallet.role=storage\",\"Name\":"
        "\"v\"}\n");
    ASSERT_EQ(volumes.size(), 1u);
    EXPECT_EQ(volumes[0].name, "v");
    EXPECT_EQ(volumes[0].label("io.pallet.role"), "storage");
    EXPECT_TRUE(parse_label_string("").empty());
}

TEST(Records, MalformedJsonIsAnError) { EXPECT_ANY_THROW(parse_container_inspect("not json")); }

}  // namespace
}  // namespace pallet::docker

namespace pallet::docker {
namespace {

TEST(DockerTime, ZonesAndFractions) {
    EXPECT_DOUBLE_EQ(*parse_docker_time("2026-11-25T17:00:00Z"), 1795626000.0);
    EXPECT_DOUBLE_EQ(*parse_docker_time("2026-11-25T18:30:00+01:30"), 1795626000.0);
    EXPECT_DOUBLE_EQ(*parse_docker_time("2026-11-25T12:00:00.5-05:00"), 1795626000.5);
    EXPECT_FALSE(parse_docker_time("0001-01-01T00:00:00Z"));
    EXPECT_FALSE(parse_docker_time("2026-11-25T17:00:00 junk"));
}

TEST(EngineClock, ReadOnceThenFollowedLocally) {
    pallet::testing::FakeRunner runner;
    DockerCli docker(runner, DockerTarget{});
    runner.answer(0, "\"2001-09-09T01:46:40Z\"\n");
    const double first = docker.engine_now();
    EXPECT_NEAR(first, 1000000000.0, 1.0) << "the engine's time, whatever the local clock says";
    EXPECT_GE(docker.engine_now(), first);
    ASSERT_EQ(runner.commands.size(), 1u) << "one docker call per command";
    EXPECT_EQ(
        runner.commands[0].argv,
        (std::vector<std::string>{"docker", "system", "info", "--format", "{{json .SystemTime}}"}));
}

}  // namespace
}  // namespace pallet::docker
