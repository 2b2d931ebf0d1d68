#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pallet::docker {

// Where a command's stdout and stderr go.
enum class Output {
    capture,  // both drained together into Result::out and Result::err
    inherit,  // straight to the user's terminal (live output)
    stderr,   // both to the user's stderr (live output that is not the command's data)
    data,     // stdout to the plugin's stdout (the command's data: an archive), stderr captured
};

// What a cancellation does to a running command.
enum class OnCancel {
    terminate,  // SIGTERM, then SIGKILL after the grace period; the run then throws Cancelled
    finish,     // let it run to the end (cleanup commands)
};

// One program to run: argv[0] is looked up in PATH unless it contains a slash.
struct Command {
    std::vector<std::string> argv;
    std::map<std::string, std::string> extra_env;  // added to the inherited environment
    std::optional<std::string> stdin_data;         // otherwise stdin is /dev/null...
    // ...or this file ("-": the plugin's own stdin), read by the program as it goes (an archive
    // too large to hold in memory).
    std::string stdin_file;
    // Output::data: the program's stdout goes into this file (made or emptied, for the user
    // alone) instead of the plugin's stdout.
    std::string stdout_file;
    // The user's stdin and terminal: stdin is inherited and the program stays in the plugin's
    // process group, so that the terminal's input and signals reach it (docker run -it).
    bool interactive = false;
    Output output = Output::capture;
    // Output::capture: each piece of output as it arrives (stdout and stderr), instead of into
    // Result::out and Result::err (a long-running docker logs --follow).
    std::function<void(const std::string&)> on_output;
    OnCancel on_cancel = OnCancel::terminate;
    std::chrono::milliseconds kill_grace{10'000};
};

// How a command ended. Exit code and signal are kept apart.
struct Result {
    int exit_code = 0;  // meaningful when signal == 0
    int signal = 0;     // the signal that ended the process, or 0
    std::string out;
    std::string err;
    bool ok() const { return signal == 0 && exit_code == 0; }
};

// A program left running in the background (an SSH connection); stopped (SIGTERM, then SIGKILL)
// when this goes, and dead with the plugin in any case (PDEATHSIG).
class BackgroundProcess {
  public:
    virtual ~BackgroundProcess() = default;
    virtual bool running() = 0;
};

// Runs commands: the one seam between the plugin and the processes it starts.
class Runner {
  public:
    virtual ~Runner() = default;
    // Runs to completion. Throws Cancelled if the user cancelled and the command was terminated,
    // Error if the program cannot be started.
    virtual Result run(const Command& command) = 0;
    // Starts `command` in the background, its stdout and stderr going to the file `output`, or
    // to the plugin's stderr when `output` is empty (stdin: /dev/null). Throws Error if it
    // cannot be started.
    virtual std::unique_ptr<BackgroundProcess> start(const Command& command,
                                                     const std::string& output) = 0;
};

}  // namespace pallet::docker
