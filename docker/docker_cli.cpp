#include "docker/docker_cli.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "docker/argv.h"
#include "docker/engine_socket.h"
#include "docker/failure.h"
#include "util/error.h"
#include "util/private_dir.h"
#include "util/strings.h"
#include "util/url.h"

namespace pallet::docker {
namespace {

// The line of docker's error output that says what went wrong (not its "Run 'docker run
// --help'" hint).
std::string last_line(const std::string& text) {
    auto lines = util::split(util::trim(text), '\n');
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        auto line = util::trim(*it);
        if (!line.empty() && line.rfind("Run 'docker", 0) != 0 &&
            line.rfind("See 'docker", 0) != 0) {
            return line;
        }
    }
    return "no error output";
}

bool is_name_conflict(const Result& result) { return classify(result.err) == Failure::name_taken; }

}  // namespace

DockerCli::DockerCli(Runner& runner, DockerTarget target, bool dry_run)
    : m_runner(runner), m_target(std::move(target)), m_dry_run(dry_run) {}

std::string DockerCli::command_line(const std::string& rest) const {
    // The docker CLI by the name users type, unless it is another program altogether.
    const std::string& program = m_target.program;
    const auto slash = program.rfind('/');
    const bool is_docker =
        program.empty() || program.substr(slash == std::string::npos ? 0 : slash + 1) == "docker";
    std::vector<std::string> words = {is_docker ? std::string("docker") : program};
    words.insert(words.end(), m_target.global_args.begin(), m_target.global_args.end());
    std::string line = util::shell_join(words);
    return rest.empty() ? line : line + " " + rest;
}

std::string DockerCli::display(const std::vector<std::string>& args, const Command&) const {
    // The real argv: no value is on it. URLs are masked all the same.
    std::vector<std::string> shown = {m_target.program};
    shown.insert(shown.end(), m_target.global_args.begin(), m_target.global_args.end());
    for (const auto& arg : args) {
        shown.push_back(arg.find("://") != std::string::npos ? util::mask_url(arg) : arg);
    }
    return util::shell_join(shown);
}

Result DockerCli::execute(std::vector<std::string> args, Command options, bool is_change) {
    if (is_change && m_dry_run) {
        m_logger(Log::dry_run, m_redactor.redact("would run: " + display(args, options)));
        return Result{};
    }
    options.argv = {m_target.program};
    const auto& engine_args = m_connection ? m_connection->args : m_target.global_args;
    options.argv.insert(options.argv.end(), engine_args.begin(), engine_args.end());
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    if (m_connection) {
        options.extra_env.insert(m_connection->env.begin(), m_connection->env.end());
    }
    const auto start = std::chrono::steady_clock::now();
    Result result;
    try {
        result = m_runner.run(options);
    } catch (...) {
        if (m_debug) {
            m_logger(Log::debug,
                     fmt::format("{} (interrupted)", m_redactor.redact(display(args, options))));
        }
        throw;
    }
    if (m_debug) {
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        m_logger(Log::debug,
                 fmt::format("{} ({} ms, exit {}{})", m_redactor.redact(display(args, options)),
                             elapsed.count(), result.exit_code,
                             m_connection ? ", over " + m_connection->description : std::string()));
    }
    return result;
}

void DockerCli::log_socket_read(const std::string& what) const {
    if (m_debug) {
        m_logger(Log::debug, fmt::format("{} on {}", what, m_engine_socket));
    }
}

std::optional<std::vector<std::string>> DockerCli::socket_list(
    const std::string& path,
    const std::function<std::vector<std::string>(const std::string&)>& parse, int none) {
    if (m_engine_socket.empty()) {
        return std::nullopt;
    }
    const std::string what = "GET " + path.substr(0, path.find('?'));
    if (auto answer = engine_read(m_engine_socket, path, k_engine_read_timeout)) {
        try {
            if (answer->status == 200 || (none != 0 && answer->status == none)) {
                auto list =
                    answer->status == 200 ? parse(answer->body) : std::vector<std::string>{};
                log_socket_read(what);
                return list;
            }
        } catch (const Error&) {
        }
    }
    if (m_debug) {
        m_logger(Log::debug,
                 fmt::format("no list from {} on {}: asking docker", what, m_engine_socket));
    }
    return std::nullopt;
}

