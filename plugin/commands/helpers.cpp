#include <fmt/format.h>

#include "docker/reference.h"
#include "plugin/commands/commands.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::plugin::commands {

CLI::App* add_command(CLI::App& parent, const std::string& name, const std::string& description) {
    CLI::App* command = parent.add_subcommand(name, description);
    command->group("Commands");
    return command;
}

void add_format_option(CLI::App* command, std::string& value) {
    command->add_option("--format", value, "Output format: table or json (one object a line)")
        ->check(CLI::IsMember({"table", "json"}))
        ->default_str("table");
}

phases::Format parse_format(const std::string& text) {
    return text == "json" ? phases::Format::json : phases::Format::table;
}

void repeatable(CLI::Option* option) {
    option->expected(1)->allow_extra_args(false)->multi_option_policy(
        CLI::MultiOptionPolicy::TakeAll);
}

const CLI::Validator& image_reference() {
    static const CLI::Validator k_validator(
        [](const std::string& text) {
            return docker::is_image_reference(text)
                       ? std::string()
                       : fmt::format(
                             "invalid image reference \"{}\": use NAME[:TAG][@DIGEST], for "
                             "example myapp:1.4",
                             text);
        },
        "IMAGE");
    return k_validator;
}

std::optional<std::chrono::seconds> wait_value(const CLI::Option* option, const std::string& text,
                                               const std::string& path) {
    if (option->count() == 0) {
        return std::nullopt;
    }
    if (text.empty()) {
        return std::chrono::seconds(0);
    }
    auto duration = util::parse_duration(text);
    if (!duration) {
        throw UsageError(fmt::format("invalid duration \"{}\" for --wait (use 90s, 5m or 1h; at "
                                     "most a year)",
                                     text),
                         path);
    }
    return duration;
}

void add_test_environment_options(CLI::App* command, phases::TestOptions& test) {
    repeatable(command->add_option("-e,--env", test.env, "Set a variable (KEY=VALUE)"));
    repeatable(command->add_option("--env-file", test.env_files, "Read variables from a file")
                   ->type_name("FILE"));
    repeatable(command->add_option("--service", test.services,
                                   "Provide a service (NAME) or use your server (NAME=URL); also "
                                   "read from the image's io.pallet.services labels"));
    repeatable(command->add_option("--service-image", test.service_images,
                                   "Image of a provided service (NAME=IMAGE)"));
    command->add_option("--service-timeout", test.service_timeout,
                        "How long services have to get ready (default 120s)");
    command->add_flag("--reuse-services", test.reuse_services,
                      "Keep provided services warm between runs (each run still gets its own "
                      "database, vhost, prefix; dropped at the end)");
}

}  // namespace pallet::plugin::commands
