#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "docker/records.h"
#include "orchestrator/orchestrator.h"
#include "phases/use_case.h"

// Process types: the other processes an image runs next to serve (workers, a scheduler), each a
// command it answers, declared with LABEL io.pallet.processes="worker,clock".
namespace pallet::phases {

// The process types an image declares, checked: names of [a-z][a-z0-9-]*, none of the commands
// the standard gives (test, deploy, serve) nor web and run. Throws an Error naming a bad one.
std::vector<std::string> declared_processes(const docker::Labels& image_labels,
                                            const std::string& image);

// How many of each declared type run: the environment's count, else 1.
std::map<std::string, int> process_counts(const state::Environment& env,
                                          const std::vector<std::string>& declared);

// Makes `image`'s processes, the environment's count of each declared type, none running yet
// (removed again unless kept): done while the new web replicas come up.
std::unique_ptr<orchestrator::Processes> prepare_processes(orchestrator::Orchestrator& opened,
                                                           const state::Environment& env,
                                                           const ResolvedImage& image);

// Hands the environment's processes from the version that serves to `image`'s prepared ones
// (`fresh`), so that two versions of one type never run at once: the old ones get SIGTERM and
// the process stop timeout to finish their work, then the new ones start and must stay up for
// the settle period. When one does not, the new ones go (`fresh` is reset), the old ones run
// again, and an Error says what it printed. Otherwise `fresh` runs (to keep once the router
// has switched), and `old` stays stopped.
void hand_over_processes(Context& context, const state::Environment& env,
                         const ResolvedImage& image, orchestrator::Processes& old,
                         std::unique_ptr<orchestrator::Processes>& fresh);

}  // namespace pallet::phases