Result DockerCli::query(std::vector<std::string> args) {
    auto summary = args.size() > 1 ? args[0] + " " + args[1] : args.at(0);
    Result result = execute(std::move(args), Command{}, false);
    if (!result.ok()) {
        fail(summary, result);
    }
    return result;
}

void DockerCli::change(std::vector<std::string> args, Command options) {
    auto summary = args.size() > 1 ? args[0] + " " + args[1] : args.at(0);
    Result result = execute(std::move(args), std::move(options), true);
    if (!result.ok()) {
        fail(summary, result);
    }
}

void DockerCli::throw_if_connection_lost() const {
    if (m_connection && m_connection->lost) {
        if (auto lost = m_connection->lost()) {
            throw Error(*lost);
        }
    }
}

void DockerCli::fail(const std::string& summary, const Result& result) const {
    std::string why = last_line(result.err);
    const bool unreachable = why.find("Cannot connect to the Docker daemon") != std::string::npos ||
                             why.find("error during connect") != std::string::npos;
    if (unreachable) {
        throw_if_connection_lost();
        throw Error(
            fmt::format("cannot reach the Docker engine: {}\nStart the engine, or choose "
                        "one with --context or --host.",
                        why));
    }
    throw DockerError(fmt::format("docker {} failed: {}", summary, why), classify(result.err));
}

void DockerCli::cleanup(std::vector<std::string> args) {
    Command options;
    options.on_cancel = OnCancel::finish;
    try {
        Result result = execute(args, options, true);
        // A network's endpoints can outlive its containers' removal by a moment.
        for (int retry = 0;
             retry < 6 && !result.ok() && result.err.find("active endpoints") != std::string::npos;
             ++retry) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            result = execute(args, options, true);
        }
        if (!result.ok() && result.err.find("No such") == std::string::npos &&
            result.err.find("not found") == std::string::npos) {
            m_logger(Log::warning,
                     "could not clean up: " + m_redactor.redact(last_line(result.err)));
        }
    } catch (const std::exception& e) {
        m_logger(Log::warning, fmt::format("could not clean up: {}", e.what()));
    }
}

double DockerCli::engine_now() {
    const std::lock_guard lock(m_engine_time_mutex);
    if (!m_engine_time) {
        const auto before = std::chrono::steady_clock::now();
        std::string text =
            util::trim(query({"system", "info", "--format", "{{json .SystemTime}}"}).out);
        const auto after = std::chrono::steady_clock::now();
        if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
            text = text.substr(1, text.size() - 2);
        }
        auto time = parse_docker_time(text);
        if (!time) {
            throw Error(
                fmt::format("the engine did not tell its time (docker system info gave \"{}\")",
                            text.substr(0, 60)));
        }
        m_engine_time = *time;
        m_engine_read = before + (after - before) / 2;
    }
    return *m_engine_time +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - m_engine_read).count();
}

std::string DockerCli::context_host(const std::string& context) {
    return util::trim(
        query({"context", "inspect", context, "--format", "{{.Endpoints.docker.Host}}"}).out);
}

