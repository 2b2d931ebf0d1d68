#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "docker/docker_cli.h"
#include "orchestrator/progress.h"

namespace pallet::orchestrator {

// The restart policy of what keeps an environment up (serve containers, routers, services):
// "always", because a Docker engine started again without live-restore stops every running
// container as if by hand, after which unless-stopped leaves it down (seen with 20.10).
inline constexpr const char* k_serving_restart_policy = "always";

// Names a command has dealt with once, asked and told from any of its lanes.
class NameSet {
  public:
    NameSet() = default;
    NameSet(const NameSet& other) : m_names(other.names()) {}
    NameSet& operator=(const NameSet&) = delete;

    bool contains(const std::string& name) const {
        const std::lock_guard lock(m_mutex);
        return m_names.count(name) > 0;
    }
    void insert(const std::string& name) {
        const std::lock_guard lock(m_mutex);
        m_names.insert(name);
    }
    void erase(const std::string& name) {
        const std::lock_guard lock(m_mutex);
        m_names.erase(name);
    }

  private:
    std::set<std::string> names() const {
        const std::lock_guard lock(m_mutex);
        return m_names;
    }

    mutable std::mutex m_mutex;
    std::set<std::string> m_names;
};

// What every command's code gets from the command line layer: the use cases, and the
// orchestrators they run on.
struct Context {
    docker::DockerCli& docker;
    // The plugin's settings (PALLET_* variables, plugins.pallet in config.json).
    std::function<std::optional<std::string>(const std::string&)> setting;
    std::string actor_user;  // who runs this command
    std::string actor_host;  // and where
    // How progress is shown; plain lines unless the command line chose otherwise.
    Progress* progress = nullptr;
    // Asks the user a yes-or-no question on the terminal; true for yes. Empty when there is no
    // terminal to ask on (stdin or stderr is not one): a command then needs --yes.
    std::function<bool(const std::string& question)> ask = nullptr;
    // The environments whose network and volumes this command has made or found already: a
    // release's serve does not ask again after its deploy did; env prune forgets those it
    // removes from several lanes at once.
    NameSet resources_ensured = {};

    // A step of the command's progress ("=> text" in plain), without any secret the command
    // knows.
    template <typename... Args>
    void step(fmt::format_string<Args...> format, Args&&... args) const {
        sink().step(docker.redactor().redact(fmt::format(format, std::forward<Args>(args)...)));
    }

    // A step that is over as it is said: what came of the steps before ("deploy of v2 succeeded").
    template <typename... Args>
    void outcome(fmt::format_string<Args...> format, Args&&... args) const {
        sink().outcome(docker.redactor().redact(fmt::format(format, std::forward<Args>(args)...)));
    }

    // A message that is not a step (a warning, how to follow what goes on), redacted too.
    template <typename... Args>
    void note(fmt::format_string<Args...> format, Args&&... args) const {
        sink().note(docker.redactor().redact(fmt::format(format, std::forward<Args>(args)...)));
    }

    // A program's own output follows on the terminal.
    void output_follows() const { sink().output_follows(); }

    // A line of the command's result, on stdout (data only).
    void result(const std::string& line) const {
        sink().result_follows();
        fmt::print("{}\n", line);
        std::fflush(stdout);
    }
    bool shows_logs() const { return sink().shows_logs(); }

    // A progress line that says a change was made; under --dry-run it says it was not.
    template <typename... Args>
    void done(fmt::format_string<Args...> format, Args&&... args) const {
        const std::string text = fmt::format(format, std::forward<Args>(args)...);
        if (docker.dry_run()) {
            step("dry run, not done: {}", text);
        } else {
            outcome("{}", text);
        }
    }

    // A command for the user to run, reaching the engine this command reached: "docker
    // [global flags] REST".
    std::string command(const std::string& rest) const { return docker.command_line(rest); }

  private:
    Progress& sink() const {
        static PlainProgress plain;
        return progress != nullptr ? *progress : plain;
    }
};

}  // namespace pallet::orchestrator
