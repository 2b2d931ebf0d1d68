// The use cases, written once, against each orchestrator of the fake engine: one engine, and a
// swarm of three nodes (use_case_fixture.h). What they decide and what they leave behind must be
// the same on both; the end-to-end scenario runs the same against real engines and a real swarm.
#include <gtest/gtest.h>

#include "phases/release.h"
#include "phases/run.h"
#include "phases/scale.h"
#include "phases/serve.h"
#include "phases/serve_lock.h"
#include "phases/status.h"
#include "phases/stop.h"
#include "use_case_fixture.h"
#include "util/cancel.h"
#include "util/error.h"

namespace pallet::phases {
namespace {

using Deploying = UseCase;
INSTANTIATE_TEST_SUITE_P(BothOrchestrators, Deploying, ::testing::Values(Kind::engine, Kind::swarm),
                         kind_name);

TEST_P(Deploying, AnotherVersionWhileOneRunsIsRefusedWithoutWait) {
    create("shop");
    deploying("shop", "sha256:one");
    const std::string error = error_of([&] {
        deploy({"shop", "shop:2", std::nullopt}, image("shop:2"));
    });
    EXPECT_NE(error.find("another version is being deployed to shop"), std::string::npos) << error;
    EXPECT_NE(error.find("--wait"), std::string::npos) << "says what to do";
    EXPECT_NE(error.find("docker pallet logs shop --phase deploy -f"), std::string::npos)
        << "and how to follow it: " << error;
    EXPECT_TRUE(deploy_runs("shop")) << "the running deploy is left alone";
    ASSERT_EQ(deploys().size(), 1u) << "two versions never deploy at once";
    EXPECT_EQ(deploys()[0].image_id, "sha256:one");
}

TEST_P(Deploying, TheSameVersionJoinsTheRunningOne) {
    create("shop");
    std::optional<int> end;
    deploying("shop", "sha256:two", &end);
    auto before = engine.before;
    engine.before = [&](const std::vector<std::string>& args) {
        if (args.size() > 1 &&
            (args[1] == "logs" || args[1] == "wait" || (args.size() > 2 && args[2] == "logs"))) {
            end = 5;  // once followed, the running deploy ends, and fails
        }
        if (before) {
            before(args);
        }
    };
    EXPECT_EQ(deploy({"shop", "shop:2", std::nullopt}, image("shop:2")), 5)
        << "its result is the running deploy's own";
    ASSERT_EQ(deploys().size(), 1u) << "it followed that deploy, and started none";
}

TEST_P(Deploying, WaitsForAnotherVersionThenRunsItsOwn) {
    create("shop");
    std::optional<int> end;
    deploying("shop", "sha256:one", &end);
    int looks = 0;
    auto before = engine.before;
    engine.before = [&](const std::vector<std::string>& args) {
        if (++looks == 12) {
            end = 0;  // the other deploy ends
        }
        if (before) {
            before(args);
        }
    };
    EXPECT_EQ(deploy({"shop", "shop:2", std::chrono::seconds(0)}, image("shop:2")), 0);
    const auto history = deploys();
    ASSERT_EQ(history.size(), 2u) << "its own deploy ran once the lock was free";
    EXPECT_EQ(history[0].image_id, "sha256:two");
    EXPECT_EQ(history[0].result, "succeeded");
    EXPECT_EQ(history[1].image_id, "sha256:one");
    EXPECT_FALSE(deploy_runs("shop")) << "and the lock is free";
}

TEST_P(Deploying, AFailedDeploysExitCodeIsTheCommandsAndItIsNeverServed) {
    create("shop");
    if (swarm()) {
        engine.swarm.outcome = [](const auto&, const auto&) { return std::optional<int>(3); };
    } else {
        engine.exit_code = 3;
    }
    EXPECT_EQ(run_release(context, {"shop", "shop:2", std::nullopt}, std::nullopt), 3);
    const std::string error = error_of([&] { run_serve(context, {"shop", "shop:2", {}}); });
    EXPECT_NE(error.find("the last deploy of shop:2 to shop failed (exit 3)"), std::string::npos)
        << error;
    EXPECT_TRUE(serving().empty());
    EXPECT_FALSE(router_runs()) << "nothing of serving started";
}

TEST_P(Deploying, ARequiredServiceMissingStopsItBeforeAnythingRuns) {
    create("shop");
    ResolvedImage needs = image("shop:2");
    needs.record.labels[state::label::k_services_required] = "postgres";
    const size_t before = engine.commands.size();
    const std::string error = error_of([&] { deploy({"shop", "shop:2", std::nullopt}, needs); });
    EXPECT_NE(error.find("shop:2 requires the service postgres, which shop does not have; add "
                         "it: docker pallet env service shop add postgres"),
              std::string::npos)
        << error;
    EXPECT_TRUE(deploys().empty());
    for (size_t i = before; i < engine.commands.size(); ++i) {
        const auto& args = engine.commands[i];
        EXPECT_FALSE(args.size() > 1 && (args[1] == "create" || args[1] == "run") &&
                     args[0] != "network")
            << "nothing was started: " << args[0] << " " << args[1];
    }
}

// Serving: the rollout through the router, scale, rollback, stop and the serve lock.
class Serving : public UseCase {
  protected:
    Serving() {
        state::Environment env;
        env.health_timeout = 1;
        env.drain_ms = 0;
        create("shop", env);
    }
    int release(const std::string& ref, std::optional<int> replicas = std::nullopt) {
        return run_release(context, {"shop", ref, std::nullopt}, replicas);
    }
};
INSTANTIATE_TEST_SUITE_P(BothOrchestrators, Serving, ::testing::Values(Kind::engine, Kind::swarm),
                         kind_name);

TEST_P(Serving, AFirstServeStartsTheRouterAndSendsTrafficOnlyOnceHealthy) {
    std::vector<std::string> probed;
    engine.health = [&](const std::string& target) {
        probed.push_back(target);
        return std::string("HTTP/1.1 302 Found\r\nLocation: /login\r\n\r\n");  // below 400: healthy
    };
    EXPECT_EQ(release("shop:1", 2), 0);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:1", 2}}));
    EXPECT_TRUE(router_runs());
    EXPECT_EQ(probed.size(), 2u) << "each new replica answered before the switch";
    EXPECT_FALSE(serve_lock_held()) << "the serve lock is released";
}

TEST_P(Serving, AnUnhealthyVersionIsNeverServedAndTheOldOneStays) {
    ASSERT_EQ(release("shop:1", 2), 0);
    const auto before = serving();
    engine.health = [](const std::string&) {
        return std::string("HTTP/1.1 500 Internal Server Error\r\n\r\nboom\n");
    };
    const std::string error = error_of([&] { release("shop:2", 2); });
    EXPECT_NE(error.find("shop:2 did not become healthy, so nothing changed for users"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("status below 400"), std::string::npos) << error;
    EXPECT_EQ(serving(), before) << "shop:1 serves on, shop:2's replicas are gone";
    EXPECT_FALSE(serve_lock_held());
    auto opened = orchestrator::open(context, "shop");
    EXPECT_EQ(opened->state().serves.front().result, "failed health check")
        << "the history says so";
}

TEST_P(Serving, CancelledDuringTheDrainTheOldReplicasStopAtOnce) {
    ASSERT_EQ(release("shop:1", 2), 0);
    state::Environment env = state::EnvironmentStore(docker).get("shop");
    env.drain_ms = 60'000;
    state::EnvironmentStore(docker).save(env);
    struct Reset {
        ~Reset() { cancel::reset(); }
    } reset;
    engine.before = [](const std::vector<std::string>& args) {
        if (args.size() > 6 && args[1] == "exec" &&
            std::find(args.begin(), args.end(), "update") != args.end()) {
            cancel::request();  // Ctrl-C once the router sends requests to the new version
        }
    };
    const auto started = cancel::now();
    EXPECT_THROW(release("shop:2", 2), Cancelled);
    EXPECT_LT(cancel::now() - started, std::chrono::seconds(10)) << "not the whole drain";
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 2}}))
        << "the new version serves, the old stopped";
}

