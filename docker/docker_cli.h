#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "docker/image_user.h"
#include "docker/records.h"
#include "docker/runner.h"
#include "docker/swarm_records.h"
#include "util/redactor.h"

namespace pallet::docker {

// A volume (or a directory of the host) mounted into a container or a swarm service's tasks.
struct Mount {
    Mount() = default;
    Mount(std::string volume_, std::string target_, bool read_only_ = false)
        : volume(std::move(volume_)), target(std::move(target_)), read_only(read_only_) {}
    // `path` of the host (on a swarm: of every node) at `target`.
    static Mount bind_of(std::string path, std::string target, bool read_only = false) {
        Mount mount(std::move(path), std::move(target), read_only);
        mount.bind = true;
        return mount;
    }
    // A tmpfs at `target` that belongs to `owner` (mode 0755, executable files allowed, as a
    // volume handed to the image's user): for a throwaway run's directories, ready for an
    // image's non-root user without a step that hands them to it. Numbers only: a user's name
    // would need the image's /etc/passwd. (A mode alone is not enough: when the image has the
    // directory, runc gives the tmpfs that directory's mode, and root stays its owner.)
    static Mount scratch(std::string target, Ids owner) {
        Mount mount("", std::move(target));
        mount.tmpfs = true;
        mount.owner = owner;
        return mount;
    }

    std::string volume;  // empty: an anonymous volume, removed with the container
    std::string target;
    bool read_only = false;
    bool bind = false;   // `volume` is a path of the host (on a swarm: the same on every node)
    bool tmpfs = false;  // Mount::scratch
    Ids owner;           // of a tmpfs
    std::string driver;  // a volume's driver ("": local), with its options: made on first use
    std::map<std::string, std::string> options;  // (no secrets: they are on argv)
};

// Everything the plugin ever asks of `docker run`.
struct ContainerSpec {
    std::string name;
    std::string image;
    std::string entrypoint;  // instead of the image's, when set
    std::vector<std::string> command;
    std::vector<std::pair<std::string, std::string>> env;  // in order
    Labels labels;
    std::string network;
    std::vector<std::string> network_aliases;
    std::vector<Mount> mounts;
    std::optional<std::string> publish;  // e.g. "127.0.0.1:8080:8000"
    std::optional<int> stop_timeout;     // seconds between SIGTERM and SIGKILL
    std::string restart;                 // e.g. "always"; empty for none
    bool never_pull = false;             // --pull never: a missing image fails as no_such_image
    bool remove_on_exit = false;         // --rm
    bool interactive = false;            // --interactive: the user's stdin reaches it
    bool tty = false;                    // --tty
};

// How `docker` is reached: the program and the user's global flags, passed on verbatim.
struct DockerTarget {
    std::string program = "docker";
    std::vector<std::string> global_args;
};

// Another way to the same engine for this command's docker processes (an SSH tunnel's local
// socket): these flags instead of the global ones, this environment added. Commands shown to
// the user keep the user's own flags.
struct Connection {
    std::vector<std::string> args;           // e.g. --config DIR -H unix:///.../docker.sock
    std::map<std::string, std::string> env;  // e.g. DOCKER_HOST= DOCKER_CONTEXT=
    std::string description;                 // "the SSH connection to ops@db", for -D
    // Why the connection is gone, when it is: errors say that rather than docker's words.
    std::function<std::optional<std::string>()> lost;
};

// A swarm service the plugin creates.
struct ServiceSpec {
    std::string name;
    std::string image;
    std::string entrypoint;  // instead of the image's, when set
    std::vector<std::string> command;
    std::vector<std::pair<std::string, std::string>> env;  // values kept off argv, as for run
    Labels labels;            // the service's (no secrets: they are on argv)
    Labels container_labels;  // its tasks' containers'
    std::string network;
    std::vector<Mount> mounts;  // volumes each node makes on first use, or paths every node has
    std::string mode =
        "replicated";  // replicated, global (replicated-job, global-job: unused, see swarm.cpp)
    int replicas = 1;
    std::string endpoint_mode;              // dnsrr: no virtual IP, no IPVS
    std::vector<std::string> publish;       // mode=host,target=80,published=8080
    std::vector<std::string> constraints;   // node.role==manager
    std::string restart_condition = "any";  // none, on-failure, any
    int stop_grace_seconds = 10;
    // A check docker runs in each task's container (sh -c; no secret: it is on argv): the task
    // is "running" only once it passed, and is replaced when it fails `health_retries` times in
    // a row after `health_start_seconds`. Empty: none (the image's own, if any).
    std::string health_command;
    int health_interval_seconds = 2;
    int health_retries = 3;
    int health_start_seconds = 0;
};

// The files `docker run` reads labels and some variables from (--label-file, --env-file), so
// that no value is on a command line.
struct RunFiles {
    std::string label_file = "LABEL_FILE";
    std::string env_file = "ENV_FILE";
};

// Outcome of starting a uniquely named container.
enum class StartOutcome { started, name_taken };

// The docker adapter: every docker command the plugin runs is built here and run through the
// Runner. Queries always run; changes are printed instead under --dry-run. Never prints data.
class DockerCli {
  public:
    DockerCli(Runner& runner, DockerTarget target, bool dry_run = false);

