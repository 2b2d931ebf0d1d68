#pragma once

#include <deque>
#include <string>
#include <vector>

#include "docker/runner.h"

namespace pallet::testing {

// A Runner that records every command and answers from a script (default: success, no output).
class FakeRunner : public docker::Runner {
  public:
    docker::Result run(const docker::Command& command) override {
        commands.push_back(command);
        if (answers.empty()) {
            return {};
        }
        docker::Result result = answers.front();
        answers.pop_front();
        return result;
    }
    std::unique_ptr<docker::BackgroundProcess> start(const docker::Command& command,
                                                     const std::string&) override {
        started.push_back(command);
        struct Running : docker::BackgroundProcess {
            bool running() override { return true; }
        };
        return std::make_unique<Running>();
    }
    void answer(int exit_code, std::string out = "", std::string err = "") {
        docker::Result result;
        result.exit_code = exit_code;
        result.out = std::move(out);
        result.err = std::move(err);
        answers.push_back(result);
    }
    std::vector<docker::Command> commands;
    std::vector<docker::Command> started;  // background processes
    std::deque<docker::Result> answers;
};

}  // namespace pallet::testing
