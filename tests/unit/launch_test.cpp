// Launching phase containers: root images start with one docker run; others are created, their
// writable mounts handed to the image's user, then started. Exact docker argv.
#include "orchestrator/engine/launch.h"

#include <gtest/gtest.h>

#include "docker/image_user.h"
#include "fake_runner.h"
#include "util/error.h"
#include "util/tar.h"

namespace pallet::orchestrator::engine {
namespace {

using Args = std::vector<std::string>;

struct Launch : ::testing::Test {
    testing::FakeRunner runner;
    docker::DockerCli docker{runner, docker::DockerTarget{}};
    Context context{docker, [](const std::string&) { return std::nullopt; }, "ann", "ci"};

    static ResolvedImage image(const std::string& user) {
        ResolvedImage image{"app:1", {}};
        image.record.id = "sha256:abc";
        image.record.user = user;
        return image;
    }
    static docker::ContainerSpec spec(const std::string& name) {
        docker::ContainerSpec spec;
        spec.name = name;
        spec.image = "sha256:abc";
        spec.command = {"serve"};
        spec.mounts = {{"pallet-s-storage", "/storage", false},
                       {"pallet-s-static", "/static", false}};
        return spec;
    }
    // The subcommand words of the n-th docker command ("container create", ...).
    std::string verb(size_t n) const {
        const auto& argv = runner.commands.at(n).argv;
        return argv.at(1) + " " + argv.at(2);
    }
};

TEST_F(Launch, RootImagesStartWithOneRun) {
    for (const char* user : {"", "root", "0", "0:0"}) {
        runner.commands.clear();
        EXPECT_EQ(launch_detached(context, image(user), spec("c1")), docker::StartOutcome::started);
        ASSERT_EQ(runner.commands.size(), 1u) << user;
        EXPECT_EQ(verb(0), "container run") << user;
    }
}

TEST_F(Launch, NumericUserGetsTheMountsBeforeItStarts) {
    EXPECT_EQ(launch_detached(context, image("1000:50"), spec("c1")),
              docker::StartOutcome::started);
    ASSERT_EQ(runner.commands.size(), 3u);
    EXPECT_EQ(verb(0), "container create");
    EXPECT_EQ(runner.commands[1].argv, (Args{"docker", "container", "cp", "-", "c1:/"}));
    EXPECT_EQ(runner.commands[2].argv, (Args{"docker", "container", "start", "c1"}));
    // The archive holds both mount points, owned by 1000:50, not world-writable.
    const std::string archive = runner.commands[1].stdin_data.value();
    ASSERT_GE(archive.size(), 1024u);
    EXPECT_EQ(archive.substr(0, 8), std::string("storage/"));
    EXPECT_EQ(archive.substr(100, 7), "0000755");
    EXPECT_EQ(archive.substr(108, 7), "0001750");  // uid 1000 in octal
    EXPECT_EQ(archive.substr(116, 7), "0000062");  // gid 50
    EXPECT_EQ(archive.substr(512, 7), "static/");
}

TEST_F(Launch, NamedUserIsLookedUpInTheImagesPasswd) {
    runner.answer(0);  // create
    // docker cp c1:/etc/passwd - answers a tar with the file: build one by hand.
    std::string passwd = "root:x:0:0::/:/bin/sh\nweb:x:2345:99::/:/bin/sh\n";
    std::string header(512, '\0');
    header.replace(0, 6, "passwd");
    header.replace(124, 11, fmt::format("{:011o}", passwd.size()));
    header[156] = '0';
    std::string tar =
        header + passwd + std::string(512 - passwd.size(), '\0') + std::string(1024, '\0');
    runner.answer(0, tar);
    launch_detached(context, image("web"), spec("c1"));
    ASSERT_EQ(runner.commands.size(), 4u);
    EXPECT_EQ(runner.commands[1].argv, (Args{"docker", "container", "cp", "c1:/etc/passwd", "-"}));
    const std::string archive = runner.commands[2].stdin_data.value();
    EXPECT_EQ(archive.substr(108, 7), "0004451");  // 2345
    EXPECT_EQ(archive.substr(116, 7), "0000143");  // 99
}

TEST_F(Launch, UnknownUserRemovesTheCreatedContainer) {
    runner.answer(0);                                                       // create
    runner.answer(1, "", "Error: No such container:path: c1:/etc/passwd");  // no passwd
    EXPECT_THROW(launch_detached(context, image("ghost"), spec("c1")), Error);
    EXPECT_EQ(verb(runner.commands.size() - 1), "container rm");
}

TEST_F(Launch, TakenNameIsTheLockNotAnError) {
    runner.answer(125, "", "Conflict. The container name \"/c1\" is already in use");
    EXPECT_EQ(launch_detached(context, image("1000"), spec("c1")),
              docker::StartOutcome::name_taken);
    EXPECT_EQ(runner.commands.size(), 1u) << "nothing else is done with someone else's container";
}

TEST_F(Launch, ReplicasShareOneHandOverAndOneStart) {
    launch_replicas(context, image("1000"), {spec("a"), spec("b"), spec("c")});
    ASSERT_EQ(runner.commands.size(), 5u);
    EXPECT_EQ(verb(0), "container create");
    EXPECT_EQ(verb(2), "container create");
    EXPECT_EQ(runner.commands[3].argv, (Args{"docker", "container", "cp", "-", "a:/"}));
    EXPECT_EQ(runner.commands[4].argv, (Args{"docker", "container", "start", "a", "b", "c"}));
}

TEST_F(Launch, ReadOnlyMountsAreLeftAlone) {
    auto only_static = spec("c1");
    only_static.mounts = {{"v", "/static", true}};
    launch_detached(context, image("1000"), only_static);
    ASSERT_EQ(runner.commands.size(), 1u) << "nothing to hand over: one run, as for root";
    EXPECT_EQ(verb(0), "container run");
}

TEST_F(Launch, ScratchMountsNeedNoHandOverForANonRootUser) {
    auto once = spec("t1");
    once.remove_on_exit = true;
    once.mounts = {docker::Mount::scratch("/storage", {1000, 50}),
                   docker::Mount::scratch("/static", {1000, 50})};
    runner.answer(3);  // run attached: the command's exit status
    EXPECT_EQ(launch_attached(context, image("1000:50"), once), 3);
    ASSERT_EQ(runner.commands.size(), 1u) << "no create, cp and start";
    const auto& run = runner.commands[0].argv;
    EXPECT_EQ(verb(0), "container run");
    // The owner is given: runc gives a tmpfs over a directory of the image that directory's
    // mode, so a mode alone leaves root's directory unwritable.
    for (const char* mount :
         {"/storage:uid=1000,gid=50,mode=0755,exec", "/static:uid=1000,gid=50,mode=0755,exec"}) {
        const auto it = std::find(run.begin(), run.end(), mount);
        ASSERT_NE(it, run.end()) << mount;
        EXPECT_EQ(*(it - 1), "--tmpfs");
    }
}

TEST_F(Launch, AttachedRunOfANonRootImageIsGoneWhenItReturns) {
    auto once = spec("t1");
    once.remove_on_exit = true;
    runner.answer(0);  // create
    runner.answer(0);  // cp
    runner.answer(3);  // start --attach: the command's exit status
    EXPECT_EQ(launch_attached(context, image("1000"), once), 3);
    ASSERT_EQ(runner.commands.size(), 4u);
    const auto& create = runner.commands[0].argv;
    EXPECT_EQ(std::find(create.begin(), create.end(), "--rm"), create.end())
        << "removed by the plugin, so that it is gone on return";
    EXPECT_EQ(runner.commands[2].argv, (Args{"docker", "container", "start", "--attach", "t1"}));
    EXPECT_EQ(verb(3), "container rm");
}

TEST(ImageUser, ParsesAndResolvesAsDockerDoes) {
    EXPECT_TRUE(docker::parse_image_user("").is_root());
    EXPECT_TRUE(docker::parse_image_user("root:root").is_root());
    EXPECT_FALSE(docker::parse_image_user("0:100").is_root());
    EXPECT_FALSE(docker::parse_image_user("1000").needs_lookup());
    EXPECT_TRUE(docker::parse_image_user("app").needs_lookup());
    EXPECT_TRUE(docker::parse_image_user("1000:staff").needs_lookup());
    const std::string passwd = "root:x:0:0::/:/bin/sh\napp:x:1001:1002::/app:/bin/sh\n";
    const std::string group = "root:x:0:\nstaff:x:50:\n";
    auto ids = docker::resolve_ids(docker::parse_image_user("app"), passwd, group);
    ASSERT_TRUE(ids);
    EXPECT_EQ(ids->uid, 1001u);
    EXPECT_EQ(ids->gid, 1002u);
    ids = docker::resolve_ids(docker::parse_image_user("1001"), passwd, group);
    EXPECT_EQ(ids->gid, 1002u) << "a uid in passwd takes its group";
    ids = docker::resolve_ids(docker::parse_image_user("4242"), passwd, group);
    EXPECT_EQ(ids->uid, 4242u);
    EXPECT_EQ(ids->gid, 0u) << "a uid nowhere in passwd gets group 0, as with docker";
    ids = docker::resolve_ids(docker::parse_image_user("app:staff"), passwd, group);
    EXPECT_EQ(ids->gid, 50u);
    EXPECT_FALSE(docker::resolve_ids(docker::parse_image_user("ghost"), passwd, group));
    EXPECT_FALSE(docker::resolve_ids(docker::parse_image_user("app:nogroup"), passwd, group));
    EXPECT_FALSE(docker::resolve_ids(docker::parse_image_user("99999999999"), passwd, group));
}

TEST(Tar, DirectoriesRoundTripThroughTheReader) {
    const std::string archive = util::tar_of_directories({{"storage", 0755, 1, 2}});
    EXPECT_EQ(archive.size(), 3u * 512u);
    EXPECT_FALSE(util::first_file_in_tar(archive)) << "no regular file in it";
    EXPECT_FALSE(util::first_file_in_tar("garbage"));
    std::string truncated(512, '\0');
    truncated.replace(0, 1, "f");
    truncated.replace(124, 11, "77777777777");
    truncated[156] = '0';
    EXPECT_FALSE(util::first_file_in_tar(truncated)) << "a size past the end is refused";
}

}  // namespace
}  // namespace pallet::orchestrator::engine
