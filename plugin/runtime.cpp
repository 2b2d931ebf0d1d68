#include "plugin/runtime.h"

#include <fmt/format.h>
#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "docker/engine_socket.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::plugin {
namespace {

// A kept SSH connection serves the commands that follow within this idle time.
constexpr std::chrono::seconds k_default_ssh_keep{15};

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : value;
}

}  // namespace

std::string Runtime::docker_program() {
    const std::string original = environment("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND");
    // For `docker __complete pallet ...`, docker 28 names the plugin itself there.
    std::error_code error;
    if (original.empty() || std::filesystem::equivalent(original, "/proc/self/exe", error)) {
        return "docker";
    }
    return original;
}

orchestrator::Context& Runtime::get() {
    if (!context) {
        settings = std::make_unique<Settings>(invocation.config_dir);
        runner = std::make_unique<docker::ProcessRunner>();
        docker::DockerTarget target;
        target.program = docker_program();
        target.global_args = invocation.global_args;
        docker = std::make_unique<docker::DockerCli>(*runner, target, dry_run);
        docker->set_debug(invocation.debug);
        docker->set_logger([](docker::DockerCli::Log log, const std::string& line) {
            switch (log) {
                case docker::DockerCli::Log::dry_run:  // the data of a dry run: stdout
                    fmt::print("{}\n", line);
                    std::fflush(stdout);
                    break;
                case docker::DockerCli::Log::debug:
                    fmt::print(stderr, "docker-pallet: debug: {}\n", line);
                    break;
                case docker::DockerCli::Log::warning:
                    fmt::print(stderr, "docker-pallet: warning: {}\n", line);
                    break;
            }
        });
        context = std::make_unique<orchestrator::Context>(orchestrator::Context{
            *docker, [this](const std::string& name) { return settings->get(name); },
            current_user(), current_host()});
        context->progress = progress.get();
        if (::isatty(STDIN_FILENO) != 0 && ::isatty(STDERR_FILENO) != 0) {
            context->ask = [](const std::string& question) {
                fmt::print(stderr, "{} [y/N] ", question);
                std::fflush(stderr);
                // A line of stdin, or Ctrl-C (which SA_RESTART would otherwise hold until Enter).
                std::string answer;
                for (char c = 0; c != '\n';) {
                    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {cancel::wait_fd(), POLLIN, 0}};
                    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
                        break;
                    }
                    if (cancel::requested()) {
                        std::fputc('\n', stderr);
                        throw Cancelled();
                    }
                    if ((fds[0].revents & (POLLIN | POLLHUP)) == 0) {
                        continue;
                    }
                    if (::read(STDIN_FILENO, &c, 1) != 1) {
                        break;
                    }
                    answer.push_back(c);
                }
                answer = util::trim(answer);
                return answer == "y" || answer == "Y" || answer == "yes" || answer == "Yes";
            };
        }
        settings->check();  // a broken config.json is reported before any work
        connect();
    }
    return *context;
}

std::optional<std::string> Runtime::engine_host() {
    if (invocation.host) {
        return invocation.host;
    }
    if (const std::string host = environment("DOCKER_HOST"); !host.empty()) {
        return host;
    }
    std::string name = invocation.context.value_or(environment("DOCKER_CONTEXT"));
    if (name.empty()) {
        name = settings->current_context();
    }
    if (name.empty() || name == "default") {
        return std::nullopt;
    }
    return docker->context_host(name);
}

void Runtime::connect() {
    if (environment("PALLET_SSH_MUX") == "0") {
        return;
    }
    const auto host = engine_host();
    if (const auto socket = docker::local_engine_socket(host.value_or(""))) {
        docker->set_engine_socket(*socket);
        return;
    }
    const auto address = host ? docker::parse_ssh_host(*host) : std::nullopt;
    if (!address) {
        return;
    }
    // How long the connection outlives the command, for the next one (PALLET_SSH_KEEP).
    std::chrono::seconds keep = k_default_ssh_keep;
    if (const std::string text = environment("PALLET_SSH_KEEP"); !text.empty()) {
        auto parsed = util::parse_duration(text);
        if (!parsed || parsed->count() > 3600) {
            throw Error(
                fmt::format("PALLET_SSH_KEEP=\"{}\" is not a duration from 0s to 1h", text));
        }
        keep = *parsed;
    }
    std::string why;
    tunnel = docker::SshTunnel::open(*runner, *address, keep, why,
                                     environment("PALLET_SSH_RELAY") != "0");
    if (!tunnel) {
        if (invocation.debug) {
            fmt::print(stderr,
                       "docker-pallet: debug: each docker call connects over ssh itself: {}\n",
                       why);
        }
        return;
    }
    docker::Connection connection;
    if (invocation.config_dir) {
        connection.args = {"--config", *invocation.config_dir};
    }
    connection.args.insert(connection.args.end(), {"-H", tunnel->docker_host()});
    connection.env = {{"DOCKER_HOST", ""}, {"DOCKER_CONTEXT", ""}, {"DOCKER_TLS_VERIFY", ""}};
    connection.description = "the SSH connection to " + tunnel->destination();
    if (invocation.debug) {
        fmt::print(stderr, "docker-pallet: debug: {} the SSH connection to {}\n",
                   tunnel->reused() ? "reusing" : "opened", tunnel->destination());
    }
    docker::SshTunnel* shared = tunnel.get();
    connection.lost = [shared]() -> std::optional<std::string> {
        // Asked after a docker call failed: give ssh a moment to see a drop the call saw first.
        if (shared->survives(std::chrono::milliseconds(1500))) {
            if (!shared->engine_answers()) {
                return fmt::format(
                    "no Docker engine answers on {}{}: the connection is up, and nothing "
                    "listens where the remote docker would connect (its DOCKER_HOST or "
                    "context there), or the engine there is stopped",
                    shared->destination(),
                    shared->remote_socket().empty() ? "" : " at " + shared->remote_socket());
            }
            return std::nullopt;
        }
        return fmt::format(
            "the SSH connection to {} dropped ({}); nothing is left to unlock: run "
            "the command again once {} answers",
            shared->destination(), shared->last_words(), shared->destination());
    };
    docker->connect_through(std::move(connection));
    docker->set_engine_socket(tunnel->docker_host().substr(std::string("unix://").size()));
}

std::string Runtime::current_user() {
    if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') {
        return user;
    }
    if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) {
        return entry->pw_name;
    }
    return std::to_string(::getuid());
}

std::string Runtime::current_host() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) {
        return "unknown";
    }
    return name;
}

}  // namespace pallet::plugin
