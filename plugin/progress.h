#pragma once

#include <memory>
#include <optional>
#include <string>

#include "orchestrator/progress.h"

namespace pallet::plugin {

// `--progress auto|tty|plain|json|quiet` (PALLET_PROGRESS), as docker compose and buildx take it.
enum class ProgressMode { automatic, tty, plain, json, quiet };

// Parses a mode; nullopt for anything else.
std::optional<ProgressMode> parse_progress_mode(const std::string& text);

// The renderer of `mode` on stderr. auto: tty when stderr is a terminal (and TERM is not dumb),
// else plain. `color`: false for NO_COLOR or --no-color. `environment`: the command's ENV, for
// json events ("" when it has none).
std::unique_ptr<orchestrator::Progress> make_progress(ProgressMode mode, bool color,
                                                      const std::string& environment);

}  // namespace pallet::plugin
