#include "orchestrator/progress.h"

#include <fmt/format.h>

#include <cstdio>

namespace pallet::orchestrator {

void PlainProgress::step(const std::string& text) {
    fmt::print(stderr, "=> {}\n", text);
    std::fflush(stderr);
}

void PlainProgress::note(const std::string& text) {
    fmt::print(stderr, "{}\n", text);
    std::fflush(stderr);
}

}  // namespace pallet::orchestrator
