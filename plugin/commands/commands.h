#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "phases/test.h"
#include "phases/use_case.h"
#include "plugin/runtime.h"

// The command tree: each command registers itself, its options and what it runs (a file per
// group of commands); the dispatcher (command_line.cpp) only parses and handles errors.
namespace pallet::plugin::commands {

// What a command registers into. Its options live as long as the tree (each command keeps its
// own in the callbacks it registers).
struct Tree {
    CLI::App& app;
    Runtime& runtime;
    // Set by the chosen command's callback once parsing succeeded: what then runs.
    std::function<int()>& action;
    // The arguments after `--`, untouched by the parser (test's, run's).
    const std::vector<std::string>& after_dashes;
};

void add_test(Tree& tree);
void add_env(Tree& tree);        // env create, update, service, ls, show, set, unset, rm
void add_lifecycle(Tree& tree);  // deploy, serve, release, scale, rollback
void add_run(Tree& tree);
void add_inspect(Tree& tree);  // status, history, logs
void add_stop_rm(Tree& tree);
void add_backup(Tree& tree);  // backup, backup ls, backup rm; restore; maintenance
void add_edge(Tree& tree);
void add_version(Tree& tree);

// Helpers of the commands' registration.

// A subcommand in the "Commands" group of its parent's help.
CLI::App* add_command(CLI::App& parent, const std::string& name, const std::string& description);
// --format table|json, into `value`.
void add_format_option(CLI::App* command, std::string& value);
phases::Format parse_format(const std::string& text);
// An option given once per value (-e A=1 -e B=2): one value each time, never the words after.
void repeatable(CLI::Option* option);
// An image reference in docker's grammar, checked before anything runs.
const CLI::Validator& image_reference();
// The value of --wait[=DURATION] (nullopt when not given, zero: as long as it takes).
std::optional<std::chrono::seconds> wait_value(const CLI::Option* option, const std::string& text,
                                               const std::string& path);
// The options of a test run's environment: variables, services, warm services.
void add_test_environment_options(CLI::App* command, phases::TestOptions& test);

}  // namespace pallet::plugin::commands