TEST_P(Serving, ScaleUpAndDownKeepsTheVersion) {
    ASSERT_EQ(release("shop:2", 1), 0);
    const int before_up = probes();
    EXPECT_EQ(run_scale(context, "shop", {"3"}), 0);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 3}}));
    EXPECT_EQ(probes(), before_up + 2) << "the two new replicas answered first";
    const int before = probes();
    EXPECT_EQ(run_scale(context, "shop", {"1"}), 0);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 1}}));
    EXPECT_EQ(probes(), before) << "scaling down starts nothing to check";
    auto opened = orchestrator::open(context, "shop");
    EXPECT_EQ(opened->state().serves.front().result, "scaled to 1");
}

TEST_P(Serving, NewReplicasOfAScaleThatAreNotHealthyAreRemovedAgain) {
    ASSERT_EQ(release("shop:2", 1), 0);
    engine.health = [](const std::string&) { return std::string("HTTP/1.1 503 No\r\n\r\n"); };
    const std::string error = error_of([&] { run_scale(context, "shop", {"3"}); });
    EXPECT_NE(error.find("the new replicas did not become healthy, so nothing changed"),
              std::string::npos)
        << error;
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 1}}));
}

TEST_P(Serving, RollbackServesThePreviousVersionAfterItsDeployRunsAgain) {
    ASSERT_EQ(release("shop:1"), 0);
    ASSERT_EQ(release("shop:2"), 0);
    const size_t before = deploys().size();
    EXPECT_EQ(run_rollback(context, RollbackOptions{"shop"}), 0);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:1", 1}}));
    ASSERT_EQ(deploys().size(), before + 1) << "the deploy of shop:1 ran again first";
    EXPECT_EQ(deploys()[0].version, "shop:1");
}

