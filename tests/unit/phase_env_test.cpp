#include "phases/phase_env.h"

#include <gtest/gtest.h>

#include <map>

#include "docker/docker_cli.h"
#include "fake_runner.h"
#include "orchestrator/engine/container.h"
#include "phases/services.h"
#include "util/error.h"

namespace pallet::phases {
namespace {

using orchestrator::Context;
using orchestrator::phase_variables;
using orchestrator::ResolvedImage;
using orchestrator::engine::phase_container;

std::map<std::string, std::string> as_map(
    const std::vector<std::pair<std::string, std::string>>& vars) {
    return {vars.begin(), vars.end()};
}

state::Environment staging() {
    state::Environment env;
    env.name = "staging";
    env.kind = "staging";
    env.site_domain = "example.org";
    env.site_protocol = "https";
    env.variables = {{"SECRET_KEY", "s"},
                     {"DEPLOY_TOKEN", "d"},
                     {"WEB_CONCURRENCY", "4"},
                     {"WORKER_CONCURRENCY", "2"}};
    return env;
}

TEST(PhaseVariables, EveryPhaseGetsTheStandardOnes) {
    for (const char* phase : {"test", "deploy", "serve"}) {
        auto vars = as_map(phase_variables(staging(), phase));
        EXPECT_EQ(vars.at("SITE_PROTOCOL"), "https") << phase;
        EXPECT_EQ(vars.at("SITE_DOMAIN"), "example.org") << phase;
        EXPECT_EQ(vars.at("ENVIRONMENT"), "staging") << phase;
        EXPECT_EQ(vars.at("SECRET_KEY"), "s") << phase;
    }
}

TEST(PhaseVariables, DeployOnlyAndServeOnlyVariables) {
    auto deploy = as_map(phase_variables(staging(), "deploy"));
    auto serve = as_map(phase_variables(staging(), "serve"));
    EXPECT_EQ(deploy.count("DEPLOY_TOKEN"), 1u);
    EXPECT_EQ(serve.count("DEPLOY_TOKEN"), 0u);
    EXPECT_EQ(deploy.count("WEB_CONCURRENCY"), 0u);
    EXPECT_EQ(serve.at("WEB_CONCURRENCY"), "4");
    EXPECT_EQ(serve.at("WORKER_CONCURRENCY"), "2");
}

TEST(PhaseVariables, ServicesAddTheirsButAVariableSetByHandWins) {
    state::Environment env = staging();
    add_service_args({"postgres", "redis"}, env.services, "x");
    env.variables["REDIS_URL"] = "redis://mine:6379/1";
    auto vars = as_map(phase_variables(env, "serve"));
    EXPECT_EQ(vars.at("DB_DEFAULT_URL").rfind("postgres://staging:", 0), 0u);
    EXPECT_EQ(vars.at("REDIS_URL"), "redis://mine:6379/1");
    EXPECT_EQ(vars.at("REDIS_HOSTS"), "pallet-staging-redis:6379");
}

TEST(PhaseContainer, ImageUserEntrypointAndMounts) {
    testing::FakeRunner runner;
    docker::DockerCli docker(runner, docker::DockerTarget{});
    Context context{docker, [](const std::string&) { return std::nullopt; }, "ann", "ci-1"};
    ResolvedImage image{"app:1", {}};
    image.record.id = "sha256:abc";
    auto spec = phase_container(context, staging(), "deploy", image);
    auto args = docker::DockerCli::run_args(spec, true);
    const std::string line = [&] {
        std::string out;
        for (const auto& arg : args) {
            out += arg + " ";
        }
        return out;
    }();
    EXPECT_EQ(spec.image, "sha256:abc") << "the version checked is the version run";
    EXPECT_EQ(spec.command, std::vector<std::string>{"deploy"});
    EXPECT_EQ(line.find("--user"), std::string::npos) << "the image's own user";
    EXPECT_EQ(line.find("--entrypoint"), std::string::npos) << "the image's own entrypoint";
    EXPECT_NE(line.find("--mount type=volume,source=pallet-staging-storage,target=/storage"),
              std::string::npos);
    EXPECT_NE(line.find("--mount type=volume,source=pallet-staging-static,target=/static"),
              std::string::npos);
    EXPECT_EQ(line.find("--publish"), std::string::npos) << "no port of a phase is published";
    EXPECT_EQ(spec.labels.at("io.pallet.user"), "ann");
    EXPECT_EQ(spec.labels.at("io.pallet.host"), "ci-1");
    EXPECT_EQ(spec.labels.at("io.pallet.version"), "app:1");
}

TEST(DeclaredServices, LabelsOfTheImage) {
    docker::Labels labels = {{"io.pallet.services", "postgres, redis"},
                             {"io.pallet.services.optional", "memcached"}};
    EXPECT_EQ(declared_services(labels, false), (std::vector<std::string>{"postgres", "redis"}));
    EXPECT_EQ(declared_services(labels, true),
              (std::vector<std::string>{"postgres", "redis", "memcache"}));
    EXPECT_THROW(declared_services({{"io.pallet.services", "mongodb"}}, false), Error);
    ServiceMap has_postgres;
    add_service_args({"postgres"}, has_postgres, "x");
    EXPECT_THROW(require_services(labels, has_postgres, "staging", "app:1"), Error);
}

}  // namespace
}  // namespace pallet::phases
