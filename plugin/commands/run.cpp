// docker pallet run [--test]
#include "phases/run.h"

#include <unistd.h>

#include <memory>

#include "phases/test.h"
#include "plugin/commands/commands.h"
#include "plugin/help_formatter.h"
#include "util/error.h"

namespace pallet::plugin::commands {
namespace {

struct RunCommandOptions {
    phases::RunOptions run;
    phases::TestOptions test;
    bool as_test = false;
    std::string target;  // ENV, or with --test the IMAGE
};

}  // namespace

void add_run(Tree& tree) {
    auto o = std::make_shared<RunCommandOptions>();
    auto* run = add_command(tree.app, "run", "Run a one-off command in an environment");
    run->fallthrough(false);
    run->prefix_command();  // COMMAND and its arguments are the command's, flags included
    run->footer(
        "COMMAND runs through the image's own entrypoint and user, with everything a serve\n"
        "replica of ENV gets: variables, services, /storage, /static, its network. The image\n"
        "is --image, else the one ENV serves, else its last successful deploy. On a swarm it\n"
        "runs on the manager addressed, on the environment's network.\n"
        "With --test, the first argument is an IMAGE: the command runs with a test run's\n"
        "services and variables, and everything is removed afterwards.");
    run->add_option("ENV", o->target, "Environment name (with --test: the image)")->required();
    run->add_flag("-i,--interactive", o->run.interactive, "Keep stdin open");
    run->add_flag("-t,--tty", o->run.tty, "Allocate a terminal");
    run->add_option("--image", o->run.image, "The image to run (default: what ENV serves)")
        ->check(image_reference());
    run->add_flag("--test", o->as_test,
                  "Run in a test run's environment; the first argument is an IMAGE");
    add_test_environment_options(run, o->test);
    run->callback([&tree, o, run] {
        const std::string path = command_path(run);
        std::vector<std::string> command = run->remaining();
        command.insert(command.end(), tree.after_dashes.begin(), tree.after_dashes.end());
        if (command.empty()) {
            throw UsageError("run needs a COMMAND to run", path);
        }
        if (o->run.tty && ::isatty(STDIN_FILENO) == 0) {
            throw UsageError("-t needs a terminal, and stdin is not one; leave out -t", path);
        }
        const phases::TestOptions& test = o->test;
        const bool test_options = !test.env.empty() || !test.env_files.empty() ||
                                  !test.services.empty() || !test.service_images.empty() ||
                                  test.service_timeout || test.reuse_services;
        if (o->as_test) {
            if (o->run.image) {
                throw UsageError("with --test the first argument is the image; leave out --image",
                                 path);
            }
            o->test.image = o->target;
            o->test.command = command;
            o->test.interactive = o->run.interactive;
            o->test.tty = o->run.tty;
            tree.action = [&tree, o] { return phases::run_test(tree.runtime.get(), o->test); };
            return;
        }
        if (test_options) {
            throw UsageError(
                "-e, --env-file and --service... set up a test run's environment: add "
                "--test (an environment has its own: docker pallet env set, env service)",
                path);
        }
        o->run.env = o->target;
        o->run.command = command;
        tree.action = [&tree, o] { return phases::run_run(tree.runtime.get(), o->run); };
    });
}

}  // namespace pallet::plugin::commands
