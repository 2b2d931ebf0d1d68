#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "docker/docker_cli.h"

namespace pallet::phases {

// The restart policy of what keeps an environment up (serve containers, routers, services):
// "always", because a Docker engine started again without live-restore stops every running
// container as if by hand, after which unless-stopped leaves it down (seen with 20.10).
inline constexpr const char* k_serving_restart_policy = "always";

// Output formats of listing commands (docker's --format table|json).
enum class Format { table, json };

// What every use case gets from the command line layer.
struct Context {
    docker::DockerCli& docker;
    // The plugin's settings (PALLET_* variables, plugins.pallet in config.json).
    std::function<std::optional<std::string>(const std::string&)> setting;
    std::string actor_user;  // who runs this command
    std::string actor_host;  // and where

    // A progress line on stderr: "=> text", without any secret the command knows.
    template <typename... Args>
    void step(fmt::format_string<Args...> format, Args&&... args) const {
        fmt::print(stderr, "=> {}\n",
                   docker.redactor().redact(fmt::format(format, std::forward<Args>(args)...)));
        std::fflush(stderr);
    }

    // A progress line that says a change was made; under --dry-run it says it was not.
    template <typename... Args>
    void done(fmt::format_string<Args...> format, Args&&... args) const {
        const std::string text = fmt::format(format, std::forward<Args>(args)...);
        if (docker.dry_run()) {
            step("dry run, not done: {}", text);
        } else {
            step("{}", text);
        }
    }

    // A command for the user to run, reaching the engine this command reached: "docker
    // [global flags] REST".
    std::string command(const std::string& rest) const { return docker.command_line(rest); }
};

}  // namespace pallet::phases
