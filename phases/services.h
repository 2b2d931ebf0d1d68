#pragma once

#include <map>
#include <string>
#include <vector>

#include "docker/records.h"
#include "services/catalog.h"

// The rules about an environment's services: which ones an image needs, given how.
namespace pallet::phases {

using ServiceMap = std::map<std::string, services::ServiceConfig>;

// Parses repeated --service NAME[=URL] into `into` (a name given twice: the last one wins).
void add_service_args(const std::vector<std::string>& args, ServiceMap& into,
                      const std::string& command_path);

// Services an image declares with the labels io.pallet.services (required) and
// io.pallet.services.optional, comma- or space-separated. Unknown names are an error.
std::vector<std::string> declared_services(const docker::Labels& labels, bool include_optional);

// Throws an Error naming the first service the image requires that `services` lacks, and the
// command that adds it.
void require_services(const docker::Labels& image_labels, const ServiceMap& services,
                      const std::string& env, const std::string& image,
                      const std::string& pallet_command = "docker pallet");

}  // namespace pallet::phases
