// Preview environments: env create --from (a copy's settings), a time to live and env prune, and
// the networks of many environments on one engine (the plugin's pool, not docker's).
#include <gtest/gtest.h>

#include "orchestrator/engine/networks.h"
#include "phases/env_commands.h"
#include "use_case_fixture.h"
#include "util/subnets.h"

namespace pallet::phases {
namespace {

constexpr double k_now = 1795608000;  // the fake engine's clock: 2026-11-25T12:00:00Z

using Previews = UseCase;
INSTANTIATE_TEST_SUITE_P(BothOrchestrators, Previews, ::testing::Values(Kind::engine, Kind::swarm),
                         kind_name);

bool exists(docker::DockerCli& docker, const std::string& name) {
    return state::EnvironmentStore(docker).find(name).has_value();
}

TEST_P(Previews, PruneRemovesExactlyTheEnvironmentsWhoseTimeToLivePassed) {
    state::Environment expired;
    expired.ttl = 60;
    expired.touched = k_now - 61;
    create("pr-1", expired);
    state::Environment alive;
    alive.ttl = 3600;
    alive.touched = k_now - 60;
    create("pr-2", alive);
    state::Environment forever;
    create("staging", forever);
    state::Environment old_but_deployed;  // its ttl passed since its update, not since its deploy
    old_but_deployed.ttl = 600;
    old_but_deployed.touched = k_now - 7200;
    create("shop", old_but_deployed);
    ASSERT_EQ(deploy({"shop", "shop:1", std::nullopt}, image("shop:1")), 0);

    EXPECT_EQ(run_env_prune(context), 0);
    EXPECT_FALSE(exists(docker, "pr-1")) << "expired a second ago";
    EXPECT_TRUE(exists(docker, "pr-2"));
    EXPECT_TRUE(exists(docker, "staging")) << "no TTL: never pruned";
    EXPECT_TRUE(exists(docker, "shop")) << "a deploy a minute ago keeps it";
}

TEST_P(Previews, PruneRemovesEveryExpiredEnvironmentOfMany) {
    // More than it removes at once: each lane takes the next until none is left.
    for (int i = 1; i <= 9; ++i) {
        state::Environment expired;
        expired.ttl = 60;
        expired.touched = k_now - 61 - i;
        create(fmt::format("pr-{}", i), expired);
    }
    state::Environment alive;
    alive.ttl = 3600;
    alive.touched = k_now - 60;
    create("pr-10", alive);

    EXPECT_EQ(run_env_prune(context), 0);
    for (int i = 1; i <= 9; ++i) {
        EXPECT_FALSE(exists(docker, fmt::format("pr-{}", i))) << i;
    }
    EXPECT_TRUE(exists(docker, "pr-10"));
    EXPECT_EQ(run_env_prune(context), 0) << "nothing left to prune is no error";
}

TEST_P(Previews, PruneUnderDryRunRemovesNothing) {
    state::Environment expired;
    expired.ttl = 60;
    expired.touched = k_now - 3600;
    create("pr-1", expired);
    docker::DockerCli dry(engine, docker::DockerTarget{}, true);
    Context dry_context{dry, [](const std::string&) { return std::nullopt; }, "ann", "ci"};
    const auto before = engine.commands.size();
    EXPECT_EQ(run_env_prune(dry_context), 0);
    EXPECT_TRUE(exists(docker, "pr-1"));
    for (auto i = before; i < engine.commands.size(); ++i) {
        const auto& args = engine.commands[i];
        EXPECT_TRUE(args[1] == "ls" || args[1] == "inspect" || args[1] == "info" || args[1] == "ps")
            << "only reads under --dry-run: " << args[0] << " " << args[1];
    }
}

TEST(Preview, ACopyTakesTheSourcesSettingsWithServicesOfItsOwn) {
    testing::FakeEngine engine;
    docker::DockerCli docker(engine, docker::DockerTarget{});
    Context context{docker, [](const std::string&) { return std::nullopt; }, "ann", "ci"};
    EnvCreateOptions staging;
    staging.name = "staging";
    staging.kind = "staging";
    staging.port = "8081";
    staging.health_path = "/up";
    staging.services = {"postgres", "redis", "smtp=smtp://mail.example.org:25"};
    ASSERT_EQ(run_env_create(context, staging), 0);
    state::EnvironmentStore store(docker);
    state::Environment source = store.get("staging");
    source.variables["SECRET_KEY"] = "s3cret";
    source.process_counts["worker"] = 3;
    store.save(source);
    source = store.get("staging");

    EnvCreateOptions preview;
    preview.name = "pr-42";
    preview.from = "staging";
    preview.ttl = "3d";
    ASSERT_EQ(run_env_create(context, preview), 0);
    const state::Environment copy = store.get("pr-42");
    EXPECT_EQ(copy.kind, "staging");
    EXPECT_EQ(copy.health_path, "/up");
    EXPECT_EQ(copy.variables, source.variables);
    EXPECT_EQ(copy.process_counts, source.process_counts);
    EXPECT_EQ(copy.port, 0) << "staging's port is staging's: any free one";
    EXPECT_EQ(copy.ttl, 3 * 86400);
    EXPECT_NEAR(copy.touched, k_now, 5);
    EXPECT_EQ(copy.services.at("smtp").external_url, "smtp://mail.example.org:25");
    for (const std::string kind : {"postgres", "redis"}) {
        EXPECT_TRUE(copy.services.at(kind).provisioned());
        EXPECT_FALSE(copy.services.at(kind).password.empty());
        EXPECT_NE(copy.services.at(kind).password, source.services.at(kind).password)
            << kind << ": a password of its own";
        EXPECT_NE(copy.services.at(kind).admin_password, source.services.at(kind).admin_password);
    }
    for (const auto& args : engine.commands) {
        for (const auto& arg : args) {
            EXPECT_EQ(arg.find("s3cret"), std::string::npos) << "no secret on a command line";
        }
    }
}

TEST(Preview, ACopyIsRefusedWithoutADomainOfItsOwnOrAnUnknownSourceChangingNothing) {
    testing::FakeEngine engine;
    docker::DockerCli docker(engine, docker::DockerTarget{});
    Context context{docker, [](const std::string&) { return std::nullopt; }, "ann", "ci"};
    EnvCreateOptions staging;
    staging.name = "staging";
    staging.site_domain = "staging.example.org";
    ASSERT_EQ(run_env_create(context, staging), 0);

    EnvCreateOptions preview;
    preview.name = "pr-1";
    preview.from = "staging";
    EXPECT_NE(error_of([&] { run_env_create(context, preview); })
                  .find("staging's domain is staging.example.org: give the copy one of its own "
                        "(--site-domain pr-1.staging.example.org)"),
              std::string::npos);
    preview.site_domain = "staging.example.org";
    EXPECT_NE(error_of([&] {
                  run_env_create(context, preview);
              }).find("staging.example.org is already a host name of staging"),
              std::string::npos);
    preview.site_domain = "pr-1.preview.example.org";
    preview.from = "nosuch";
    EXPECT_NE(
        error_of([&] { run_env_create(context, preview); }).find("no environment named nosuch"),
        std::string::npos);
    preview.from = std::nullopt;
    preview.data = "";
    EXPECT_NE(
        error_of([&] { run_env_create(context, preview); }).find("--data goes with --from ENV"),
        std::string::npos);
    EXPECT_FALSE(exists(docker, "pr-1"));
}

TEST(Preview, AnEnvironmentsNetworkTakesTheFirstFreeSubnetOfThePool) {
    testing::FakeEngine engine;
    // 10.213.0.0/24 is a docker network's, 10.213.1.0/24 a route of the host (a VPN's).
    engine.networks["other"] = "10.213.0.0/24";
    engine.host_routes +=
        "tun0\t0001D50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";  // 10.213.1.0/24
    docker::DockerCli docker(engine, docker::DockerTarget{});
    Context context{docker, [](const std::string&) { return std::nullopt; }, "ann", "ci"};
    orchestrator::engine::create_environment_network(context, "pallet-shop", {});
    EXPECT_EQ(engine.networks.at("pallet-shop"), "10.213.2.0/24");
    orchestrator::engine::create_environment_network(context, "pallet-pr-1", {});
    EXPECT_EQ(engine.networks.at("pallet-pr-1"), "10.213.3.0/24");
}

TEST(Preview, AFullPoolIsSaidWithItsSettingAndNothingIsMade) {
    testing::FakeEngine engine;
    docker::DockerCli docker(engine, docker::DockerTarget{});
    Context context{docker,
                    [](const std::string& key) {
                        return key == "network-pool" ? std::optional<std::string>("10.9.0.0/23")
                                                     : std::nullopt;
                    },
                    "ann", "ci"};
    engine.networks["a"] = "10.9.0.0/24";
    engine.networks["b"] = "10.9.1.0/24";
    const auto networks = engine.networks;
    const std::string error = error_of(
        [&] { orchestrator::engine::create_environment_network(context, "pallet-shop", {}); });
    EXPECT_NE(error.find("no address range is left for pallet-shop's network: the pool "
                         "10.9.0.0/23 (2 networks of /24)"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("PALLET_NETWORK_POOL"), std::string::npos);
    EXPECT_EQ(engine.networks, networks);
    EnvCreateOptions create;
    create.name = "shop";
    EXPECT_NE(error_of([&] {
                  run_env_create(context, create);
              }).find("no address range is left for a new environment's network"),
              std::string::npos);
    EXPECT_FALSE(exists(docker, "shop"));
    // A first deploy makes an environment with defaults: not when its network cannot be made.
    const std::string first = error_of([&] { orchestrator::open(context, "shop")->ensure(); });
    EXPECT_NE(first.find("no address range is left"), std::string::npos) << first;
    EXPECT_FALSE(exists(docker, "shop"));
    EXPECT_EQ(engine.networks, networks);
}

TEST(Subnets, ParseOverlapAndTheHostsRoutes) {
    EXPECT_EQ(util::parse_subnet("10.213.0.0/16")->text(), "10.213.0.0/16");
    EXPECT_FALSE(util::parse_subnet("10.213.0.1/16")) << "host bits set";
    EXPECT_FALSE(util::parse_subnet("10.213.0.0"));
    EXPECT_FALSE(util::parse_subnet("10.256.0.0/16"));
    EXPECT_FALSE(util::parse_subnet("fd00::/64"));
    EXPECT_TRUE(util::parse_subnet("10.0.0.0/8")->overlaps(*util::parse_subnet("10.213.4.0/24")));
    EXPECT_FALSE(
        util::parse_subnet("10.213.4.0/24")->overlaps(*util::parse_subnet("10.213.5.0/24")));
    const auto routes = util::parse_proc_routes(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
        "wg0\t0000D50A\t00000000\t0001\t0\t0\t0\t0080FFFF\t0\t0\t0\n");
    ASSERT_EQ(routes.size(), 2u) << "the default route is none";
    EXPECT_EQ(routes[0].text(), "172.17.0.0/16");
    EXPECT_EQ(routes[1].text(), "10.213.0.0/17");
    EXPECT_EQ(util::free_subnet(*util::parse_subnet("10.213.0.0/16"), 24, routes)->text(),
              "10.213.128.0/24");
    EXPECT_EQ(util::subnet_count(*util::parse_subnet("10.213.0.0/16"), 24), 256u);
}

}  // namespace
}  // namespace pallet::phases
