#include "plugin/app.h"

#include <fmt/format.h>
#include <signal.h>

#include "metadata/metadata.h"
#include "plugin/command_line.h"
#include "plugin/invocation.h"
#include "plugin/runtime.h"
#include "util/cancel.h"
#include "util/error.h"

namespace pallet::plugin {
namespace {

// A handler that does nothing: SIGPIPE then fails the write with EPIPE instead of killing us,
// and, unlike SIG_IGN, is reset for the programs we start.
extern "C" void ignore_signal(int) {}

// An error message without any secret the command learnt (it may quote an application's output).
std::string redacted(Runtime& runtime, const std::string& text) {
    return runtime.docker ? runtime.docker->redactor().redact(text) : text;
}

// Ends the command's progress; true when it showed `error` itself.
bool finished(Runtime& runtime, const std::string& error) {
    return runtime.progress && runtime.progress->finish(error);
}

// A command's error, on stderr: through its progress when that shows errors (json).
void report(Runtime& runtime, const std::string& what) {
    const std::string error = redacted(runtime, what);
    if (!finished(runtime, error)) {
        fmt::print(stderr, "docker-pallet: error: {}\n", error);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    Runtime runtime;
    try {
        runtime.invocation = parse_invocation(args);
        switch (runtime.invocation.kind) {
            case Invocation::Kind::metadata:
                fmt::print("{}\n", metadata::plugin_metadata_json());
                return 0;
            case Invocation::Kind::hooks:
                return 0;
            case Invocation::Kind::complete:  // from the command tree, in dispatch
            case Invocation::Kind::run:
                break;
        }
        struct sigaction action {};
        action.sa_handler = ignore_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGPIPE, &action, nullptr);
        cancel::install();
        int code = dispatch(runtime);
        std::fflush(stdout);
        finished(runtime, code == 0 ? "" : fmt::format("exit status {}", code));
        if (cancel::requested()) {
            return cancel::exit_code();
        }
        return code;
    } catch (const Cancelled&) {
        std::fflush(stdout);
        finished(runtime, "cancelled");
        return cancel::exit_code();
    } catch (const UsageError& e) {
        return usage_error(redacted(runtime, e.what()), e.command_path());
    } catch (const Error& e) {
        std::fflush(stdout);
        report(runtime, e.what());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::fflush(stdout);
        report(runtime, e.what());
        return k_exit_failure;
    }
}

}  // namespace pallet::plugin
