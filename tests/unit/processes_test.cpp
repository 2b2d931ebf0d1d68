// Process types (io.pallet.processes) against each orchestrator of the fake engine: the order of
// an upgrade (old processes stop before new ones start, before the router switches), a new
// process that exits while it settles, scale, counts kept, bad names.
#include <gtest/gtest.h>

#include <set>

#include "phases/release.h"
#include "phases/scale.h"
#include "phases/serve.h"
#include "phases/status.h"
#include "phases/stop.h"
#include "use_case_fixture.h"
#include "util/error.h"

namespace pallet::phases {
namespace {

class ProcessTypes : public UseCase {
  protected:
    ProcessTypes() {
        for (const char* id : {"sha256:one", "sha256:two"}) {
            engine.image_labels[id] = {{"io.pallet.processes", "worker, clock"}};
        }
        state::Environment env;
        env.health_timeout = 1;
        env.drain_ms = 0;
        env.process_settle = 0;  // one look: the fake decides at once whether they run
        create("shop", env);
        engine.before = [this](const std::vector<std::string>&) { watch(); };
    }
    int release(const std::string& ref) {
        return run_release(context, {"shop", ref, std::nullopt}, std::nullopt);
    }
    // The processes that run, by "version type".
    std::map<std::string, int> processes() {
        std::map<std::string, int> running;
        if (!swarm()) {
            for (const auto& [name, container] : engine.containers) {
                const auto& labels = container.labels;
                if (container.running() && labels.count(state::label::k_phase) > 0 &&
                    labels.at(state::label::k_phase) == state::phase::k_process) {
                    ++running[labels.at(state::label::k_version) + " " +
                              labels.at(state::label::k_process)];
                }
            }
            return running;
        }
        for (const auto& [name, service] : engine.swarm.services) {
            if (service.labels.count(state::label::k_process) > 0) {
                const int count = static_cast<int>(engine.swarm.running(name).size());
                if (count > 0) {
                    running[service.labels.at(state::label::k_version) + " " +
                            service.labels.at(state::label::k_process)] += count;
                }
            }
        }
        return running;
    }
    // Before every docker command: were two versions of one type ever running at once?
    void watch() {
        std::map<std::string, std::set<std::string>> versions;  // type -> versions running
        for (const auto& [key, count] : processes()) {
            versions[key.substr(key.find(' ') + 1)].insert(key.substr(0, key.find(' ')));
        }
        for (const auto& [type, running] : versions) {
            overlapped = overlapped || running.size() > 1;
        }
    }
    bool overlapped = false;
};
INSTANTIATE_TEST_SUITE_P(BothOrchestrators, ProcessTypes,
                         ::testing::Values(Kind::engine, Kind::swarm), kind_name);

TEST_P(ProcessTypes, ReleaseRunsOneOfEachTypeThroughTheImagesEntrypoint) {
    ASSERT_EQ(release("shop:1"), 0);
    EXPECT_EQ(processes(), (std::map<std::string, int>{{"shop:1 clock", 1}, {"shop:1 worker", 1}}));
    if (!swarm()) {
        const auto* worker = [&]() -> const testing::FakeEngine::Container* {
            for (const auto& [name, container] : engine.containers) {
                if (name.rfind("pallet-shop-proc-worker-", 0) == 0) {
                    return &container;
                }
            }
            return nullptr;
        }();
        ASSERT_NE(worker, nullptr);
        EXPECT_EQ(worker->command, std::vector<std::string>{"worker"}) << "its type is its command";
        EXPECT_EQ(worker->image, "sha256:one");
        EXPECT_TRUE(worker->host_port.empty()) << "no port";
    } else {
        for (const auto& [name, service] : engine.swarm.services) {
            if (name.rfind("pallet-shop-proc-worker-", 0) == 0) {
                EXPECT_EQ(service.command, std::vector<std::string>{"worker"});
                EXPECT_TRUE(service.publish.empty()) << "no port";
            }
        }
    }
}

TEST_P(ProcessTypes, AnUpgradeStopsTheOldProcessesBeforeTheNewOnesStartAndThenSwitches) {
    ASSERT_EQ(release("shop:1"), 0);
    engine.commands.clear();
    ASSERT_EQ(release("shop:2"), 0);
    EXPECT_FALSE(overlapped) << "two versions of one type never ran at once";
    EXPECT_EQ(processes(), (std::map<std::string, int>{{"shop:2 clock", 1}, {"shop:2 worker", 1}}));
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:2", 1}}));
    // The order: new processes made, old ones stopped, new ones started, then the router's
    // switch. Made first, the new ones start with one command once the old ones have stopped.
    const auto names_new_worker = [](const std::vector<std::string>& args) {
        return std::any_of(args.begin(), args.end(), [](const std::string& arg) {
            return arg.find("pallet-shop-proc-worker-") != std::string::npos;
        });
    };
    size_t created = 0;
    size_t stopped = 0;
    size_t started = 0;
    size_t switched = 0;
    for (size_t i = 0; i < engine.commands.size(); ++i) {
        const auto& args = engine.commands[i];
        const bool scales_to_zero = std::any_of(args.begin(), args.end(), [](const auto& arg) {
            return arg.find("-proc-worker-") != std::string::npos && arg.ends_with("=0");
        });
        const bool old_stop = swarm() ? args.size() > 3 && args[1] == "scale" && scales_to_zero
                                      : args.size() > 2 && args[1] == "stop" &&
                                            args[2].find("-proc-") != std::string::npos;
        const bool new_start =
            swarm()
                ? args.size() > 3 && args[1] == "scale" && names_new_worker(args) && !scales_to_zero
                : args.size() > 2 && args[1] == "start" && names_new_worker(args);
        if (args.size() > 4 && args[1] == "create" && names_new_worker(args) && created == 0) {
            created = i + 1;
        }
        if (old_stop && stopped == 0) {
            stopped = i + 1;
        }
        if (new_start && started == 0 && stopped != 0) {
            started = i + 1;
        }
        if (args.size() > 2 && args[1] == "exec" &&
            std::find(args.begin(), args.end(), "update") != args.end()) {
            switched = i + 1;
        }
    }
    ASSERT_GT(created, 0u);
    EXPECT_LT(created, stopped) << "the new ones are made before the old ones stop";
    ASSERT_GT(stopped, 0u);
    ASSERT_GT(started, 0u);
    EXPECT_LT(stopped, started);
    EXPECT_LT(started, switched) << "the router switched last";
    auto opened = orchestrator::open(context, "shop");
    EXPECT_EQ(opened->state().serves.front().processes,
              (std::map<std::string, int>{{"clock", 1}, {"worker", 1}}))
        << "history records the counts";
}

TEST_P(ProcessTypes, ANewProcessThatExitsFailsTheReleaseAndTheOldOnesRunAgain) {
    ASSERT_EQ(release("shop:1"), 0);
    if (swarm()) {
        engine.swarm.crash = [](const auto& service, const auto&) -> std::optional<int> {
            if (service.labels.count(state::label::k_image_id) > 0 &&
                service.labels.at(state::label::k_image_id) == "sha256:two" &&
                service.name.find("-proc-worker-") != std::string::npos) {
                return 1;
            }
            return std::nullopt;
        };
    } else {
        engine.started = [](testing::FakeEngine::Container& container) {
            if (container.image == "sha256:two" &&
                container.name.find("-proc-worker-") != std::string::npos) {
                container.status = "exited";
                container.exit_code = 1;
            }
        };
    }
    const std::string error = error_of([&] { release("shop:2"); });
    EXPECT_NE(error.find("the worker process of shop:2 exited (exit 1)"), std::string::npos)
        << error;
    EXPECT_NE(error.find("the old version serves and its processes run again"), std::string::npos)
        << error;
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:1", 1}}))
        << "the router never switched";
    EXPECT_EQ(processes(), (std::map<std::string, int>{{"shop:1 clock", 1}, {"shop:1 worker", 1}}))
        << "the old processes run again, the new ones are gone";
    EXPECT_FALSE(overlapped);
    auto opened = orchestrator::open(context, "shop");
    EXPECT_EQ(opened->state().serves.front().result, "failed: a process exited");
}

TEST_P(ProcessTypes, ANewProcessThatCannotBeCreatedLeavesTheOldOnesRunning) {
    ASSERT_EQ(release("shop:1"), 0);
    // The engine refuses the new version's worker (a full disk, a lost node) while the new web
    // replicas come up, before the old processes were stopped.
    engine.before = [this](const std::vector<std::string>& args) {
        watch();
        const bool creates = args.size() > 2 && (args[1] == "create" || args[1] == "run");
        const bool new_worker = std::any_of(args.begin(), args.end(), [](const std::string& arg) {
            return arg.find("pallet-shop-proc-worker-") != std::string::npos;
        });
        const bool of_two = std::any_of(args.begin(), args.end(), [](const std::string& arg) {
            return arg.find("sha256:two") != std::string::npos;
        });
        if (creates && new_worker && of_two) {
            throw Error("no space left on device");
        }
    };
    const std::string error = error_of([&] { release("shop:2"); });
    EXPECT_NE(error.find("no space left on device"), std::string::npos) << error;
    EXPECT_EQ(serving(), (std::map<std::string, int>{{"shop:1", 1}}))
        << "the router never switched";
    EXPECT_EQ(processes(), (std::map<std::string, int>{{"shop:1 clock", 1}, {"shop:1 worker", 1}}))
        << "the old processes run again, nothing of the new ones is left";
    EXPECT_FALSE(overlapped);
}

TEST_P(ProcessTypes, AProcessMadeByAKilledReleaseNeverStartsAndGoesWithTheNextOne) {
    ASSERT_EQ(release("shop:1"), 0);
    // A release of shop:9 was killed (SIGKILL) after it made its worker, before it started it:
    // a container never started, or a swarm service of 0 replicas.
    auto labels = state::base_labels("shop", state::phase::k_process);
    labels[state::label::k_process] = "worker";
    labels[state::label::k_version] = "shop:9";
    labels[state::label::k_image_id] = "sha256:nine";
    if (swarm()) {
        docker::ServiceSpec stray;
        stray.name = "pallet-shop-proc-worker-killed123";
        stray.image = "shop:9";
        stray.labels = labels;
        stray.replicas = 0;
        context.docker.create_service(stray);
    } else {
        engine.add("pallet-shop-proc-worker-killed123", labels, "created");
    }
    ::testing::internal::CaptureStdout();
    run_status(context, std::string("shop"), Format::json);
    const std::string status = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(status.find(R"("worker":{"Running":1,"Wanted":1})"), std::string::npos)
        << "not counted as one of the served version's: " << status;
    ASSERT_EQ(release("shop:2"), 0);
    EXPECT_FALSE(overlapped) << "it never ran next to another version's worker";
    EXPECT_EQ(swarm() ? engine.swarm.services.count("pallet-shop-proc-worker-killed123")
                      : engine.containers.count("pallet-shop-proc-worker-killed123"),
              0u)
        << "it went with the old version's processes";
    EXPECT_EQ(processes(), (std::map<std::string, int>{{"shop:2 clock", 1}, {"shop:2 worker", 1}}));
}

TEST_P(ProcessTypes, ScaleSetsCountsThatTheNextVersionKeeps) {
    ASSERT_EQ(release("shop:1"), 0);
    ASSERT_EQ(run_scale(context, "shop", {"worker=3", "clock=0"}), 0);
    EXPECT_EQ(processes(), (std::map<std::string, int>{{"shop:1 worker", 3}}));
    ASSERT_EQ(release("shop:2"), 0);
    EXPECT_EQ(processes(), (std::map<std::string, int>{{"shop:2 worker", 3}}))
        << "the counts are the environment's";
    ::testing::internal::CaptureStdout();
    run_status(context, std::string("shop"), Format::json);
    const std::string status = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(status.find(R"("Processes":{"clock":{"Running":0,"Wanted":0},)"
                          R"("worker":{"Running":3,"Wanted":3}})"),
              std::string::npos)
        << status;
    const std::string error = error_of([&] { run_scale(context, "shop", {"nosuch=2"}); });
    EXPECT_NE(error.find("whose processes are worker, clock (io.pallet.processes); it has no "
                         "process nosuch"),
              std::string::npos)
        << error;
}

TEST_P(ProcessTypes, StopStopsThemAndServeStartsThemAgain) {
    ASSERT_EQ(release("shop:1"), 0);
    ASSERT_EQ(run_stop(context, "shop"), 0);
    EXPECT_TRUE(processes().empty());
    ASSERT_EQ(run_serve(context, {"shop", std::string("shop:1"), {}}), 0);
    EXPECT_EQ(processes(), (std::map<std::string, int>{{"shop:1 clock", 1}, {"shop:1 worker", 1}}));
}

TEST_P(ProcessTypes, ABadProcessNameIsRefusedBeforeAnythingRuns) {
    engine.image_labels["sha256:two"] = {{"io.pallet.processes", "worker,serve"}};
    const std::string error = error_of([&] { release("shop:2"); });
    EXPECT_NE(error.find("names the process \"serve\", which is a command of the standard"),
              std::string::npos)
        << error;
    EXPECT_TRUE(deploys().empty()) << "no deploy ran";
    engine.image_labels["sha256:two"] = {{"io.pallet.processes", "Worker"}};
    EXPECT_NE(error_of([&] { release("shop:2"); }).find("[a-z][a-z0-9-]*"), std::string::npos);
}

}  // namespace
}  // namespace pallet::phases
