#include "docker/reference.h"

#include <gtest/gtest.h>

namespace pallet::docker {
namespace {

TEST(Reference, RepositoryDropsTagAndDigestButNotARegistrysPort) {
    EXPECT_EQ(repository_of("myapp:1.4"), "myapp");
    EXPECT_EQ(repository_of("myapp"), "myapp");
    EXPECT_EQ(repository_of("reg.example.org:5000/team/app:1"), "reg.example.org:5000/team/app");
    EXPECT_EQ(repository_of("reg.example.org:5000/team/app"), "reg.example.org:5000/team/app");
    EXPECT_EQ(repository_of("app@sha256:0123"), "app");
    EXPECT_EQ(repository_of("reg:5000/app:2@sha256:0123"), "reg:5000/app");
}

TEST(Reference, SwarmNodesRunTheRegistrysDigestOrElseTheImageId) {
    const std::string id = "sha256:aaaa";
    EXPECT_EQ(
        pinned_image("reg:5000/app:1", id, {"other/app@sha256:bbbb", "reg:5000/app@sha256:cccc"}),
        "reg:5000/app@sha256:cccc");
    EXPECT_EQ(pinned_image("app:1", id, {}), id) << "built or loaded here: no registry has it";
    EXPECT_EQ(pinned_image("app:1", id, {"reg:5000/app@sha256:cccc"}), id)
        << "a digest of another repository is not what the user named";
    EXPECT_EQ(pinned_image("app:1", "", {}), "app:1");
}

}  // namespace
}  // namespace pallet::docker
