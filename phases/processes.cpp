#include "phases/processes.h"

#include <fmt/format.h>

#include <algorithm>

#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::phases {

std::vector<std::string> declared_processes(const docker::Labels& image_labels,
                                            const std::string& image) {
    const auto it = image_labels.find(state::label::k_processes);
    if (it == image_labels.end()) {
        return {};
    }
    std::string text = it->second;
    std::replace(text.begin(), text.end(), ',', ' ');
    std::vector<std::string> names;
    for (const auto& name : util::split(text, ' ')) {
        if (name.empty()) {
            continue;
        }
        const bool well_formed =
            name.size() <= 30 && name[0] >= 'a' && name[0] <= 'z' &&
            std::all_of(name.begin(), name.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            });
        if (!well_formed) {
            throw Error(fmt::format(
                "{}: the label {} names a process \"{}\"; a process type is a command the image "
                "answers, [a-z][a-z0-9-]* (at most 30), for example worker or clock",
                image, state::label::k_processes, name));
        }
        for (const char* reserved : {"test", "deploy", "serve", "web", "run"}) {
            if (name == reserved) {
                throw Error(fmt::format(
                    "{}: the label {} names the process \"{}\", which is {}; give the other "
                    "processes the image runs next to serve (worker, clock)",
                    image, state::label::k_processes, name,
                    name == "web" ? "serve's own" : "a command of the standard"));
            }
        }
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(name);
        }
    }
    return names;
}

std::map<std::string, int> process_counts(const state::Environment& env,
                                          const std::vector<std::string>& declared) {
    std::map<std::string, int> counts;
    for (const auto& type : declared) {
        const auto it = env.process_counts.find(type);
        counts[type] = it == env.process_counts.end() ? 1 : it->second;
    }
    return counts;
}

std::unique_ptr<orchestrator::Processes> prepare_processes(orchestrator::Orchestrator& opened,
                                                           const state::Environment& env,
                                                           const ResolvedImage& image) {
    return opened.prepare_processes(
        env, image, process_counts(env, declared_processes(image.record.labels, image.ref)));
}

void hand_over_processes(Context& context, const state::Environment& env,
                         const ResolvedImage& image, orchestrator::Processes& old,
                         std::unique_ptr<orchestrator::Processes>& fresh) {
    const auto before = old.counts();
    if (!before.empty()) {
        context.step("stopping the old version's processes (at most {}s each to finish their work)",
                     env.process_stop_timeout);
        old.stop();
    }
    // Whatever stops the new ones (an exit, a start that fails, Ctrl-C) leaves the old ones
    // running again: two versions never run at once, and none is left without its processes.
    const auto counts = process_counts(env, declared_processes(image.record.labels, image.ref));
    std::optional<orchestrator::ProcessFailure> failure;
    try {
        fresh->start();
        if (counts.empty() || context.docker.dry_run()) {
            return;
        }
        std::vector<std::string> started;
        for (const auto& [type, count] : counts) {
            started.push_back(fmt::format("{} {}", count, type));
        }
        context.step("started {} of {}; they must stay up {}s", util::join(started, ", "),
                     image.ref, env.process_settle);
        failure = fresh->settle(std::chrono::seconds(env.process_settle));
    } catch (...) {
        fresh.reset();
        old.start_again();
        throw;
    }
    if (failure) {
        fresh.reset();      // the new ones go...
        old.start_again();  // ...and the old ones run again
        throw Error(fmt::format(
            "the {} process of {} {}, so nothing changed: the old version serves and its "
            "processes run again.{}{}",
            failure->type, image.ref, failure->what,
            failure->output.empty() ? "" : " Its last output:\n", failure->output));
    }
}

}  // namespace pallet::phases
