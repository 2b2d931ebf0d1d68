#pragma once

#include <memory>
#include <string>

#include "docker/docker_cli.h"
#include "docker/process_runner.h"
#include "phases/context.h"
#include "plugin/invocation.h"
#include "plugin/settings.h"

namespace pallet::plugin {

// Everything a command needs; built only once a command that needs it runs.
struct Runtime {
    Invocation invocation;
    bool dry_run = false;
    std::unique_ptr<docker::ProcessRunner> runner;
    std::unique_ptr<docker::DockerCli> docker;
    std::unique_ptr<Settings> settings;
    std::unique_ptr<phases::Context> context;

    // The context of a command, made on first use (never for metadata or help).
    phases::Context& get();

private:
    static std::string current_user();
    static std::string current_host();
};

}  // namespace pallet::plugin
