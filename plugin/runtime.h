#pragma once

#include <memory>
#include <optional>
#include <string>

#include "docker/docker_cli.h"
#include "docker/process_runner.h"
#include "docker/ssh_tunnel.h"
#include "phases/use_case.h"
#include "plugin/invocation.h"
#include "plugin/settings.h"

namespace pallet::plugin {

// Everything a command needs; built only once a command that needs it runs.
struct Runtime {
    Invocation invocation;
    bool dry_run = false;
    std::unique_ptr<docker::ProcessRunner> runner;
    std::unique_ptr<Settings> settings;
    // Declared before `docker`, which reaches the engine through it: it goes last.
    std::unique_ptr<docker::SshTunnel> tunnel;
    std::unique_ptr<docker::DockerCli> docker;
    std::unique_ptr<orchestrator::Context> context;
    // How the command shows progress (--progress); plain lines when unset.
    std::unique_ptr<orchestrator::Progress> progress;

    // The context of a command, made on first use (never for metadata or help).
    orchestrator::Context& get();

  private:
    // The engine the user addressed, as docker would choose it: -H, DOCKER_HOST, then the
    // context (--context, DOCKER_CONTEXT, config.json's currentContext). nullopt: the default.
    std::optional<std::string> engine_host();
    // For an ssh:// engine, one SSH connection for all of the command's docker calls, kept
    // PALLET_SSH_KEEP (15s) idle for the next command (0: ended with this one; PALLET_SSH_MUX=0:
    // each call its own connection, as docker does).
    void connect();
    // The docker CLI that ran the plugin (DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND), else docker
    // from PATH.
    static std::string docker_program();
    static std::string current_user();
    static std::string current_host();
};

}  // namespace pallet::plugin
