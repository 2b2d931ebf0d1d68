#pragma once

#include <stdexcept>
#include <string>

namespace pallet {

// Exit codes the plugin uses besides those it passes through from applications.
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 125;  // docker's convention for flag errors
inline constexpr int k_exit_sigint = 130;
inline constexpr int k_exit_sigterm = 143;

// A failure to report to the user: printed once, at the top, as "docker-pallet: error: <what>".
class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what, int exit_code = k_exit_failure)
        : std::runtime_error(what), m_exit_code(exit_code) {}
    int exit_code() const { return m_exit_code; }

  private:
    int m_exit_code;
};

// A command line the plugin cannot accept; `command_path` names the help to point at.
class UsageError : public Error {
  public:
    UsageError(const std::string& what, std::string command_path)
        : Error(what, k_exit_usage), m_command_path(std::move(command_path)) {}
    const std::string& command_path() const { return m_command_path; }

  private:
    std::string m_command_path;
};

// The user cancelled (SIGINT, SIGTERM, or the docker CLI closed the plugin socket).
class Cancelled : public std::exception {
  public:
    const char* what() const noexcept override { return "cancelled"; }
};

}  // namespace pallet
