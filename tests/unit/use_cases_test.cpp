// The use cases against a fake engine (tests/unit/fake_engine.h): their logic and what they
// leave on the engine, without one. The end-to-end suites run the same against real engines.
#include <gtest/gtest.h>

#include <memory>

#include "docker/docker_cli.h"
#include "fake_engine.h"
#include "phases/context.h"
#include "phases/deploy.h"
#include "phases/phase_env.h"
#include "phases/release.h"
#include "phases/scale.h"
#include "phases/serve.h"
#include "phases/serve_lock.h"
#include "phases/status.h"
#include "state/environments.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"

namespace pallet::phases {
namespace {

using testing::FakeEngine;

class UseCase : public ::testing::Test {
  protected:
    UseCase() : docker(engine, docker::DockerTarget{}) {
        engine.images["shop:1"] = "sha256:one";
        engine.images["shop:2"] = "sha256:two";
    }
    state::Environment create(const std::string& name) {
        state::Environment env;
        env.name = name;
        return state::EnvironmentStore(docker).create(env);
    }
    // A deploy container that holds the deploy lock of `env`.
    FakeEngine::Container& deploying(const std::string& env, const std::string& image_id,
                                     const std::string& status) {
        return engine.add(state::deploy_container(env),
                          {{state::label::k_managed, "true"},
                           {state::label::k_env, env},
                           {state::label::k_phase, state::phase::k_deploy},
                           {state::label::k_image_id, image_id},
                           {state::label::k_version, "shop:?"}},
                          status);
    }
    ResolvedImage image(const std::string& ref) {
        ResolvedImage resolved{ref, {}};
        resolved.record.id = engine.images[ref];
        return resolved;
    }

    FakeEngine engine;
    docker::DockerCli docker;
    Context context{docker, [](const std::string&) { return std::nullopt; }, "ann", "ci"};
};

TEST_F(UseCase, SettingsGenerationsOneWriterWinsTheOtherIsTold) {
    create("shop");
    EXPECT_NE(engine.find("pallet-shop-config-1"), nullptr);
    state::EnvironmentStore store(docker);
    state::Environment mine = store.get("shop");
    state::Environment theirs = store.get("shop");
    mine.kind = "prod";
    store.save(mine);
    EXPECT_NE(engine.find("pallet-shop-config-2"), nullptr);
    EXPECT_EQ(engine.find("pallet-shop-config-1"), nullptr) << "the generation before goes";
    theirs.kind = "uat";
    try {
        store.save(theirs);
        FAIL() << "a writer of a stale generation must lose";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("was changed by someone else meanwhile"),
                  std::string::npos);
    }
    EXPECT_EQ(store.get("shop").kind, "prod") << "the first writer's settings stand";
    EXPECT_THROW(create("shop"), Error) << "an environment is created once";
}

TEST_F(UseCase, StatusOfFiftyEnvironmentsInThreeDockerCalls) {
    for (int i = 1; i <= 50; ++i) {
        create(fmt::format("env-{}", i));
    }
    engine.add("pallet-env-7-serve-1",
               {{state::label::k_managed, "true"},
                {state::label::k_env, "env-7"},
                {state::label::k_phase, state::phase::k_serve},
                {state::label::k_version, "shop:2"}},
               "running");
    engine.commands.clear();
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(run_status(context, std::nullopt, Format::json), 0);
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 50) << "one line per environment";
    EXPECT_NE(
        out.find(R"({"Name":"env-7","Kind":"dev","Serving":"shop:2","Running":1,"Replicas":1)"),
        std::string::npos);
    EXPECT_NE(out.find(R"({"Name":"env-8","Kind":"dev","Serving":"","Running":0,"Replicas":0)"),
              std::string::npos);
    EXPECT_EQ(engine.commands.size(), 3u)
        << "container ls, container inspect, config ls: not one per environment";
}