    // Logs every docker command with its duration to stderr (docker's -D / -l debug).
    void set_debug(bool debug) { m_debug = debug; }
    // Reaches the engine through `connection` from now on.
    void connect_through(Connection connection) { m_connection = std::move(connection); }
    // A local unix socket that reaches the same engine (its own, or an SSH tunnel's), for the
    // few reads that must not wait for a docker process to start (completion).
    void set_engine_socket(std::string socket) { m_engine_socket = std::move(socket); }
    bool debug() const { return m_debug; }
    // The docker host of a context (docker context inspect; local files only).
    std::string context_host(const std::string& context);
    // Under dry-run, the line printed for each change ("would run: docker ...") goes here
    // (default: stdout).
    // What the adapter has to say goes to this logger (it never prints): each change under
    // --dry-run ("would run: ..."), each command under -D, cleanups that failed. None by default.
    enum class Log { dry_run, debug, warning };
    void set_logger(std::function<void(Log, const std::string&)> logger) {
        m_logger = std::move(logger);
    }
    bool dry_run() const { return m_dry_run; }
    // The secret values this command has learnt; every line this adapter prints (debug,
    // dry-run, warnings) and the plugin's own output pass through it.
    util::Redactor& redactor() { return m_redactor; }
    // "docker [the user's global flags] REST": a command to show the user, which reaches the
    // engine this command reached.
    std::string command_line(const std::string& rest) const;

    // The engine's clock now, in seconds since the epoch: read once per command (docker system
    // info), then followed with the local clock's steady time. Lock ages and staleness are
    // measured against it, never against the local wall clock, which may differ from a remote
    // engine's.
    double engine_now();

    std::optional<ImageRecord> inspect_image(const std::string& ref);
    // Containers with all these labels (key or key=value), running or not; one ps, one inspect.
    std::vector<ContainerRecord> list_containers(const std::vector<std::string>& label_filters);
    // The same containers as docker's listing describes them, in one call and one request to the
    // engine (an inspect asks once per container): no environment variables, no start and end
    // times (`summary` is set), the creation time to the second, and of the labels only
    // `label_keys`. For reading many environments at once (status, env ls, the edge).
    std::vector<ContainerRecord> list_container_summaries(
        const std::vector<std::string>& label_filters, const std::vector<std::string>& label_keys);
    std::optional<ContainerRecord> inspect_container(const std::string& name);
    // The containers of `ids` in full, in one docker call (docker asks once for each); those
    // that are gone are left out.
    std::vector<ContainerRecord> inspect_containers(const std::vector<std::string>& ids);
    std::vector<VolumeRecord> list_volumes(const std::vector<std::string>& label_filters);
    std::vector<std::string> list_networks(const std::vector<std::string>& label_filters);
    // The IPv4 subnets of every network of the engine ("172.17.0.0/16"); one ls, one inspect.
    std::vector<std::string> network_subnets();
    // Each matching container's value of `label`, one docker call, no inspect (completion).
    std::vector<std::string> container_label_values(const std::vector<std::string>& label_filters,
                                                    const std::string& label);
    // REPOSITORY:TAG of every local image that has both.
    std::vector<std::string> list_image_tags();

