// The engine's implementation of the seam against the fake engine (tests/unit/fake_engine.h):
// its records, its calls, its locks, in docker's own words. The rules every orchestrator shares
// are tested in use_cases_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "docker/docker_cli.h"
#include "fake_engine.h"
#include "orchestrator/open.h"
#include "phases/deploy.h"
#include "phases/release.h"
#include "phases/scale.h"
#include "phases/serve.h"
#include "phases/serve_lock.h"
#include "phases/status.h"
#include "phases/use_case.h"
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
        cancel::use_virtual_time(true);  // the polls' sleeps pass at once
    }
    ~UseCase() override { cancel::use_virtual_time(false); }
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
    // deploy_image in the environment as it is now.
    int deploy(const DeployOptions& options, const ResolvedImage& image) {
        auto opened = orchestrator::open(context, options.env);
        return deploy_image(context, *opened, options, image);
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

TEST_F(UseCase, SettingsAreWrittenInOneCallOnceTheRecordImageIsThere) {
    const size_t from = engine.commands.size();
    create("shop");

    // The first write finds no record image: it is made on the engine, and the write done again.
    ASSERT_EQ(engine.commands.size() - from, 5U);  // after the two lookups of the name: these
    EXPECT_EQ(engine.commands[from + 2][1], "create");
    EXPECT_EQ(engine.commands[from + 3][0], "image");
    EXPECT_EQ(engine.commands[from + 3][1], "import");
    EXPECT_EQ(engine.commands[from + 4][1], "create");
    const auto& write = engine.commands[from + 4];
    const auto pull = std::find(write.begin(), write.end(), "--pull");
    ASSERT_NE(pull, write.end()) << "never pulled: the name is on no registry";
    EXPECT_EQ(*(pull + 1), "never");
    // From then on: one call a write (no question whether the image is there first).
    state::EnvironmentStore store(docker);
    state::Environment env = store.get("shop");
    const size_t before = engine.commands.size();
    env.kind = "prod";
    store.save(env);
    size_t creates = 0;
    for (size_t i = before; i < engine.commands.size(); ++i) {
        EXPECT_NE(engine.commands[i][0], "image") << "no image asked or made again";
        creates += engine.commands[i].size() > 1 && engine.commands[i][1] == "create" ? 1 : 0;
    }
    EXPECT_EQ(creates, 1U);
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
    ASSERT_EQ(engine.commands.size(), 2u)
        << "container ls and config ls (at the same time): not one per environment, no inspect";
    std::vector<std::string> verbs;
    for (const auto& command : engine.commands) {
        verbs.push_back(command[0] + " " + command[1]);
    }
    std::sort(verbs.begin(), verbs.end());
    EXPECT_EQ(verbs, (std::vector<std::string>{"config ls", "container ls"}));
}

TEST_F(UseCase, AnEnvironmentWithALongHistoryIsReadInOneListingAndItsServicesInspected) {
    create("shop");
    auto labels = [](const char* phase) {
        return std::map<std::string, std::string>{{state::label::k_managed, "true"},
                                                  {state::label::k_env, "shop"},
                                                  {state::label::k_phase, phase}};
    };
    for (int i = 0; i < 30; ++i) {
        engine.add(fmt::format("pallet-shop-deploy-{}", i), labels(state::phase::k_deploy),
                   "exited");
        engine.add(fmt::format("pallet-shop-served-{}", i), labels(state::phase::k_serve_record),
                   "created");
    }
    auto service = labels(state::phase::k_service);
    service[state::label::k_service] = "postgres";
    const std::string postgres = engine.add("pallet-shop-postgres", service, "running").id;
    engine.commands.clear();
    auto opened = orchestrator::open(context, "shop");
    ASSERT_EQ(engine.commands.size(), 2u) << "a listing, then an inspect of what it lacks";
    EXPECT_EQ(engine.commands[0][1], "ls");
    EXPECT_EQ(engine.commands[1], (std::vector<std::string>{"container", "inspect", postgres}))
        << "only the service's container (the password it was made with), not 61 records";
    ASSERT_EQ(opened->state().deploys.size(), 30u);
    EXPECT_EQ(opened->state().deploys.front().result, "succeeded");
    EXPECT_FALSE(opened->state().deploys.front().duration) << "a listing has no end times";

    engine.commands.clear();
    auto history = orchestrator::open(context, "shop", state::Reading::with_deploy_times);
    ASSERT_EQ(engine.commands.size(), 2u);
    EXPECT_EQ(engine.commands[1].size(), 2u + 31u) << "the service's and the 30 deploys' ids";
    EXPECT_TRUE(history->state().deploys.front().duration) << "history shows how long each took";
}

TEST_F(UseCase, AFinishedDeployIsArchivedBeforeTheNextTakesTheLock) {
    create("shop");
    const std::string old_id = deploying("shop", "sha256:one", "exited").id;
    engine.exit_code = 3;
    EXPECT_EQ(deploy({"shop", "shop:2", std::nullopt}, image("shop:2")), 3)
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

TEST_F(Serving, AServeLockLeftByAnEndedHolderIsTakenOver) {
    engine.add("pallet-shop-serve-lock",
               {{state::label::k_managed, "true"},
                {state::label::k_env, "shop"},
                {state::label::k_phase, state::phase::k_serve_lock},
                {state::label::k_user, "bob"},
                {state::label::k_host, "ci-2"}},
               "exited");
    {
        auto opened = orchestrator::open(context, "shop");
        const state::Environment env = *opened->state().settings;
        ServeLock lock(context, *opened, env, std::chrono::seconds(60));
        EXPECT_FALSE(lock.waited());
        ASSERT_NE(engine.find("pallet-shop-serve-lock"), nullptr);
        EXPECT_TRUE(engine.find("pallet-shop-serve-lock")->running());
        EXPECT_EQ(engine.find("pallet-shop-serve-lock")->labels.at(state::label::k_user), "ann")
            << "ours now";
    }
    EXPECT_EQ(engine.find("pallet-shop-serve-lock"), nullptr) << "released at the end";
}

// The `container run`s of the router, their --publish values in order.
std::vector<std::string> router_runs(const FakeEngine& engine) {
    std::vector<std::string> publishes;
    for (const auto& args : engine.commands) {
        const auto name = std::find(args.begin(), args.end(), "pallet-shop-router");
        if (args.size() > 1 && args[0] == "container" && args[1] == "run" && name != args.end() &&
            *(name - 1) == "--name") {
            const auto publish = std::find(args.begin(), args.end(), "--publish");
            publishes.push_back(publish == args.end() ? "" : *(publish + 1));
        }
    }
    return publishes;
}

TEST_F(Serving, AFirstRouterStartsOnceOnAPortItKeeps) {
    ASSERT_EQ(release("shop:1"), 0);
    const auto runs = router_runs(engine);
    ASSERT_EQ(runs.size(), 1u) << "one start, no second one to pin the port";
    const int port = std::stoi(runs[0].substr(runs[0].find(':') + 1));
    EXPECT_EQ(runs[0], fmt::format("127.0.0.1:{}:80", port));
    EXPECT_GE(port, 32768);
    EXPECT_LE(port, 60999);
    EXPECT_EQ(state::EnvironmentStore(docker).get("shop").port, port) << "kept for good";
    for (const auto& args : engine.commands) {
        EXPECT_FALSE(args.size() > 3 && args[0] == "container" && args[1] == "rm" &&
                     args.back() == "pallet-shop-router")
            << "no router to remove before the first";
    }
}

TEST_F(Serving, AReleaseMakesANewEnvironmentsNetworkAndVolumesOnce) {
    ASSERT_EQ(release("shop:1"), 0);
    int network_lookups = 0;
    int storage_creates = 0;
    for (const auto& args : engine.commands) {
        network_lookups +=
            args.size() > 1 && args[0] == "network" && args[1] == "ls" &&
            std::find(args.begin(), args.end(), "label=io.pallet.env=shop") != args.end();
        storage_creates += args.size() > 1 && args[0] == "volume" && args[1] == "create" &&
                           args.back() == "pallet-shop-storage";
    }
    EXPECT_EQ(network_lookups, 1) << "its serve does not ask again after its deploy";
    EXPECT_EQ(storage_creates, 1);
    EXPECT_NE(engine.find("pallet-shop-router"), nullptr);
}

TEST_F(Serving, WhenThePortsItChoosesAreTakenTheEnginePicksOne) {
    engine.refuse_chosen_ports = true;  // a program of the host has each port it tries
    ASSERT_EQ(release("shop:1"), 0);
    const auto runs = router_runs(engine);
    ASSERT_EQ(runs.size(), 4u) << "two ports tried, the engine's, then again on the engine's";
    EXPECT_EQ(runs[2], "127.0.0.1::80");
    const int port = state::EnvironmentStore(docker).get("shop").port;
    EXPECT_EQ(runs[3], fmt::format("127.0.0.1:{}:80", port));
    EXPECT_TRUE(engine.find("pallet-shop-router")->running());
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:1", 1}}));
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
