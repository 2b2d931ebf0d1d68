#include "plugin/runtime.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace pallet::plugin {

phases::Context& Runtime::get() {
    if (!context) {
        settings = std::make_unique<Settings>(invocation.config_dir);
        runner = std::make_unique<docker::ProcessRunner>();
        docker::DockerTarget target;
        const char* original = std::getenv("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND");
        target.program = original != nullptr && *original != '\0' ? original : "docker";
        target.global_args = invocation.global_args;
        docker = std::make_unique<docker::DockerCli>(*runner, target, dry_run);
        docker->set_debug(invocation.debug);
        context = std::make_unique<phases::Context>(phases::Context{
            *docker, [this](const std::string& name) { return settings->get(name); },
            current_user(), current_host()});
        settings->check();  // a broken config.json is reported before any work
    }
    return *context;
}

std::string Runtime::current_user() {
    if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') {
        return user;
    }
    if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) {
        return entry->pw_name;
    }
    return std::to_string(::getuid());
}

std::string Runtime::current_host() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) {
        return "unknown";
    }
    return name;
}

}  // namespace pallet::plugin