    // Imports an empty image under `tag` (for label-only record containers).
    void import_empty_image(const std::string& tag);
    // Pulls an image; false (with docker's words in `why`) when it cannot be pulled. A change:
    // under --dry-run it is printed and not done.
    bool pull_image(const std::string& ref, std::string& why);
    // Runs `argv` in a running container, feeding it `input`; throws with docker's words.
    void exec_with_input(const std::string& container, const std::vector<std::string>& argv,
                         const std::string& input);
    // Runs a shell script (fed on stdin to `sh -s`, so nothing shows on a command line) in a
    // running container with `args` as its $1...; true when it exits 0. Its stdout and stderr go
    // to `output` when given.
    bool exec_script(const std::string& container, const std::string& script,
                     std::string* output = nullptr, const std::vector<std::string>& args = {});
    // Starts `argv` in a running container and returns at once (docker exec --detach); never
    // cancellable (cleanup). False when docker could not start it.
    bool exec_detached(const std::string& container, const std::vector<std::string>& argv);
    // Runs `argv` in a running container; true when it exits 0. Printed under --dry-run.
    bool exec_succeeds(const std::string& container, const std::vector<std::string>& argv);
    // A bridge network, on `subnet` when one is given (else docker's address pools give one).
    void create_network(const std::string& name, const Labels& labels,
                        const std::string& subnet = "");
    void create_volume(const std::string& name, const Labels& labels);
    // Runs in the foreground with live output; returns the container's exit status.
    int run_attached(const ContainerSpec& spec);
    // Runs in the foreground with output captured into `output` (stdout and stderr); returns the
    // exit status (0 under --dry-run, which prints it instead).
    int run_captured(const ContainerSpec& spec, std::string& output);
    // Runs in the foreground with the file `input` as its stdin ("": none, "-": the plugin's
    // own), read as it goes, and with its stdout on the plugin's stdout when `data_out` (an
    // archive), or in the file `data_file` when one is named; what else it prints goes to
    // `output`. Returns its exit status.
    int run_streamed(const ContainerSpec& spec, const std::string& input, bool data_out,
                     std::string& output, const std::string& data_file = "");
    // Starts in the background. name_taken when another container already has spec.name.
    StartOutcome run_detached(const ContainerSpec& spec);
    // Creates without starting (a record that only carries labels, or a container to prepare
    // before it starts). name_taken as above.
    StartOutcome create_container(const ContainerSpec& spec);
    // Sets the restart policy of existing containers (docker container update --restart).
    void set_restart_policy(const std::vector<std::string>& names, const std::string& policy);
    // Starts created containers in the background.
    void start_containers(const std::vector<std::string>& names);
    // Starts a created container in the foreground with live output (and the user's stdin and
    // terminal when it was created interactive); returns its exit status.
    int start_attached(const std::string& name, bool interactive);
    // Extracts a tar archive into a container, created or running, at `destination`
    // (docker cp -): ownership and modes as the archive says.
    void copy_archive_into(const std::string& container, const std::string& destination,
                           const std::string& archive);
    // The tar archive of `path` in a container (docker cp CONTAINER:PATH -); nullopt when the
    // path is not there. A query.
    std::optional<std::string> copy_archive_from(const std::string& container,
                                                 const std::string& path);
    // Blocks until the container exits; returns its exit code. Cancellable.
    int wait_container(const std::string& name);
    // Streams the container's output to the user's terminal (stdout, or stderr when it is
    // progress rather than the command's data).
    void stream_logs(const std::string& name, bool follow, Output output = Output::inherit);
    // The output of several containers at once (docker logs [--follow] of each), line by line to
    // `on_line` with the index of its container, until each ends (with --follow: until
    // cancelled). Cancellable.
    void read_logs(const std::vector<std::string>& names, bool follow,
                   const std::function<void(size_t, const std::string&)>& on_line);
    // The last `lines` lines of a container's output (stdout and stderr), for error messages.
    std::string logs_tail(const std::string& name, int lines);
    void rename_container(const std::string& from, const std::string& to);
    // SIGTERM, then SIGKILL after the container's own stop timeout.
    void stop_containers(const std::vector<std::string>& names);

    // Removal, used for cleanup: never cancellable, never throws; reports failures on stderr.
    void remove_containers(const std::vector<std::string>& names);
    void remove_networks(const std::vector<std::string>& names);
    void remove_volumes(const std::vector<std::string>& names);