TEST_P(Serving, StopRemovesReplicasAndRouterAndTheHistorySaysSo) {
    ASSERT_EQ(release("shop:1", 2), 0);
    EXPECT_EQ(run_stop(context, "shop"), 0);
    EXPECT_TRUE(serving().empty());
    EXPECT_FALSE(router_runs());
    auto opened = orchestrator::open(context, "shop");
    EXPECT_EQ(opened->state().serves.front().result, "stopped");
    EXPECT_EQ(opened->state().serves.front().version, "shop:1");
}

TEST_P(Serving, StatusAndHistoryTellWhatServesAndWhatRan) {
    ASSERT_EQ(release("shop:1", 2), 0);
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(run_status(context, std::string("shop"), Format::json), 0);
    const std::string status = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(status.find(R"("Name":"shop","Kind":"dev","Serving":"shop:1","Running":2,)"
                          R"("Replicas":2)"),
              std::string::npos)
        << status;
    EXPECT_NE(status.find(R"("LastDeploy":{"Version":"shop:1","Result":"succeeded")"),
              std::string::npos)
        << status;
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(run_history(context, "shop", Format::json), 0);
    const std::string history = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(history.find(R"("Phase":"serve","Version":"shop:1","ImageID":"sha256:one",)"
                           R"("Result":"serving")"),
              std::string::npos)
        << history;
    EXPECT_NE(history.find(R"("Phase":"deploy","Version":"shop:1","ImageID":"sha256:one",)"
                           R"("Result":"succeeded")"),
              std::string::npos)
        << history;
}

TEST_P(Serving, AServeLockLeftByAnEndedHolderIsTakenOver) {
    auto opened = orchestrator::open(context, "shop");
    const state::Environment env = *opened->state().settings;
    // Bob's command took the lock and died; on a swarm the lock is older than any change.
    ASSERT_TRUE(opened->take_serve_lock(env, std::chrono::seconds(60)));
    if (swarm()) {
        ASSERT_EQ(engine.swarm.configs.count("pallet-shop-serve-lock"), 1u);
    } else {
        engine.find("pallet-shop-serve-lock")->status = "exited";
    }
    {
        ServeLock lock(context, *opened, env, std::chrono::seconds(swarm() ? -3600 : 60));
        EXPECT_FALSE(lock.waited());
        EXPECT_TRUE(serve_lock_held());
    }
    EXPECT_FALSE(serve_lock_held()) << "released at the end";
}

TEST_P(Serving, AServeLockHeldByAnotherCommandIsWaitedFor) {
    auto opened = orchestrator::open(context, "shop");
    const state::Environment env = *opened->state().settings;
    ASSERT_TRUE(opened->take_serve_lock(env, std::chrono::seconds(60)));  // another command's
    int looks = 0;
    engine.before = [&](const std::vector<std::string>&) {
        if (++looks == 8) {
            opened->release_serve_lock(env);  // its holder releases it
        }
    };
    ServeLock lock(context, *opened, env, std::chrono::seconds(60));
    engine.before = nullptr;
    EXPECT_TRUE(lock.waited()) << "what it read before may have changed";
    EXPECT_TRUE(serve_lock_held()) << "ours now";
}

TEST_P(Serving, ARunGetsWhatAServeReplicaGetsAndLeavesNothing) {
    ASSERT_EQ(release("shop:2"), 0);
    engine.exit_code = 4;
    const size_t containers = engine.containers.size();
    EXPECT_EQ(run_run(context, {"shop", std::nullopt, {"manage.py", "migrate"}, false, false}), 4)
        << "its exit status passes through";
    std::vector<std::string> run;
    for (const auto& args : engine.commands) {
        if (args.size() > 2 && args[0] == "container" && args[1] == "run") {
            run = args;
        }
    }
    ASSERT_FALSE(run.empty());
    EXPECT_NE(std::find(run.begin(), run.end(), "--rm"), run.end());
    EXPECT_NE(std::find(run.begin(), run.end(), "pallet-shop"), run.end())
        << "on the environment's network";
    EXPECT_NE(std::find(run.begin(), run.end(), "sha256:two"), run.end()) << "the served image";
    EXPECT_EQ(run.back(), "migrate");
    const std::string storage = swarm()
                                    ? "type=bind,source=/srv/shared/shop/storage,target=/storage"
                                    : "type=volume,source=pallet-shop-storage,target=/storage";
    EXPECT_NE(std::find(run.begin(), run.end(), storage), run.end()) << "its /storage";
    EXPECT_EQ(engine.containers.size(), containers) << "nothing is left";
}

}  // namespace
}  // namespace pallet::phases
