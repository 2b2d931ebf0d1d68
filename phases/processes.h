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

// Hands the environment's processes from the version that serves to `image`'s, so that two
// versions of one type never run at once: the old ones get SIGTERM and the process stop timeout
// to finish their work, then the new ones start and must stay up for the settle period. When
// one does not, the new ones go, the old ones run again, and an Error says what it printed.
// Returns the new ones (to keep once the router has switched), and `old` stays stopped.
std::unique_ptr<orchestrator::Processes> hand_over_processes(Context& context,
                                                             orchestrator::Orchestrator& opened,
                                                             const state::Environment& env,
                                                             const ResolvedImage& image,
                                                             orchestrator::Processes& old);

}  // namespace pallet::phases
