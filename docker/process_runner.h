#pragma once

#include "docker/runner.h"

namespace pallet::docker {

// The real Runner: spawns processes with Boost.Process. The only user of Boost.Process.
class ProcessRunner : public Runner {
  public:
    Result run(const Command& command) override;
    std::unique_ptr<BackgroundProcess> start(const Command& command,
                                             const std::string& output) override;
};

}  // namespace pallet::docker
