#include "phases/maintenance.h"

#include <fmt/format.h>

#include <algorithm>

#include "orchestrator/orchestrator.h"
#include "phases/rollout.h"
#include "state/environments.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

void set_maintenance(Context& context, Locked& locked, bool on, const std::string& message) {
    state::Environment& env = locked.env;
    if (!context.docker.dry_run()) {
        state::EnvironmentStore(context.docker).update(env, [&](state::Environment& changed) {
            changed.maintenance = on;
            changed.maintenance_message = on ? message : "";
        });
    } else {
        env.maintenance = on;
    }
    if (locked.opened->state().router_running) {
        auto router = locked.opened->router(env);
        if (auto serving = locked.opened->serving(env)) {
            router->send_to(*serving);
        } else {
            router->send_to(std::vector<std::string>{});
        }
    }
}

int run_maintenance(Context& context, const std::string& name, bool on,
                    const std::optional<std::string>& message) {
    const std::string path = "docker pallet maintenance";
    state::validate_env_name(name, path);
    if (message && !on) {
        throw UsageError("--message goes with on", path);
    }
    if (message && !util::is_one_line(*message, 300)) {
        throw UsageError("--message: one line of at most 300 characters", path);
    }
    // Under the serve lock: a serve or scale meanwhile writes the router's configuration from
    // the settings it read, which then say it.
    Locked locked = lock_environment(context, name, false);
    set_maintenance(context, locked, on, message.value_or(""));
    const state::Environment& env = locked.env;
    if (on) {
        context.done("{} is in maintenance: every request but /static/ gets 503 with a page{}",
                     env.name,
                     locked.opened->state().router_running
                         ? ""
                         : " (its router does not run: from its next serve on)");
    } else {
        context.done("{} is out of maintenance: its replicas get the requests again", env.name);
    }
    return 0;
}

}  // namespace pallet::phases
