// docker pallet status, history, logs.
#include <memory>

#include "phases/logs.h"
#include "phases/status.h"
#include "plugin/commands/commands.h"

namespace pallet::plugin::commands {
namespace {

struct InspectOptions {
    std::optional<std::string> status_env;
    std::string format = "table";
    std::string env_name;
    std::string logs_phase = "serve";
    bool follow = false;
    std::string process;
};

}  // namespace

void add_inspect(Tree& tree) {
    auto o = std::make_shared<InspectOptions>();
    auto* status_cmd = add_command(tree.app, "status", "Show what each environment serves");
    status_cmd->add_option("ENV", o->status_env, "Only this environment");
    add_format_option(status_cmd, o->format);
    status_cmd->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_status(tree.runtime.get(), o->status_env, parse_format(o->format));
        };
    });

    auto* history_cmd =
        add_command(tree.app, "history", "List the deploys and serves of an environment");
    history_cmd->add_option("ENV", o->env_name, "Environment name")->required();
    add_format_option(history_cmd, o->format);
    history_cmd->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_history(tree.runtime.get(), o->env_name, parse_format(o->format));
        };
    });

    auto* logs_cmd =
        add_command(tree.app, "logs", "Show the output of the last deploy or of serving");
    logs_cmd->add_option("ENV", o->env_name, "Environment name")->required();
    logs_cmd->add_option("--phase", o->logs_phase, "deploy or serve")
        ->check(CLI::IsMember({"deploy", "serve"}))
        ->default_str("serve");
    logs_cmd->add_flag("-f,--follow", o->follow, "Follow the output");
    logs_cmd->add_option("--process", o->process,
                         "The processes of this type (io.pallet.processes), each line after its "
                         "replica's name");
    logs_cmd->callback([&tree, o] {
        tree.action = [&tree, o] {
            return phases::run_logs(tree.runtime.get(), o->env_name, o->logs_phase, o->follow,
                                    o->process);
        };
    });
}

}  // namespace pallet::plugin::commands
