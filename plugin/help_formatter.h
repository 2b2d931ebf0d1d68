#pragma once

#include <CLI/CLI.hpp>

namespace pallet::plugin {

// Help in docker's shape: "Usage:  docker pallet <command> [OPTIONS] ARGS", then the rest.
class HelpFormatter : public CLI::Formatter {
  public:
    std::string make_usage(const CLI::App* app, std::string name) const override;
    std::string make_help(const CLI::App* app, std::string name,
                          CLI::AppFormatMode mode) const override;
};

// "docker pallet env create": the command path a user types for this app.
std::string command_path(const CLI::App* app);

}  // namespace pallet::plugin