std::optional<ImageRecord> DockerCli::inspect_image(const std::string& ref) {
    // Asked by every command with an image, before anything else can start: read from the
    // engine's socket when there is one here (no docker process to start, no ping before it);
    // anything but the image or docker's "no such image" goes through the docker CLI, which
    // says what went wrong.
    if (!m_engine_socket.empty() && fits_api_path(ref)) {
        const auto answer =
            engine_read(m_engine_socket, "/images/" + ref + "/json", k_engine_read_timeout);
        if (answer && answer->status == 404) {
            log_socket_read("GET /images/" + ref + "/json: no such image");
            return std::nullopt;
        }
        if (answer && answer->status == 200) {
            try {
                auto record = parse_image_inspect("[" + answer->body + "]");
                log_socket_read("GET /images/" + ref + "/json");
                return record;
            } catch (const Error&) {
            }
        }
    }
    Result result = execute({"image", "inspect", ref}, Command{}, false);
    if (!result.ok()) {
        if (result.err.find("No such") != std::string::npos) {
            return std::nullopt;
        }
        fail("image inspect", result);
    }
    return parse_image_inspect(result.out);
}

std::vector<ContainerRecord> DockerCli::list_containers(
    const std::vector<std::string>& label_filters) {
    std::vector<std::string> args = {"container", "ls", "--all", "--quiet", "--no-trunc"};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    const auto json = inspect_listed({"container", "inspect"}, query(args).out);
    return json ? parse_container_inspect(*json) : std::vector<ContainerRecord>{};
}

std::vector<ContainerRecord> DockerCli::list_container_summaries(
    const std::vector<std::string>& label_filters, const std::vector<std::string>& label_keys) {
    std::vector<std::string> args = {"container",  "ls",       "--all",
                                     "--no-trunc", "--format", summary_template(label_keys)};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    return parse_container_summaries(query(args).out);
}

std::optional<std::string> DockerCli::inspect_listed(std::vector<std::string> inspect,
                                                     const std::string& ids) {
    const size_t fixed = inspect.size();
    for (const auto& id : util::split(ids, '\n')) {
        if (!util::trim(id).empty()) {
            inspect.push_back(util::trim(id));
        }
    }
    if (inspect.size() == fixed) {
        return std::nullopt;
    }
    Result result = execute(inspect, Command{}, false);
    if (!result.ok() && util::trim(result.out).empty()) {
        fail(inspect[0] == "inspect" ? "inspect" : inspect[0] + " inspect", result);
    }
    return result.out;
}

std::vector<ContainerRecord> DockerCli::inspect_containers(const std::vector<std::string>& ids) {
    const auto json = inspect_listed({"container", "inspect"}, util::join(ids, "\n"));
    return json ? parse_container_inspect(*json) : std::vector<ContainerRecord>{};
}

std::optional<ContainerRecord> DockerCli::inspect_container(const std::string& name) {
    Result result = execute({"container", "inspect", name}, Command{}, false);
    if (!result.ok()) {
        if (result.err.find("No such") != std::string::npos) {
            return std::nullopt;
        }
        fail("container inspect", result);
    }
    auto records = parse_container_inspect(result.out);
    if (records.empty()) {
        return std::nullopt;
    }
    return records.front();
}

std::vector<VolumeRecord> DockerCli::list_volumes(const std::vector<std::string>& label_filters) {
    std::vector<std::string> args = {"volume", "ls", "--format", "{{json .}}"};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    return parse_volume_lines(query(args).out);
}

std::vector<std::string> DockerCli::query_lines(std::vector<std::string> args) {
    return util::nonempty_lines(query(std::move(args)).out);
}

std::vector<std::string> DockerCli::list_networks(const std::vector<std::string>& label_filters) {
    std::vector<std::string> args = {"network", "ls", "--format", "{{.Name}}"};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    return query_lines(args);
}

std::vector<std::string> DockerCli::network_subnets() {
    const auto ids = query_lines({"network", "ls", "--quiet"});
    if (ids.empty()) {
        return {};
    }
    std::vector<std::string> args = {"network", "inspect", "--format",
                                     "{{range .IPAM.Config}}{{println .Subnet}}{{end}}"};
    args.insert(args.end(), ids.begin(), ids.end());
    return query_lines(args);
}

