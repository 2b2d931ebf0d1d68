#include "docker/argv.h"

#include <fmt/format.h>

#include <set>

#include "docker/docker_cli.h"

namespace pallet::docker {
namespace argv {

// Variables the docker CLI reads itself: their values go on argv, not into its environment.
bool docker_reads_variable(const std::string& name) {
    static const std::set<std::string> k_names = {
        "HOME",       "PATH",       "TMPDIR",  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
        "ALL_PROXY",  "http_proxy", "https_proxy", "no_proxy", "all_proxy"};
    return name.rfind("DOCKER_", 0) == 0 || name.rfind("XDG_", 0) == 0 || k_names.count(name) > 0;
}

std::vector<std::string> filter_args(const std::vector<std::string>& label_filters) {
    std::vector<std::string> args;
    for (const auto& filter : label_filters) {
        args.push_back("--filter");
        args.push_back("label=" + filter);
    }
    return args;
}

void append_labels(std::vector<std::string>& args, const Labels& labels) {
    for (const auto& [key, value] : labels) {
        args.push_back("--label");
        args.push_back(key + "=" + value);
    }
}

}  // namespace argv

std::vector<std::string> DockerCli::run_args(const ContainerSpec& spec, bool detach) {
    std::vector<std::string> args = {"container", "run"};
    if (detach) {
        args.push_back("--detach");
    }
    if (spec.remove_on_exit) {
        args.push_back("--rm");
    }
    if (spec.interactive) {
        args.push_back("--interactive");
    }
    if (spec.tty) {
        args.push_back("--tty");
    }
    if (!spec.name.empty()) {
        args.insert(args.end(), {"--name", spec.name});
    }
    argv::append_labels(args, spec.labels);
    if (!spec.network.empty()) {
        args.insert(args.end(), {"--network", spec.network});
    }
    for (const auto& alias : spec.network_aliases) {
        args.insert(args.end(), {"--network-alias", alias});
    }
    for (const auto& mount : spec.mounts) {
        std::string value = mount.volume.empty()
                                ? fmt::format("type=volume,target={}", mount.target)
                                : fmt::format("type=volume,source={},target={}", mount.volume,
                                              mount.target);
        if (mount.read_only) {
            value += ",readonly";
        }
        args.insert(args.end(), {"--mount", value});
    }
    if (spec.publish) {
        args.insert(args.end(), {"--publish", *spec.publish});
    }
    if (spec.stop_timeout) {
        args.insert(args.end(), {"--stop-timeout", std::to_string(*spec.stop_timeout)});
    }
    if (!spec.restart.empty()) {
        args.insert(args.end(), {"--restart", spec.restart});
    }
    for (const auto& [key, value] : spec.env) {
        args.push_back("--env");
        args.push_back(argv::docker_reads_variable(key) ? key + "=" + value : key);
    }
    args.push_back(spec.image);
    args.insert(args.end(), spec.command.begin(), spec.command.end());
    return args;
}

std::map<std::string, std::string> DockerCli::run_env(const ContainerSpec& spec) {
    std::map<std::string, std::string> env;
    for (const auto& [key, value] : spec.env) {
        if (!argv::docker_reads_variable(key)) {
            env[key] = value;
        }
    }
    return env;
}

}  // namespace pallet::docker
