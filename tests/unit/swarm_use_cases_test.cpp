// The swarm's implementation of the seam against the fake swarm (fake_swarm.h): records as
// configs, a deploy whose client died, a lost node, provided services pinned to a node with their
// readiness check as the health check. The rules both orchestrators share are in
// use_cases_test.cpp.
#include <gtest/gtest.h>

#include "orchestrator/open.h"
#include "phases/release.h"
#include "phases/scale.h"
#include "phases/status.h"
#include "use_case_fixture.h"
#include "util/error.h"

namespace pallet::phases {
namespace {

class Swarm : public UseCase {
  protected:
    Swarm() {
        state::Environment env;
        env.health_timeout = 1;
        env.drain_ms = 0;
        env.services["postgres"] = {"postgres", "", "app-secret-7", "admin-secret-9", 0};
        create("shop", env);
    }
    // The argv of `docker service create` of the service `name`.
    std::vector<std::string> created(const std::string& name) const {
        for (const auto& args : engine.commands) {
            if (args.size() > 4 && args[0] == "service" && args[1] == "create" && args[4] == name) {
                return args;
            }
        }
        return {};
    }
    static bool has(const std::vector<std::string>& args, const std::string& word) {
        return std::find(args.begin(), args.end(), word) != args.end();
    }
    std::vector<std::string> config_names() const {
        std::vector<std::string> names;
        for (const auto& [name, config] : engine.swarm.configs) {
            names.push_back(name);
        }
        return names;
    }
};
INSTANTIATE_TEST_SUITE_P(Swarm, Swarm, ::testing::Values(Kind::swarm), kind_name);

TEST_P(Swarm, AProvidedPostgresIsAServiceOnTheRoutersNodeCheckedByTheSwarm) {
    ASSERT_EQ(run_release(context, {"shop", "shop:1", std::nullopt}, 2), 0);
    const auto args = created("pallet-shop-postgres");
    ASSERT_FALSE(args.empty()) << "a service of its own";
    EXPECT_TRUE(has(args, "node.id==n1aaaaaaaaaa")) << "pinned to the node addressed";
    EXPECT_TRUE(has(args,
                    "type=volume,source=pallet-shop-postgres-data,target=/var/lib/"
                    "postgresql/data"))
        << "its data in a volume there";
    EXPECT_TRUE(has(args, "dnsrr")) << "reached by its name from every node, without IPVS";
    EXPECT_TRUE(has(args, "--health-cmd")) << "its readiness check is its health check";
    EXPECT_TRUE(has(args, "PALLET_APP_PASSWORD")) << "the check's passwords by name";
    for (const auto& arg : args) {
        EXPECT_EQ(arg.find("app-secret-7"), std::string::npos) << "no password on argv: " << arg;
        EXPECT_EQ(arg.find("admin-secret-9"), std::string::npos) << "no password on argv";
    }
    const auto deploy = created("pallet-shop-deploy-");
    for (const auto& command : engine.commands) {
        for (const auto& arg : command) {
            EXPECT_EQ(arg.find("app-secret-7"), std::string::npos) << "nowhere on argv: " << arg;
        }
    }
    // The deploy and the replicas get DB_DEFAULT_URL (its value off argv).
    int with_url = 0;
    for (const auto& command : engine.commands) {
        with_url += command.size() > 2 && command[0] == "service" && command[1] == "create" &&
                    has(command, "DB_DEFAULT_URL");
    }
    EXPECT_EQ(with_url, 2) << "the deploy job and the serve service";
}

TEST_P(Swarm, AVolumeDriverNoNodeHasIsRefusedAtOnceByName) {
    state::Environment env;
    env.name = "vols";
    env.orchestrator = "swarm";
    env.port = 18084;
    env.volume_driver = "no-such-driver";
    env.volume_options["path"] = "{volume}";
    try {
        orchestrator::check_new_environment(context, env);
        FAIL() << "refused";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("the volumes of driver no-such-driver cannot be used"),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("missing plugin on 3 nodes"), std::string::npos)
            << "the scheduler's word, not a wait for the timeout: " << what;
    }
    for (const auto& [name, service] : engine.swarm.services) {
        EXPECT_EQ(name.find("pallet-vols-"), std::string::npos) << "its check is gone: " << name;
    }
}

TEST_P(Swarm, ProvidedServicesGoToTheServiceNodeWhenOneIsNamed) {
    state::Environment env = state::EnvironmentStore(docker).get("shop");
    env.service_node = "node3";
    state::EnvironmentStore(docker).save(env);
    ASSERT_EQ(run_release(context, {"shop", "shop:1", std::nullopt}, 1), 0);
    EXPECT_TRUE(has(created("pallet-shop-postgres"), "node.hostname==node3"));
    EXPECT_EQ(engine.swarm.running("pallet-shop-postgres").front()->node, "n3cccccccccc");
}

TEST_P(Swarm, RecordsAreConfigsAndNoDeployJobIsLeftToRunAgain) {
    ASSERT_EQ(run_release(context, {"shop", "shop:1", std::nullopt}, 1), 0);
    int deployed = 0;
    int outputs = 0;
    int served = 0;
    for (const auto& name : config_names()) {
        deployed += name.rfind("pallet-shop-deployed-", 0) == 0;
        outputs += name.rfind("pallet-shop-output-", 0) == 0;
        served += name.rfind("pallet-shop-served-", 0) == 0;
    }
    EXPECT_EQ(deployed, 1) << "the deploy's result";
    EXPECT_EQ(outputs, 1) << "and its output";
    EXPECT_EQ(served, 1) << "the serve event";
    for (const auto& [name, service] : engine.swarm.services) {
        EXPECT_EQ(name.rfind("pallet-shop-deploy-", 0), std::string::npos)
            << "the swarm never runs a deploy again by itself: " << name;
    }
    EXPECT_EQ(engine.swarm.configs.count("pallet-shop-deploy-lock"), 0u) << "the lock is free";
}

TEST_P(Swarm, ADeployWhoseClientDiedIsRecordedByTheNextCommand) {
    std::optional<int> end = 0;  // it ended while nobody followed it
    deploying("shop", "sha256:one", &end);
    ASSERT_EQ(deploy({"shop", "shop:2", std::nullopt}, image("shop:2")), 0);
    const auto history = deploys();
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[1].image_id, "sha256:one");
    EXPECT_EQ(history[1].result, "succeeded") << "the died client's deploy, recorded once";
    EXPECT_EQ(history[0].image_id, "sha256:two");
    EXPECT_EQ(engine.swarm.services.count("pallet-shop-deploy-1"), 0u) << "its job is gone";
}