std::vector<std::string> DockerCli::container_label_values(
    const std::vector<std::string>& label_filters, const std::string& label) {
    // Completion's environments: from the engine's socket when there is one here, as images.
    if (auto values = socket_list("/containers/json?all=1&" + label_filters_query(label_filters),
                                  [&label](const std::string& body) {
                                      return container_label_values_from_api(body, label);
                                  })) {
        return *values;
    }
    std::vector<std::string> args = {"container", "ls", "--all", "--format",
                                     fmt::format("{{{{.Label \"{}\"}}}}", label)};
    auto filters = argv::filter_args(label_filters);
    args.insert(args.end(), filters.begin(), filters.end());
    return query_lines(args);
}

std::vector<std::string> DockerCli::list_image_tags() {
    // Completion asks this while the user waits at the prompt: read from the engine's socket
    // when there is one here, else (or when it does not answer) through the docker CLI.
    if (auto tags = socket_list("/images/json", image_tags_from_api)) {
        return *tags;
    }
    std::vector<std::string> tags;
    for (const auto& tag : query_lines({"image", "ls", "--format", "{{.Repository}}:{{.Tag}}"})) {
        if (tag.find("<none>") == std::string::npos) {
            tags.push_back(tag);
        }
    }
    return tags;
}

void DockerCli::import_empty_image(const std::string& tag) {
    Command options;
    options.stdin_data = std::string(1024, '\0');  // an empty tar archive
    options.on_cancel = OnCancel::finish;
    change({"image", "import", "--change", "CMD [\"/pallet-record\"]", "-", tag}, options);
}

bool DockerCli::pull_image(const std::string& ref, std::string& why) {
    Result result = execute({"image", "pull", "--quiet", ref}, Command{}, true);
    if (!result.ok()) {
        why = last_line(result.err);
    }
    return result.ok();
}

void DockerCli::exec_with_input(const std::string& container, const std::vector<std::string>& argv,
                                const std::string& input) {
    std::vector<std::string> args = {"container", "exec", "--interactive", container};
    args.insert(args.end(), argv.begin(), argv.end());
    Command options;
    options.stdin_data = input;
    options.on_cancel = OnCancel::finish;
    change(args, options);
}

bool DockerCli::exec_script(const std::string& container, const std::string& script,
                            std::string* output, const std::vector<std::string>& args) {
    Command options;
    options.stdin_data = script;
    std::vector<std::string> argv = {"container", "exec", "--interactive", container, "sh", "-s"};
    if (!args.empty()) {
        argv.push_back("--");
        argv.insert(argv.end(), args.begin(), args.end());
    }
    Result result = execute(argv, options, true);
    if (output != nullptr) {
        *output = result.out + result.err;
    }
    return result.ok();
}

bool DockerCli::exec_detached(const std::string& container, const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"container", "exec", "--detach", container};
    args.insert(args.end(), argv.begin(), argv.end());
    Command options;
    options.on_cancel = OnCancel::finish;
    return execute(args, options, true).ok();
}

bool DockerCli::exec_succeeds(const std::string& container, const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"container", "exec", container};
    args.insert(args.end(), argv.begin(), argv.end());
    return execute(args, Command{}, true).ok();  // a command in a container may change anything
}

void DockerCli::create_network(const std::string& name, const Labels& labels,
                               const std::string& subnet) {
    std::vector<std::string> args = {"network", "create"};
    if (!subnet.empty()) {
        args.insert(args.end(), {"--subnet", subnet});
    }
    argv::append_labels(args, labels);
    args.push_back(name);
    change(args);
}

void DockerCli::create_volume(const std::string& name, const Labels& labels) {
    std::vector<std::string> args = {"volume", "create"};
    argv::append_labels(args, labels);
    args.push_back(name);
    change(args);
}

