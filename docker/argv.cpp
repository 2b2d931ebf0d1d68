#include "docker/argv.h"

#include <fmt/format.h>

#include <set>

#include "docker/docker_cli.h"
#include "util/error.h"

namespace pallet::docker {
namespace argv {

bool docker_reads_variable(const std::string& name) {
    static const std::set<std::string> k_names = {
        "HOME",        "PATH",     "TMPDIR",      "USER",       "SHELL",       "HTTP_PROXY",
        "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",   "http_proxy", "https_proxy", "no_proxy",
        "all_proxy",   "GODEBUG",  "GOTRACEBACK", "GOMAXPROCS", "GOGC",        "GOMEMLIMIT"};
    for (const char* prefix :
         {"DOCKER_", "XDG_", "LD_", "SSH_", "BUILDKIT_", "BUILDX_", "OTEL_", "NOTARY_"}) {
        if (name.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return k_names.count(name) > 0;
}

std::string key_value_file(const std::vector<std::pair<std::string, std::string>>& items,
                           const char* what) {
    std::string text;
    for (const auto& [key, value] : items) {
        if (key.find_first_of("\n\r") != std::string::npos ||
            value.find_first_of("\n\r") != std::string::npos) {
            throw Error(
                fmt::format("the {} {} holds a line break, which docker's {} file cannot "
                            "carry",
                            what, key, what));
        }
        text += key + "=" + value + "\n";
    }
    return text;
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

std::string csv_line(const std::vector<std::string>& fields) {
    std::string line;
    for (const auto& field : fields) {
        if (!line.empty()) {
            line += ',';
        }
        if (field.find_first_of(",\"\n") == std::string::npos) {
            line += field;
            continue;
        }
        line += '"';
        for (const char c : field) {
            line += c == '"' ? std::string("\"\"") : std::string(1, c);
        }
        line += '"';
    }
    return line;
}

std::string tmpfs_value(const Mount& mount) {
    return fmt::format("{}:uid={},gid={},mode=0755,exec", mount.target, mount.owner.uid,
                       mount.owner.gid);
}

std::string mount_value(const Mount& mount) {
    std::vector<std::string> fields = {mount.bind ? "type=bind" : "type=volume"};
    if (!mount.volume.empty()) {
        fields.push_back("source=" + mount.volume);
    }
    fields.push_back("target=" + mount.target);
    if (mount.read_only) {
        fields.emplace_back("readonly");
    }
    if (!mount.driver.empty()) {
        fields.push_back("volume-driver=" + mount.driver);
    }
    for (const auto& [key, value] : mount.options) {
        fields.push_back(fmt::format("volume-opt={}={}", key, value));
    }
    return csv_line(fields);
}

}  // namespace argv

std::vector<std::string> DockerCli::run_args(const ContainerSpec& spec, bool detach,
                                             const RunFiles& files) {
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
    if (!spec.labels.empty()) {
        args.insert(args.end(), {"--label-file", files.label_file});
    }
    if (!spec.network.empty()) {
        args.insert(args.end(), {"--network", spec.network});
    }
    for (const auto& alias : spec.network_aliases) {
        args.insert(args.end(), {"--network-alias", alias});
    }
    for (const auto& mount : spec.mounts) {
        if (mount.tmpfs) {  // --mount's tmpfs takes no owner before docker 27
            args.insert(args.end(), {"--tmpfs", argv::tmpfs_value(mount)});
        } else {
            args.insert(args.end(), {"--mount", argv::mount_value(mount)});
        }
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
    if (spec.never_pull) {
        args.insert(args.end(), {"--pull", "never"});
    }
    if (!spec.entrypoint.empty()) {
        args.insert(args.end(), {"--entrypoint", spec.entrypoint});
    }
    bool env_file = false;
    for (const auto& [key, value] : spec.env) {
        if (argv::docker_reads_variable(key)) {
            env_file = true;
        } else {
            args.insert(args.end(),
                        {"--env", key});  // the value: from the docker process's environment
        }
    }
    if (env_file) {
        args.insert(args.end(), {"--env-file", files.env_file});
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

std::string DockerCli::label_file_text(const ContainerSpec& spec) {
    return argv::key_value_file({spec.labels.begin(), spec.labels.end()}, "label");
}

std::string DockerCli::env_file_text(const ContainerSpec& spec) {
    std::vector<std::pair<std::string, std::string>> read_by_docker;
    for (const auto& [key, value] : spec.env) {
        if (argv::docker_reads_variable(key)) {
            read_by_docker.emplace_back(key, value);
        }
    }
    return argv::key_value_file(read_by_docker, "env");
}

}  // namespace pallet::docker