TEST_P(Swarm, ADeployNoNodeCanRunFailsAndHoldsNothing) {
    state::Environment env = state::EnvironmentStore(docker).get("shop");
    env.services.clear();
    state::EnvironmentStore(docker).save(env);
    for (auto& node : engine.swarm.nodes) {
        node.state = "down";
    }
    engine.swarm.nodes.front().state = "ready";  // the check of the image runs on node1 alone
    engine.swarm.outcome = [](const auto& service, const auto&) -> std::optional<int> {
        return service.name.rfind("pallet-shop-deploy-", 0) == 0 ? std::nullopt
                                                                 : std::optional<int>(0);
    };
    engine.before = [&](const std::vector<std::string>& args) {
        // Once the deploy's task is there, the node rejects it.
        for (auto& task : engine.swarm.tasks) {
            if (task.service.rfind("pallet-shop-deploy-", 0) == 0 && task.state == "running" &&
                args.size() > 1 && args[1] == "ps") {
                task.state = "rejected";
                task.desired = "shutdown";
                task.error = "No such image: shop:2";
            }
        }
    };
    std::string error;
    try {
        deploy({"shop", "shop:2", std::nullopt}, image("shop:2"));
    } catch (const Error& e) {
        error = e.what();
    }
    EXPECT_NE(error.find("the deploy of shop:2 could not start within 120s (No such image: shop:2 "
                         "on node1); nothing ran"),
              std::string::npos)
        << error;
    EXPECT_EQ(engine.swarm.configs.count("pallet-shop-deploy-lock"), 0u) << "no lock is left";
    for (const auto& [name, service] : engine.swarm.services) {
        EXPECT_EQ(name.rfind("pallet-shop-deploy-", 0), std::string::npos) << name;
    }
}

TEST_P(Swarm, ALostNodesReplicasComeBackAndTheRouterFollowsThemByName) {
    ASSERT_EQ(run_release(context, {"shop", "shop:1", std::nullopt}, 3), 0);
    std::string service;
    for (const auto& [name, record] : engine.swarm.services) {
        if (state::swarm::is_serve_service("shop", name)) {
            service = name;
        }
    }
    ASSERT_FALSE(service.empty());
    // The router was pointed at the service by name, once the swarm's DNS listed just the
    // gated tasks: not at a list of addresses that would go stale.
    std::string config;
    for (size_t i = 0; i < engine.commands.size(); ++i) {
        if (engine.commands[i].size() > 2 && engine.commands[i][1] == "exec" &&
            has(engine.commands[i], "update")) {
            config = engine.inputs[i];
        }
    }
    EXPECT_NE(config.find("set $pallet_app " + service + ";"), std::string::npos) << config;
    engine.swarm.lose_node("node2");
    EXPECT_EQ(engine.swarm.running(service).size(), 3u) << "the swarm replaced them";
    for (const auto* task : engine.swarm.running(service)) {
        EXPECT_NE(task->node, "n2bbbbbbbbbb");
    }
    ::testing::internal::CaptureStdout();
    run_status(context, std::string("shop"), Format::json);
    const std::string status = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(status.find(R"("Running":3,"Replicas":3)"), std::string::npos) << status;
}

TEST_P(Swarm, ScalingDownRoutesAwayFromTheHighestSlotsFirst) {
    ASSERT_EQ(run_release(context, {"shop", "shop:1", std::nullopt}, 3), 0);
    engine.commands.clear();
    ASSERT_EQ(run_scale(context, "shop", {"1"}), 0);
    // The router is sent to slot 1 alone before the swarm stops slots 2 and 3.
    size_t pinned = 0;
    size_t scaled = 0;
    for (size_t i = 0; i < engine.commands.size(); ++i) {
        const auto& args = engine.commands[i];
        if (pinned == 0 && args.size() > 2 && args[1] == "exec" && has(args, "update")) {
            pinned = i + 1;
        }
        if (args.size() > 2 && args[0] == "service" && args[1] == "scale") {
            scaled = i + 1;
        }
    }
    ASSERT_GT(pinned, 0u);
    ASSERT_GT(scaled, 0u);
    EXPECT_LT(pinned, scaled);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:1", 1}}));
}

}  // namespace
}  // namespace pallet::phases
