// The swarm side of the docker adapter: services, their tasks, configs, nodes.
#include <fmt/format.h>

#include <algorithm>

#include "docker/argv.h"
#include "docker/docker_cli.h"
#include "docker/engine_socket.h"
#include "util/error.h"
#include "util/private_dir.h"
#include "util/strings.h"

namespace pallet::docker {
namespace {

bool is_swarm_name_conflict(const Result& result) {
    return result.err.find("name conflicts with an existing object") != std::string::npos ||
           result.err.find("AlreadyExists") != std::string::npos ||
           result.err.find("already exists") != std::string::npos;
}

}  // namespace

std::string DockerCli::info(const std::string& format) {
    return util::trim(query({"system", "info", "--format", format}).out);
}

std::string DockerCli::swarm_role() {
    const std::string state = info("{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}");
    if (state.rfind("active", 0) != 0) {
        return "";
    }
    return state.find("true") != std::string::npos ? "manager" : "worker";
}

std::vector<NodeRecord> DockerCli::list_nodes() {
    std::vector<std::string> args = {"node", "inspect"};
    for (const auto& id : util::nonempty_lines(query({"node", "ls", "--quiet"}).out)) {
        args.push_back(id);
    }
    return args.size() == 2 ? std::vector<NodeRecord>{} : parse_node_inspect(query(args).out);
}

std::vector<ServiceRecord> DockerCli::list_services(const std::vector<std::string>& label_filters) {
    std::vector<std::string> args = {"service", "ls", "--quiet"};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    Result ids = execute(args, Command{}, false);
    if (!ids.ok()) {
        if (ids.err.find("not a swarm manager") != std::string::npos) {
            return {};  // no swarm: no services
        }
        fail("service ls", ids);
    }
    const auto json = inspect_listed({"service", "inspect"}, ids.out);
    return json ? parse_service_inspect(*json) : std::vector<ServiceRecord>{};
}

std::map<std::string, std::string> DockerCli::service_replicas(
    const std::vector<std::string>& label_filters) {
    std::vector<std::string> args = {"service", "ls", "--format", "{{.Name}} {{.Replicas}}"};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    Result result = execute(args, Command{}, false);
    std::map<std::string, std::string> wanted;
    if (!result.ok()) {
        return wanted;  // no swarm
    }
    for (const auto& line : util::nonempty_lines(result.out)) {
        const auto space = line.find(' ');
        const auto slash = line.find('/', space);
        if (space != std::string::npos && slash != std::string::npos) {
            wanted[line.substr(0, space)] =
                line.substr(slash + 1, line.find_first_of(" (", slash + 1) - slash - 1);
        }
    }
    if (wanted.empty()) {
        return wanted;
    }
    // docker's own count takes tasks being stopped after a scale down, and tasks of a node that
    // is down, as running: count the tasks meant to run that do.
    std::vector<std::string> ps = {"service",  "ps",
                                   "--filter", "desired-state=running",
                                   "--format", "{{.Name}} {{.CurrentState}}"};
    for (const auto& [name, count] : wanted) {
        ps.push_back(name);
    }
    Result tasks = execute(ps, Command{}, false);
    std::map<std::string, int> running;
    for (const auto& line : util::nonempty_lines(tasks.out)) {
        const auto dot = line.rfind('.', line.find(' '));
        if (dot != std::string::npos && line.find(" Running ") != std::string::npos) {
            ++running[line.substr(0, dot)];
        }
    }
    std::map<std::string, std::string> replicas;
    for (const auto& [name, count] : wanted) {
        replicas[name] = fmt::format("{}/{}", running[name], count);
    }
    return replicas;
}

std::vector<TaskRecord> DockerCli::service_tasks(const std::string& service) {
    Result ids = execute({"service", "ps", "--quiet", "--no-trunc", service}, Command{}, false);
    if (!ids.ok()) {
        if (ids.err.find("no such service") != std::string::npos ||
            ids.err.find("not found") != std::string::npos) {
            return {};
        }
        fail("service ps", ids);
    }
    const auto json = inspect_listed({"inspect", "--type", "task"}, ids.out);
    return json ? parse_task_inspect(*json) : std::vector<TaskRecord>{};
}

std::vector<std::string> DockerCli::service_args(const ServiceSpec& spec,
                                                 const std::string& env_file) {
    std::vector<std::string> args = {"service", "create", "--detach", "--name",
                                     spec.name, "--mode", spec.mode};
    if (spec.mode == "replicated" || spec.mode == "replicated-job") {
        args.insert(args.end(), {"--replicas", std::to_string(spec.replicas)});
    }
    for (const auto& [key, value] : spec.labels) {
        args.insert(args.end(), {"--label", key + "=" + value});
    }
    for (const auto& [key, value] : spec.container_labels) {
        args.insert(args.end(), {"--container-label", key + "=" + value});
    }
    if (!spec.network.empty()) {
        args.insert(args.end(), {"--network", spec.network});
    }
    // Mounts in the order of their targets: docker service update sorts them so, and a task
    // template that changed order would make an update of replicas replace every task.
    std::vector<std::pair<std::string, std::string>> mounts;
    for (const auto& mount : spec.mounts) {
        mounts.emplace_back(mount.target, argv::mount_value(mount));
    }
    std::sort(mounts.begin(), mounts.end());
    for (const auto& [target, mount] : mounts) {
        args.insert(args.end(), {"--mount", mount});
    }
    if (!spec.endpoint_mode.empty()) {
        args.insert(args.end(), {"--endpoint-mode", spec.endpoint_mode});
    }
    for (const auto& publish : spec.publish) {
        args.insert(args.end(), {"--publish", publish});
    }
    for (const auto& constraint : spec.constraints) {
        args.insert(args.end(), {"--constraint", constraint});
    }
    if (!spec.health_command.empty()) {
        args.insert(args.end(),
                    {"--health-cmd", spec.health_command, "--health-interval",
                     fmt::format("{}s", spec.health_interval_seconds), "--health-retries",
                     std::to_string(spec.health_retries), "--health-start-period",
                     fmt::format("{}s", spec.health_start_seconds), "--health-timeout", "30s"});
    }
    args.insert(args.end(), {"--restart-condition", spec.restart_condition, "--stop-grace-period",
                             fmt::format("{}s", spec.stop_grace_seconds),
                             // Without a registry each node runs its own copy of the image.
                             "--no-resolve-image"});
    bool read_by_docker = false;
    for (const auto& [key, value] : spec.env) {
        if (argv::docker_reads_variable(key)) {
            read_by_docker = true;
        } else {
            args.insert(args.end(), {"--env", key});  // the value: from the process environment
        }
    }
    if (read_by_docker) {
        args.insert(args.end(), {"--env-file", env_file});
    }
    if (!spec.entrypoint.empty()) {
        args.insert(args.end(), {"--entrypoint", spec.entrypoint});
    }
    args.push_back(spec.image);
    args.insert(args.end(), spec.command.begin(), spec.command.end());
    return args;
}

StartOutcome DockerCli::create_service(const ServiceSpec& spec) {
    ContainerSpec as_container;  // the same variables, through the same files and environment
    as_container.env = spec.env;
    Command options;
    options.extra_env = run_env(as_container);
    options.on_cancel = OnCancel::finish;
    std::optional<util::PrivateDirectory> files;
    std::string env_file = "ENV_FILE";
    if (!m_dry_run) {
        files.emplace();
        env_file = files->write("env", env_file_text(as_container));
    }
    Result result = execute(service_args(spec, env_file), options, true);
    if (result.ok()) {
        return StartOutcome::started;
    }
    if (is_swarm_name_conflict(result)) {
        return StartOutcome::name_taken;
    }
    fail("service create", result);
}

void DockerCli::scale_service(const std::string& name, int replicas) {
    scale_services({{name, replicas}});
}

void DockerCli::scale_services(const std::map<std::string, int>& replicas) {
    if (replicas.empty()) {
        return;
    }
    Command options;
    options.on_cancel = OnCancel::finish;
    // `service scale` changes the replicas alone (update would rewrite other parts of the spec).
    std::vector<std::string> args = {"service", "scale", "--detach"};
    for (const auto& [name, count] : replicas) {
        args.push_back(fmt::format("{}={}", name, count));
    }
    change(std::move(args), options);
}

void DockerCli::remove_services(const std::vector<std::string>& names) {
    if (names.empty()) {
        return;
    }
    std::vector<std::string> args = {"service", "rm"};
    args.insert(args.end(), names.begin(), names.end());
    cleanup(args);
}

std::unique_ptr<BackgroundProcess> DockerCli::follow_service_logs(const std::string& service) {
    Command command;
    const auto& engine_args = m_connection ? m_connection->args : m_target.global_args;
    command.argv = {m_target.program};
    command.argv.insert(command.argv.end(), engine_args.begin(), engine_args.end());
    command.argv.insert(command.argv.end(), {"service", "logs", "--follow", "--raw", service});
    if (m_connection) {
        command.extra_env = m_connection->env;
    }
    return m_runner.start(command, "");
}

void DockerCli::stream_service_logs(const std::string& service, bool follow, bool raw) {
    std::vector<std::string> args = {"service", "logs"};
    if (raw) {
        args.push_back("--raw");
    }
    if (follow) {
        args.push_back("--follow");
    }
    args.push_back(service);
    Command options;
    options.output = Output::inherit;
    options.kill_grace = std::chrono::milliseconds(2000);
    Result result = execute(args, options, false);
    if (!result.ok()) {
        throw_if_connection_lost();
        throw Error(
            fmt::format("docker service logs {} failed (exit {})", service, result.exit_code));
    }
}

std::string DockerCli::service_logs(const std::string& service) {
    Result result = execute({"service", "logs", "--raw", service}, Command{}, false);
    return result.out + result.err;
}

std::vector<std::string> DockerCli::config_names(const std::vector<std::string>& label_filters) {
    // Completion's swarm environments: from the engine's socket when there is one here. An
    // engine that is no manager answers 503, as `docker config ls` fails there: no configs.
    if (auto names = socket_list("/configs?" + label_filters_query(label_filters),
                                 config_names_from_api, 503)) {
        return *names;
    }
    std::vector<std::string> args = {"config", "ls", "--format", "{{.Name}}"};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    Result result = execute(args, Command{}, false);
    // No swarm manager: no configs.
    return result.ok() ? util::nonempty_lines(result.out) : std::vector<std::string>{};
}

std::vector<ContainerRecord> DockerCli::list_configs(
    const std::vector<std::string>& label_filters) {
    std::vector<std::string> args = {"config", "ls", "--quiet"};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    Result ids = execute(args, Command{}, false);
    if (!ids.ok()) {
        if (ids.err.find("not a swarm manager") != std::string::npos) {
            return {};  // an engine that is no manager keeps no swarm records
        }
        fail("config ls", ids);
    }
    const auto json = inspect_listed({"config", "inspect"}, ids.out);
    return json ? parse_config_inspect(*json) : std::vector<ContainerRecord>{};
}

StartOutcome DockerCli::create_config(const std::string& name, const Labels& labels,
                                      const std::string& data) {
    std::vector<std::string> args = {"config", "create"};
    argv::append_labels(args, labels);
    args.insert(args.end(), {name, "-"});
    Command options;
    options.stdin_data = data.empty() ? "{}" : data;  // a config cannot be empty
    options.on_cancel = OnCancel::finish;
    Result result = execute(args, options, true);
    if (result.ok()) {
        return StartOutcome::started;
    }
    if (is_swarm_name_conflict(result)) {
        return StartOutcome::name_taken;
    }
    fail("config create", result);
}

void DockerCli::remove_configs(const std::vector<std::string>& names) {
    if (names.empty()) {
        return;
    }
    std::vector<std::string> args = {"config", "rm"};
    args.insert(args.end(), names.begin(), names.end());
    cleanup(args);
}

void DockerCli::create_overlay_network(const std::string& name, const Labels& labels) {
    std::vector<std::string> args = {"network", "create", "--driver", "overlay", "--attachable"};
    argv::append_labels(args, labels);
    args.push_back(name);
    change(args);
}

}  // namespace pallet::docker