TEST_F(UseCase, DeployOfAnotherVersionWhileOneRunsIsRefusedWithoutWait) {
    create("shop");
    const std::string holder = deploying("shop", "sha256:one", "running").id;
    try {
        deploy_image(context, {"shop", "shop:2", std::nullopt}, image("shop:2"));
        FAIL() << "two versions never deploy at once";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("another version is being deployed to shop"),
                  std::string::npos);
        EXPECT_NE(std::string(e.what()).find("--wait"), std::string::npos) << "says what to do";
    }
    ASSERT_NE(engine.find("pallet-shop-deploy"), nullptr);
    EXPECT_TRUE(engine.find("pallet-shop-deploy")->running()) << "the running deploy is left alone";
    EXPECT_EQ(engine.find("pallet-shop-deploy")->id, holder) << "and no other took its place";
    EXPECT_EQ(engine.count({"container", "rm"}), 0);
    EXPECT_EQ(engine.count({"container", "stop"}), 0);
}

TEST_F(UseCase, DeployOfTheSameVersionJoinsTheRunningOne) {
    create("shop");
    deploying("shop", "sha256:two", "running");
    engine.exit_code = 0;
    EXPECT_EQ(deploy_image(context, {"shop", "shop:2", std::nullopt}, image("shop:2")), 0);
    EXPECT_EQ(engine.count({"container", "run"}), 1)
        << "one attempt, refused by the name, then followed";
    EXPECT_EQ(engine.count({"container", "wait", engine.find("pallet-shop-deploy")->id}), 1)
        << "it waits for the running deploy's own result";
}

TEST_F(UseCase, DeployWaitsForAnotherVersionThenRunsItsOwn) {
    create("shop");
    FakeEngine::Container& holder = deploying("shop", "sha256:one", "running");
    const std::string holder_id = holder.id;
    int looks = 0;
    engine.before = [&](const std::vector<std::string>& args) {
        if (args.size() == 3 && args[0] == "container" && args[1] == "inspect" &&
            args[2] == "pallet-shop-deploy" && ++looks == 2) {
            engine.find("pallet-shop-deploy")->status = "exited";  // the other deploy ends
        }
    };
    engine.exit_code = 0;
    EXPECT_EQ(deploy_image(context, {"shop", "shop:2", std::chrono::seconds(0)}, image("shop:2")),
              0);
    const FakeEngine::Container* mine = engine.find("pallet-shop-deploy");
    ASSERT_NE(mine, nullptr);
    EXPECT_EQ(mine->image_id, "sha256:two") << "its own deploy ran once the lock was free";
    const FakeEngine::Container* archived = engine.find(holder_id);
    ASSERT_NE(archived, nullptr) << "the finished deploy is kept as history";
    EXPECT_EQ(archived->name.rfind("pallet-shop-deploy-", 0), 0u) << "under a name of its own";
}

TEST_F(UseCase, AFinishedDeployIsArchivedBeforeTheNextTakesTheLock) {
    create("shop");
    const std::string old_id = deploying("shop", "sha256:one", "exited").id;
    engine.exit_code = 3;
    EXPECT_EQ(deploy_image(context, {"shop", "shop:2", std::nullopt}, image("shop:2")), 3)
        << "a failed deploy's exit code is the command's";
    EXPECT_EQ(engine.find("pallet-shop-deploy")->image_id, "sha256:two");
    EXPECT_EQ(engine.find(old_id)->name.rfind("pallet-shop-deploy-", 0), 0u);
    // The deploy as docker runs it: the image by ID (the version deployed is the one checked),
    // the environment's network and volumes, variables by name only (values reach docker's
    // environment, never its argv), the labels in a file, the image's own user and entrypoint.
    std::vector<std::string> run;
    for (const auto& args : engine.commands) {
        if (args.size() > 1 && args[1] == "run") {
            run = args;
        }
    }
    ASSERT_GT(run.size(), 7u);
    EXPECT_NE(run[6].find("docker-pallet."), std::string::npos) << "a private label file";
    run[6] = "LABELS";
    EXPECT_EQ(run,
              (std::vector<std::string>{"container",
                                        "run",
                                        "--detach",
                                        "--name",
                                        "pallet-shop-deploy",
                                        "--label-file",
                                        "LABELS",
                                        "--network",
                                        "pallet-shop",
                                        "--mount",
                                        "type=volume,source=pallet-shop-storage,target=/storage",
                                        "--mount",
                                        "type=volume,source=pallet-shop-static,target=/static",
                                        "--env",
                                        "SITE_PROTOCOL",
                                        "--env",
                                        "SITE_DOMAIN",
                                        "--env",
                                        "ENVIRONMENT",
                                        "sha256:two",
                                        "deploy"}));
}

}  // namespace
}  // namespace pallet::phases

