#pragma once

// A fixture for the use cases against the fake engine (fake_engine.h): an environment "shop" on
// one engine or on the fake's three-node swarm (the test's parameter), and what a test asks of
// either in the same words: what serves, who holds the deploy lock, the probes.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "docker/docker_cli.h"
#include "fake_engine.h"
#include "orchestrator/open.h"
#include "phases/deploy.h"
#include "phases/use_case.h"
#include "state/environments.h"
#include "state/labels.h"
#include "state/swarm_history.h"
#include "util/cancel.h"
#include "util/error.h"

namespace pallet::phases {

enum class Kind { engine, swarm };

inline std::string kind_name(const ::testing::TestParamInfo<Kind>& info) {
    return info.param == Kind::engine ? "OnOneEngine" : "OnASwarm";
}

// What `action` failed with ("" when it did not).
inline std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

class UseCase : public ::testing::TestWithParam<Kind> {
  protected:
    UseCase() : docker(engine, docker::DockerTarget{}) {
        engine.images["shop:1"] = "sha256:one";
        engine.images["shop:2"] = "sha256:two";
        if (swarm()) {
            engine.make_manager();
        }
        cancel::use_virtual_time(true);  // the polls' sleeps pass at once
    }
    ~UseCase() override { cancel::use_virtual_time(false); }
    bool swarm() const { return GetParam() == Kind::swarm; }

    // Creates `name` on the orchestrator of the test (settings as given).
    state::Environment create(const std::string& name, state::Environment env = {}) {
        env.name = name;
        if (swarm()) {
            env.orchestrator = "swarm";
            env.shared_path = "/srv/shared";
            env.port = 18080;
        }
        return state::EnvironmentStore(docker).create(env);
    }
    ResolvedImage image(const std::string& ref) {
        ResolvedImage resolved{ref, {}};
        resolved.record.id = engine.images[ref];
        return resolved;
    }
    // deploy_image in the environment as it is now.
    int deploy(const DeployOptions& options, const ResolvedImage& image) {
        auto opened = orchestrator::open(context, options.env);
        return deploy_image(context, *opened, options, image);
    }

    // A deploy of `image_id` that holds the lock of `env` and runs until `end` is set (its exit
    // code then).
    void deploying(const std::string& env, const std::string& image_id,
                   std::optional<int>* end = nullptr) {
        if (!swarm()) {
            auto& holder = engine.add(state::deploy_container(env),
                                      {{state::label::k_managed, "true"},
                                       {state::label::k_env, env},
                                       {state::label::k_phase, state::phase::k_deploy},
                                       {state::label::k_image_id, image_id},
                                       {state::label::k_version, "shop:?"},
                                       {state::label::k_user, "bob"}},
                                      "running");
            m_holder_id = holder.id;
            if (end != nullptr) {
                engine.before = [this, end](const std::vector<std::string>&) {
                    if (*end && engine.find(m_holder_id) != nullptr &&
                        engine.find(m_holder_id)->running()) {
                        engine.find(m_holder_id)->status = "exited";
                        engine.find(m_holder_id)->exit_code = **end;
                    }
                };
            }
            return;
        }
        const std::string job = "pallet-" + env + "-deploy-1";
        std::vector<std::string> create = {"config", "create"};
        for (const auto& [key, value] :
             state::swarm::deploy_lock_labels(env, "shop:?", image_id, "bob", "ci-2", job)) {
            create.insert(create.end(), {"--label", key + "=" + value});
        }
        create.insert(create.end(), {state::swarm::lock_config(env, "deploy"), "-"});
        docker::Command command;
        engine.swarm.answer(create, command);
        engine.swarm.answer({"service", "create", "--name", job, "--restart-condition", "none",
                             "--label", std::string(state::label::k_env) + "=" + env, "shop"},
                            command);
        engine.swarm.outcome = [job, end](const testing::FakeSwarm::Service& service,
                                          const testing::FakeSwarm::Task&) -> std::optional<int> {
            if (service.name != job) {
                return 0;
            }
            return end != nullptr ? *end : std::nullopt;
        };
    }
    // True while a deploy holds the lock of `env` and runs.
    bool deploy_runs(const std::string& env) {
        auto opened = orchestrator::open(context, env);
        const auto holder = opened->deploy_holder(*opened->state().settings);
        return holder && holder->state == orchestrator::DeployHolder::State::running;
    }
    // The deploys of `env` in its history (the running one too), newest first.
    std::vector<state::HistoryEntry> deploys(const std::string& env = "shop") {
        return orchestrator::open(context, env)->state().deploys;
    }
    // The replicas that run, by version.
    std::map<std::string, int> serving() {
        std::map<std::string, int> versions;
        if (!swarm()) {
            for (const auto& [name, container] : engine.containers) {
                if (container.running() && container.labels.count(state::label::k_phase) > 0 &&
                    container.labels.at(state::label::k_phase) == state::phase::k_serve) {
                    ++versions[container.labels.at(state::label::k_version)];
                }
            }
            return versions;
        }
        for (const auto& [name, service] : engine.swarm.services) {
            if (service.labels.count(state::label::k_phase) > 0 &&
                service.labels.at(state::label::k_phase) == state::phase::k_serve) {
                versions[service.labels.at(state::label::k_version)] +=
                    static_cast<int>(engine.swarm.running(name).size());
            }
        }
        std::erase_if(versions, [](const auto& entry) { return entry.second == 0; });
        return versions;
    }
    bool router_runs() {
        if (!swarm()) {
            const auto* router = engine.find("pallet-shop-router");
            return router != nullptr && router->running();
        }
        return !engine.swarm.running("pallet-shop-router").empty();
    }
    bool serve_lock_held() {
        return swarm() ? engine.swarm.configs.count("pallet-shop-serve-lock") > 0
                       : engine.find("pallet-shop-serve-lock") != nullptr;
    }
    int probes() const { return engine.health_requests; }

    testing::FakeEngine engine;
    docker::DockerCli docker;
    Context context{docker, [](const std::string&) { return std::nullopt; }, "ann", "ci"};

  private:
    std::string m_holder_id;
};

}  // namespace pallet::phases
