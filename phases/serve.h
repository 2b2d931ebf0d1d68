#pragma once

#include <optional>
#include <string>

#include "phases/use_case.h"

namespace pallet::phases {

struct ServeOptions {
    std::string env;
    std::optional<std::string> image;  // default: the version the environment serves now
    std::optional<int> replicas;       // default: as now, else 1
};

// `docker pallet serve`: serves a successfully deployed version, replacing the one that serves.
int run_serve(Context& context, const ServeOptions& options);

// run_serve, the image already resolved when `known` is the one to serve (release).
int serve_image(Context& context, const ServeOptions& options, const ResolvedImage* known);

}  // namespace pallet::phases