namespace pallet::phases {
namespace {

// Serving: the rollout through the router, scale, rollback and the serve lock, on the fake
// engine (health requests answered by FakeEngine::health).
class Serving : public UseCase {
  protected:
    Serving() {
        state::Environment env = create("shop");
        env.health_timeout = 1;
        env.drain_ms = 0;
        state::EnvironmentStore(docker).save(env);
    }
    // Deploys (succeeding) and serves `ref` with `replicas`; the command's exit code.
    int release(const std::string& ref, std::optional<int> replicas = std::nullopt) {
        return run_release(context, {"shop", ref, std::nullopt}, replicas);
    }
    // The serve containers that run, by version.
    std::map<std::string, int> serving() {
        std::map<std::string, int> versions;
        for (const auto& [name, container] : engine.containers) {
            if (container.running() && container.labels.count(state::label::k_phase) > 0 &&
                container.labels.at(state::label::k_phase) == state::phase::k_serve) {
                ++versions[container.labels.at(state::label::k_version)];
            }
        }
        return versions;
    }
    int probes() const { return engine.health_requests; }
};

TEST_F(Serving, AFirstServeStartsTheRouterAndSendsTrafficOnlyOnceHealthy) {
    std::vector<std::string> probed;
    engine.health = [&](const std::string& target) {
        probed.push_back(target);
        return std::string("HTTP/1.1 302 Found\r\nLocation: /login\r\n\r\n");  // below 400: healthy
    };
    EXPECT_EQ(release("shop:1", 2), 0);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:1", 2}}));
    ASSERT_NE(engine.find("pallet-shop-router"), nullptr);
    EXPECT_TRUE(engine.find("pallet-shop-router")->running());
    EXPECT_EQ(probed.size(), 2u) << "each new container answered before the switch";
    EXPECT_EQ(engine.find("pallet-shop-serve-lock"), nullptr) << "the serve lock is released";
    EXPECT_EQ(std::to_string(state::EnvironmentStore(docker).get("shop").port),
              engine.find("pallet-shop-router")->host_port)
        << "the port the engine chose is kept as the environment's";
}

TEST_F(Serving, AnUnhealthyVersionIsNeverServedAndTheOldOneStays) {
    ASSERT_EQ(release("shop:1", 2), 0);
    const auto before = serving();
    engine.health = [](const std::string&) {
        return std::string("HTTP/1.1 500 Internal Server Error\r\n\r\nboom\n");
    };
    int code = 0;
    try {
        code = release("shop:2", 2);
    } catch (const Error& e) {
        code = 1;
        EXPECT_NE(std::string(e.what()).find("status below 400"), std::string::npos) << e.what();
    }
    EXPECT_NE(code, 0);
    EXPECT_EQ(serving(), before) << "shop:1 serves on, shop:2's containers are gone";
    EXPECT_EQ(engine.find("pallet-shop-serve-lock"), nullptr);
}

TEST_F(Serving, CancelledDuringTheDrainTheOldContainersStopAtOnce) {
    ASSERT_EQ(release("shop:1", 2), 0);
    state::Environment env = state::EnvironmentStore(docker).get("shop");
    env.drain_ms = 60'000;
    state::EnvironmentStore(docker).save(env);
    struct Reset {
        ~Reset() { cancel::reset(); }
    } reset;
    engine.before = [](const std::vector<std::string>& args) {
        if (args.size() > 2 && args[1] == "update") {
            cancel::request();  // Ctrl-C once the new version carries traffic
        }
    };
    const auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(release("shop:2", 2), Cancelled);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10))
        << "not the whole drain";
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 2}}))
        << "the new version serves, the old stopped";
}