Result DockerCli::run_container(const ContainerSpec& spec, const char* verb, bool detach,
                                Command options, bool is_change) {
    options.extra_env = run_env(spec);
    std::optional<util::PrivateDirectory> files;  // until the docker process has read them
    RunFiles paths;
    if (!(is_change && m_dry_run)) {
        files.emplace();
        paths.label_file = files->write("labels", label_file_text(spec));
        paths.env_file = files->write("env", env_file_text(spec));
    }
    auto args = run_args(spec, detach, paths);
    args[1] = verb;
    return execute(std::move(args), std::move(options), is_change);
}

int DockerCli::run_attached(const ContainerSpec& spec) {
    Command options;
    options.output = Output::inherit;
    options.interactive = spec.interactive;
    // On cancellation docker passes SIGTERM on to the container; one that ignores it (a shell
    // as PID 1) is killed soon after, so that Ctrl-C answers within seconds.
    options.kill_grace = std::chrono::milliseconds(3000);
    // 125: docker itself failed (bad flag, unknown image); 126/127: the command could not run.
    return run_container(spec, "run", false, options, true).exit_code;
}

int DockerCli::run_captured(const ContainerSpec& spec, std::string& output) {
    Result result = run_container(spec, "run", false, Command{}, true);
    output = result.out + result.err;
    return result.exit_code;
}

int DockerCli::run_streamed(const ContainerSpec& spec, const std::string& input, bool data_out,
                            std::string& output, const std::string& data_file) {
    ContainerSpec streamed = spec;
    streamed.interactive = !input.empty();  // docker passes its stdin on
    Command options;
    options.stdin_file = input;
    options.output = data_out ? Output::data : Output::capture;
    options.stdout_file = data_file;
    Result result = run_container(streamed, "run", false, options, true);
    output = result.out + result.err;
    return result.exit_code;
}

StartOutcome DockerCli::run_detached(const ContainerSpec& spec) {
    Command options;
    options.on_cancel =
        OnCancel::finish;  // a half-run `docker run -d` would leave a created container
    Result result = run_container(spec, "run", true, options, true);
    if (result.ok()) {
        return StartOutcome::started;
    }
    if (is_name_conflict(result)) {
        return StartOutcome::name_taken;
    }
    fail("container run", result);
}

StartOutcome DockerCli::create_container(const ContainerSpec& spec) {
    Command options;
    options.on_cancel = OnCancel::finish;
    Result result = run_container(spec, "create", false, options, true);
    if (result.ok()) {
        return StartOutcome::started;
    }
    if (is_name_conflict(result)) {
        return StartOutcome::name_taken;
    }
    fail("container create", result);
}

void DockerCli::set_restart_policy(const std::vector<std::string>& names,
                                   const std::string& policy) {
    if (names.empty()) {
        return;
    }
    std::vector<std::string> args = {"container", "update", "--restart", policy};
    args.insert(args.end(), names.begin(), names.end());
    Command options;
    options.on_cancel = OnCancel::finish;
    change(args, options);
}

void DockerCli::start_containers(const std::vector<std::string>& names) {
    if (names.empty()) {
        return;
    }
    std::vector<std::string> args = {"container", "start"};
    args.insert(args.end(), names.begin(), names.end());
    Command options;
    options.on_cancel = OnCancel::finish;
    change(args, options);
}

int DockerCli::start_attached(const std::string& name, bool interactive) {
    std::vector<std::string> args = {"container", "start", "--attach"};
    if (interactive) {
        args.push_back("--interactive");
    }
    args.push_back(name);
    Command options;
    options.output = Output::inherit;
    options.interactive = interactive;
    options.kill_grace = std::chrono::milliseconds(3000);  // as run_attached
    return execute(args, options, true).exit_code;
}

void DockerCli::copy_archive_into(const std::string& container, const std::string& destination,
                                  const std::string& archive) {
    Command options;
    options.stdin_data = archive;
    options.on_cancel = OnCancel::finish;
    change({"container", "cp", "-", container + ":" + destination}, options);
}

