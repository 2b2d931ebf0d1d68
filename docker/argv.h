#pragma once

#include <string>
#include <vector>

#include "docker/records.h"

namespace pallet::docker {
struct Mount;
}

// Pieces of docker argv shared by the adapter's commands.
namespace pallet::docker::argv {

// True for variables the docker CLI (or the loader, or ssh for ssh:// engines) reads itself:
// their values reach a container through an --env-file, never the docker process's environment.
bool docker_reads_variable(const std::string& name);

// The text of an --env-file or --label-file: KEY=VALUE lines. Throws an Error naming the key when
// a key or value holds a line break, which such files cannot carry.
std::string key_value_file(const std::vector<std::pair<std::string, std::string>>& items,
                           const char* what);

// --filter label=... for each filter.
std::vector<std::string> filter_args(const std::vector<std::string>& label_filters);

// Appends --label key=value for each label.
void append_labels(std::vector<std::string>& args, const Labels& labels);

// One CSV line of `fields`, as --mount reads it: a field with a comma or a quote is quoted.
std::string csv_line(const std::vector<std::string>& fields);

// The value of --mount for `mount` (docker run and docker service create read it alike), a
// tmpfs excepted.
std::string mount_value(const Mount& mount);
// The value of docker run's --tmpfs for a tmpfs `mount`: its owner, mode 0755, exec.
std::string tmpfs_value(const Mount& mount);

}  // namespace pallet::docker::argv