TEST_F(Serving, ScaleUpAndDownKeepsTheVersion) {
    ASSERT_EQ(release("shop:2", 1), 0);
    EXPECT_EQ(run_scale(context, "shop", 3), 0);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 3}}));
    const int before = probes();
    EXPECT_EQ(run_scale(context, "shop", 1), 0);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 1}}));
    EXPECT_EQ(probes(), before) << "scaling down starts nothing to check";
}

TEST_F(Serving, RollbackServesThePreviousVersionAfterItsDeployRunsAgain) {
    ASSERT_EQ(release("shop:1"), 0);
    ASSERT_EQ(release("shop:2"), 0);
    const int deploys =
        engine.count({"container", "run", "--detach", "--name", "pallet-shop-deploy"});
    EXPECT_EQ(run_rollback(context, "shop", std::nullopt), 0);
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:1", 1}}));
    EXPECT_EQ(engine.count({"container", "run", "--detach", "--name", "pallet-shop-deploy"}),
              deploys + 1)
        << "the deploy of shop:1 ran again first";
}

TEST_F(Serving, AServeLockLeftByAnEndedHolderIsTakenOver) {
    engine.add("pallet-shop-serve-lock",
               {{state::label::k_managed, "true"},
                {state::label::k_env, "shop"},
                {state::label::k_phase, state::phase::k_serve_lock},
                {state::label::k_user, "bob"},
                {state::label::k_host, "ci-2"}},
               "exited");
    {
        ServeLock lock(context, "shop", std::chrono::seconds(60));
        EXPECT_FALSE(lock.waited());
        ASSERT_NE(engine.find("pallet-shop-serve-lock"), nullptr);
        EXPECT_TRUE(engine.find("pallet-shop-serve-lock")->running());
        EXPECT_EQ(engine.find("pallet-shop-serve-lock")->labels.at(state::label::k_user), "ann")
            << "ours now";
    }
    EXPECT_EQ(engine.find("pallet-shop-serve-lock"), nullptr) << "released at the end";
}

TEST_F(Serving, AServeLockHeldByAnotherCommandIsWaitedFor) {
    engine.add("pallet-shop-serve-lock",
               {{state::label::k_managed, "true"},
                {state::label::k_env, "shop"},
                {state::label::k_user, "bob"}},
               "running");
    int looks = 0;
    engine.before = [&](const std::vector<std::string>& args) {
        if (args.size() == 3 && args[1] == "inspect" && args[2] == "pallet-shop-serve-lock" &&
            ++looks == 3) {
            engine.containers.erase("pallet-shop-serve-lock");  // its holder releases it
        }
    };
    ServeLock lock(context, "shop", std::chrono::seconds(60));
    EXPECT_TRUE(lock.waited()) << "what it read before may have changed";
    EXPECT_EQ(engine.find("pallet-shop-serve-lock")->labels.at(state::label::k_user), "ann");
}

}  // namespace
}  // namespace pallet::phases

namespace pallet::state {
namespace {

TEST(EnvironmentRecords, AConfigsNameTellsItsEnvironment) {
    EXPECT_EQ(environment_of_config("pallet-shop-config-12"), "shop");
    EXPECT_EQ(environment_of_config("pallet-pr-42-config-1"), "pr-42");
    EXPECT_EQ(environment_of_config("pallet-shop-deploy-lock"), std::nullopt);
    EXPECT_EQ(environment_of_config("pallet-shop-config-"), std::nullopt);
    EXPECT_EQ(environment_of_config("other-shop-config-1"), std::nullopt);
}

}  // namespace
}  // namespace pallet::state
