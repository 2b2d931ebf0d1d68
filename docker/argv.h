#pragma once

#include <string>
#include <vector>

#include "docker/records.h"

// Pieces of docker argv shared by the adapter's commands.
namespace pallet::docker::argv {

// True for variables the docker CLI reads itself: their values go on argv, never into the
// docker process's environment.
bool docker_reads_variable(const std::string& name);

// --filter label=... for each filter.
std::vector<std::string> filter_args(const std::vector<std::string>& label_filters);

// Appends --label key=value for each label.
void append_labels(std::vector<std::string>& args, const Labels& labels);

}  // namespace pallet::docker::argv