    // docker system info --format FORMAT, trimmed.
    std::string info(const std::string& format);
    // Swarm. The engine's place in a swarm: "manager", "worker" or "" (not in one).
    std::string swarm_role();
    std::vector<NodeRecord> list_nodes();
    // Services with all these labels; one ls, one inspect.
    std::vector<ServiceRecord> list_services(const std::vector<std::string>& label_filters);
    // "running/wanted" of each service with all these labels, by name; one ls.
    std::map<std::string, std::string> service_replicas(
        const std::vector<std::string>& label_filters);
    // The tasks of a service, old ones included; one ps, one inspect.
    std::vector<TaskRecord> service_tasks(const std::string& service);
    // name_taken when a swarm object has that name already (a lock).
    StartOutcome create_service(const ServiceSpec& spec);
    void scale_service(const std::string& name, int replicas);
    // One `docker service scale` for several services (service name: replicas).
    void scale_services(const std::map<std::string, int>& replicas);
    // Cleanup: never throws.
    void remove_services(const std::vector<std::string>& names);
    // Streams a service's output to stderr in the background until the returned process goes.
    std::unique_ptr<BackgroundProcess> follow_service_logs(const std::string& service);
    // Streams a service's output to the user's terminal (docker service logs --raw [--follow];
    // each line after its task's name and node without `raw`).
    void stream_service_logs(const std::string& service, bool follow, bool raw = true);
    // The output of a service's tasks so far (docker service logs --raw).
    std::string service_logs(const std::string& service);
    // Configs with all these labels; their data (base64 in docker's JSON) in labels["data"].
    std::vector<ContainerRecord> list_configs(const std::vector<std::string>& label_filters);
    // Names of the swarm configs with these labels, one docker call; none on an engine that is
    // no swarm manager (completion).
    std::vector<std::string> config_names(const std::vector<std::string>& label_filters);
    // A config holding `data` (fed on stdin: it may hold secrets; "{}" when empty, as a config
    // cannot be) and `labels` (on argv: none may). name_taken when a config has that name.
    StartOutcome create_config(const std::string& name, const Labels& labels,
                               const std::string& data);
    void remove_configs(const std::vector<std::string>& names);
    void create_overlay_network(const std::string& name, const Labels& labels);

    // The argv (after the program and global flags) that run_* would use; for tests. Labels
    // and the variables docker reads itself come from `files`; other variables' values from
    // the docker process's environment (run_env): no value is on argv.
    static std::vector<std::string> run_args(const ContainerSpec& spec, bool detach,
                                             const RunFiles& files = {});
    static std::map<std::string, std::string> run_env(const ContainerSpec& spec);
    // The contents of `files` for `spec`.
    static std::string label_file_text(const ContainerSpec& spec);
    static std::string env_file_text(const ContainerSpec& spec);
    // The argv of `docker service create` for `spec`, the env file at `env_file`; for tests.
    static std::vector<std::string> service_args(const ServiceSpec& spec,
                                                 const std::string& env_file);

  private:
    Result execute(std::vector<std::string> args, Command options, bool is_change);
    // docker container VERB (run or create) of `spec`, its files in a private directory.
    Result run_container(const ContainerSpec& spec, const char* verb, bool detach, Command options,
                         bool is_change);
    Result query(std::vector<std::string> args);
    // The query's output lines, trimmed, empty ones left out.
    std::vector<std::string> query_lines(std::vector<std::string> args);
    // Runs `inspect` (docker ... inspect) on every ID listed one a line in `ids` and returns its
    // JSON; nullopt when none is listed. One removed between the listing and the inspect fails
    // for it alone: the others are kept, and only an inspect that printed nothing fails.
    std::optional<std::string> inspect_listed(std::vector<std::string> inspect,
                                              const std::string& ids);
    void change(std::vector<std::string> args, Command options = {});
    void cleanup(std::vector<std::string> args);
    [[noreturn]] void fail(const std::string& summary, const Result& result) const;
    // Throws the connection's own account when the way to the engine is gone.
    void throw_if_connection_lost() const;
    std::string display(const std::vector<std::string>& args, const Command& command) const;

    Runner& m_runner;
    DockerTarget m_target;
    bool m_dry_run;
    bool m_debug = false;
    std::function<void(Log, const std::string&)> m_logger = [](Log, const std::string&) {};
    util::Redactor m_redactor;
    std::optional<Connection> m_connection;
    std::string m_engine_socket;
    // -D: what was read from m_engine_socket rather than asked of a docker process.
    void log_socket_read(const std::string& what) const;
    // A list completion reads from the engine's socket (when there is one here): what `parse`
    // makes of a 200 answer to GET `path`, or an empty list for an answer of status `none` (when
    // not 0); nullopt, and docker is to be asked, for no answer, another status or not a list.
    std::optional<std::vector<std::string>> socket_list(
        const std::string& path,
        const std::function<std::vector<std::string>(const std::string&)>& parse, int none = 0);
    // The engine's time when m_engine_read was taken, once read (by the first thread to ask).
    std::mutex m_engine_time_mutex;
    std::optional<double> m_engine_time;
    std::chrono::steady_clock::time_point m_engine_read;
};

}  // namespace pallet::docker
