#include "phases/scale.h"

#include <fmt/format.h>

#include "phases/processes.h"
#include "phases/rollout.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

constexpr const char* k_usage = "docker pallet scale";

// What scale was asked: N or web=N for the web replicas, TYPE=N for process types.
struct Counts {
    std::optional<int> web;
    std::map<std::string, int> processes;
};

Counts parse_counts(Context& context, const std::string& env,
                    const std::vector<std::string>& items) {
    Counts counts;
    for (const auto& item : items) {
        const auto equals = item.find('=');
        const std::string type = equals == std::string::npos ? "web" : item.substr(0, equals);
        const std::string number = equals == std::string::npos ? item : item.substr(equals + 1);
        int count = -1;
        if (!number.empty() && number.size() <= 2 &&
            number.find_first_not_of("0123456789") == std::string::npos) {
            count = std::stoi(number);
        }
        if (count < 0 || count > 64 || type.empty()) {
            throw UsageError(fmt::format("invalid count \"{}\": not in range 0 to 64; give N or "
                                         "web=N for the web replicas, TYPE=N for a process type",
                                         item),
                             k_usage);
        }
        if (type == "web") {
            if (count < 1) {
                throw UsageError("scale needs at least 1 web replica; to stop serving use: " +
                                     context.command("pallet stop " + env),
                                 k_usage);
            }
            counts.web = count;
        } else {
            counts.processes[type] = count;
        }
    }
    return counts;
}

// The web replicas to `replicas`: new ones get requests once they answer as a user's request
// would; those that go get none first, and finish those in flight.
void scale_web(Context& context, orchestrator::Orchestrator& opened, state::Environment& env,
               int replicas) {
    auto serving = opened.serving(env);
    auto router = opened.router(env);
    if (!serving || serving->count() == 0 || !router->running()) {
        throw Error(
            fmt::format("{} serves nothing to scale; serve a version first: {pallet} "
                        "serve {} IMAGE",
                        env.name, env.name, fmt::arg("pallet", context.command("pallet"))));
    }
    const int now = serving->count();
    if (replicas == now) {
        context.outcome("{} already runs {} replica(s)", env.name, now);
        return;
    }
    const auto timeout = std::chrono::seconds(env.health_timeout);
    if (replicas > now) {
        const auto fresh = serving->grow(replicas, *router, timeout);
        if (context.docker.dry_run()) {
            serving->keep();
            return;
        }
        Unhealthy why;
        if (!wait_healthy(env, *router, *serving, fresh, why)) {
            throw Error(
                fmt::format("the new replicas did not become healthy, so nothing "
                            "changed: {}",
                            why.evidence));
        }
        router->send_to(*serving);
        serving->keep();
    } else {
        if (!context.docker.dry_run()) {
            const auto kept = serving->first(replicas);
            if (kept.empty()) {
                throw Error(fmt::format("no replica of {} would be left serving", env.name));
            }
            router->send_to(kept);
            cancel::sleep(std::chrono::milliseconds(env.drain_ms));
        }
        serving->shrink(replicas);
        if (!context.docker.dry_run()) {
            router->send_to(*serving);
        }
    }
    if (!context.docker.dry_run()) {
        opened.record_serve(env,
                            serve_event(context, serving->version(), serving->image_id(),
                                        fmt::format("scaled to {}", replicas)),
                            util::join(serving->first(replicas), " "));
    }
    context.done("{} runs {} replica(s) of {}", env.name, replicas, serving->version());
}

// Process types to `counts`, kept in the settings for the next versions too.
void scale_processes(Context& context, orchestrator::Orchestrator& opened, state::Environment& env,
                     const std::map<std::string, int>& counts) {
    const auto& served = opened.state().served;
    const auto image = served ? context.docker.inspect_image(served->image_id) : std::nullopt;
    if (!served || !image) {
        throw Error(
            fmt::format("{} serves nothing to scale; serve a version first: {pallet} "
                        "serve {} IMAGE",
                        env.name, env.name, fmt::arg("pallet", context.command("pallet"))));
    }
    const auto declared = declared_processes(image->labels, served->version);
    for (const auto& [type, count] : counts) {
        if (std::find(declared.begin(), declared.end(), type) == declared.end()) {
            throw Error(fmt::format(
                "{} serves {}, {}; it has no process {}", env.name, served->version,
                declared.empty() ? "which runs no other process (io.pallet.processes)"
                                 : fmt::format("whose processes are {} (io.pallet.processes)",
                                               util::join(declared, ", ")),
                type));
        }
    }
    state::EnvironmentStore(context.docker).update(env, [&](state::Environment& latest) {
        for (const auto& [type, count] : counts) {
            latest.process_counts[type] = count;
        }
    });
    auto processes = opened.processes(env);
    for (const auto& [type, count] : counts) {
        processes->scale(type, count);
        context.done("{} runs {} {} process(es) of {}", env.name, count, type, served->version);
    }
    if (!context.docker.dry_run()) {
        auto event = serve_event(context, served->version, served->image_id,
                                 fmt::format("scaled {}", state::processes_text(counts)));
        event.processes = process_counts(env, declared);
        opened.record_serve(env, event, "");
    }
}

}  // namespace

int run_scale(Context& context, const std::string& env_name,
              const std::vector<std::string>& items) {
    state::validate_env_name(env_name, k_usage);
    const Counts counts = parse_counts(context, env_name, items);
    Locked locked = lock_environment(context, env_name, false);
    if (counts.web) {
        scale_web(context, *locked.opened, locked.env, *counts.web);
    }
    if (!counts.processes.empty()) {
        scale_processes(context, *locked.opened, locked.env, counts.processes);
    }
    return 0;
}

}  // namespace pallet::phases