std::optional<std::string> DockerCli::copy_archive_from(const std::string& container,
                                                        const std::string& path) {
    Result result = execute({"container", "cp", container + ":" + path, "-"}, Command{}, false);
    if (!result.ok()) {
        if (result.err.find("No such") != std::string::npos ||
            result.err.find("not find") != std::string::npos) {
            return std::nullopt;
        }
        fail("container cp", result);
    }
    return result.out;
}

int DockerCli::wait_container(const std::string& name) {
    Result result = query({"container", "wait", name});
    try {
        return std::stoi(util::trim(result.out));
    } catch (const std::exception&) {
        throw Error(fmt::format("docker container wait {}: unexpected output", name));
    }
}

void DockerCli::stream_logs(const std::string& name, bool follow, Output output) {
    std::vector<std::string> args = {"container", "logs"};
    if (follow) {
        args.push_back("--follow");
    }
    args.push_back(name);
    Command options;
    options.output = output;
    options.kill_grace = std::chrono::milliseconds(2000);
    Result result = execute(args, options, false);
    if (!result.ok()) {
        throw_if_connection_lost();  // docker's own words went to the terminal
        throw Error(
            fmt::format("docker container logs {} failed (exit {})", name, result.exit_code));
    }
}

void DockerCli::read_logs(const std::vector<std::string>& names, bool follow,
                          const std::function<void(size_t, const std::string&)>& on_line) {
    std::mutex lines;
    std::vector<std::thread> readers;
    std::exception_ptr failure;
    for (size_t index = 0; index < names.size(); ++index) {
        readers.emplace_back([&, index] {
            std::string pending;  // a line not ended yet
            Command options;
            options.kill_grace = std::chrono::milliseconds(2000);
            options.on_output = [&](const std::string& piece) {
                pending += piece;
                for (auto end = pending.find('\n'); end != std::string::npos;
                     end = pending.find('\n')) {
                    const std::lock_guard lock(lines);
                    on_line(index, pending.substr(0, end));
                    pending.erase(0, end + 1);
                }
            };
            std::vector<std::string> args = {"container", "logs"};
            if (follow) {
                args.push_back("--follow");
            }
            args.push_back(names[index]);
            try {
                execute(args, options, false);
                if (!pending.empty()) {
                    const std::lock_guard lock(lines);
                    on_line(index, pending);
                }
            } catch (...) {
                const std::lock_guard lock(lines);
                failure = failure ? failure : std::current_exception();
            }
        });
    }
    for (auto& reader : readers) {
        reader.join();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

std::string DockerCli::logs_tail(const std::string& name, int lines) {
    Result result =
        execute({"container", "logs", "--tail", std::to_string(lines), name}, Command{}, false);
    return result.out + result.err;
}

void DockerCli::rename_container(const std::string& from, const std::string& to) {
    change({"container", "rename", from, to});
}

void DockerCli::stop_containers(const std::vector<std::string>& names) {
    if (names.empty()) {
        return;
    }
    std::vector<std::string> args = {"container", "stop"};
    args.insert(args.end(), names.begin(), names.end());
    Command options;
    options.on_cancel = OnCancel::finish;
    change(args, options);
}

void DockerCli::remove_containers(const std::vector<std::string>& names) {
    if (names.empty()) {
        return;
    }
    std::vector<std::string> args = {"container", "rm", "--force", "--volumes"};
    args.insert(args.end(), names.begin(), names.end());
    cleanup(args);
}

void DockerCli::remove_networks(const std::vector<std::string>& names) {
    if (names.empty()) {
        return;
    }
    std::vector<std::string> args = {"network", "rm"};
    args.insert(args.end(), names.begin(), names.end());
    cleanup(args);
}

void DockerCli::remove_volumes(const std::vector<std::string>& names) {
    if (names.empty()) {
        return;
    }
    std::vector<std::string> args = {"volume", "rm", "--force"};
    args.insert(args.end(), names.begin(), names.end());
    cleanup(args);
}

}  // namespace pallet::docker
