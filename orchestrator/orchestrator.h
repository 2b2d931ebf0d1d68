#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/context.h"
#include "orchestrator/phase.h"
#include "orchestrator/router_nginx.h"
#include "state/environments.h"
#include "state/history.h"

// The seam between the standard's rules (phases/: the use cases, written once) and what runs an
// environment's processes (one implementation per orchestrator: orchestrator/engine/ for the
// Docker engine addressed, orchestrator/swarm/ for the swarm it manages). A use case asks for
// what it needs here and decides; an implementation does it its own way and decides nothing the
// standard rules on (which version may deploy, when traffic moves, what the user is told).
// open.h picks the implementation from the environment's settings, in one place.
namespace pallet::orchestrator {

// The version an environment serves now.
struct Served {
    std::string version;   // the image reference as it was given
    std::string image_id;  // sha256:...
    int running = 0;       // replicas that run
    int wanted = 0;        // replicas there should be
};

// How many replicas of a process type run, and how many there should be.
struct ProcessCount {
    int running = 0;
    int wanted = 0;
};

// Everything a command reads of one environment, at once.
struct EnvironmentState {
    std::string name;
    std::optional<state::Environment> settings;  // none: there is no such environment
    std::vector<state::HistoryEntry> deploys;    // newest first; a running deploy's result is
                                                 // "running"
    std::vector<state::HistoryEntry> serves;     // serve events, newest first
    std::optional<Served> served;
    bool router_running = false;
    std::string url;  // where users reach its router ("" when it does not run)
    // Where the edge of the engine addressed reaches its router ("127.0.0.1:8080"; "" when it
    // does not run). Filled by read_all with `routers` only.
    std::string upstream;
    // Its services and their state: running, exited, not started... for provided ones,
    // "external" for URLs.
    std::map<std::string, std::string> services;
    // The processes of the version that serves, by type.
    std::map<std::string, ProcessCount> processes;
};

// Who holds an environment's deploy lock, and how far that deploy is.
struct DeployHolder {
    enum class State {
        starting,  // its process is being started (the lock's taker still works on it)
        running,
        ended,  // it ran (or never will): its end is to be recorded, which frees the lock
    };
    std::string version;
    std::string image_id;
    std::string user;
    std::string host;
    double started = 0;  // the engine's clock, seconds since the epoch
    State state = State::running;
    std::string id;  // the implementation's own handle (a container, a swarm job)
};

// How a followed deploy ended.
struct DeployEnd {
    int exit_code = 0;  // 0: it succeeded; never 0 when it did not
    std::string why;    // "exit 3", "its node was lost"; "" when it succeeded
    std::string where;  // " (on node2)": where it ran, when that tells something
};

// Who holds an environment's serve lock.
struct LockHolder {
    std::string user;
    std::string host;
    double taken = 0;  // the engine's clock
    bool live = true;  // false: its holder ended without releasing it (or the engine restarted)
    std::string id;
};

// A replica as health gating sees it.
struct ReplicaState {
    bool up = true;       // false: it exited (problem says how)
    bool ready = true;    // the orchestrator calls it ready (an image's HEALTHCHECK said healthy)
    std::string problem;  // "exited (exit 3)", "was unhealthy by its HEALTHCHECK"
};

// A one-off command in an environment (docker pallet run).
struct OneOff {
    std::vector<std::string> command;  // through the image's entrypoint
    bool interactive = false;          // the user's stdin
    bool tty = false;
};

// Where a command's output comes from (logs), and how it is shown.
struct OutputSource {
    std::string description;  // "deploy of v1 (succeeded)"
    // Shows it: docker's own output goes to the user's terminal as it is; where the lines pass
    // through this command (several containers read at once), each goes to `line`, for the
    // use case to print.
    std::function<void(bool follow, const std::function<void(const std::string&)>& line)> stream;
};

class Router;

// A short job beside the environment's data (a backup's, a restore's): a new container of the
// image one of its provided services runs (the server's own client), or of the router's image.
struct DataJob {
    std::string service;  // the provided service whose image runs it; "": the router's image
    std::string script;   // run by sh -c, with `args` as "$1"...
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;  // kept off command lines
    bool storage = false;                                  // /storage mounted, read-only...
    bool storage_writable = false;                         // ...or writable (a restore)
    // Streams, for an archive too large for memory: a file read as the job's stdin ("-": the
    // plugin's own stdin), and the job's stdout on the plugin's stdout, or in the file
    // `output_file` when one is named (then `output` holds its stderr alone).
    std::string input = "";
    bool output_to_stdout = false;
    std::string output_file = "";
};

// A process of a new version that did not stay up.
struct ProcessFailure {
    std::string type;    // worker
    std::string what;    // "exited (exit 1)"
    std::string output;  // its last lines
};

// The processes of one version, every type of it (io.pallet.processes): a set this command
// started (removed again when it goes, unless kept), or those that run now (started again when
// it goes stopped, unless removed).
class Processes {
  public:
    virtual ~Processes() = default;
    // By type: replicas that run, and that should.
    virtual std::map<std::string, ProcessCount> counts() = 0;
    // Runs a prepared set (Orchestrator::prepare_processes) without waiting for it.
    virtual void start() = 0;
    // Once each runs: waits `period` while every one stays up; the first that does not.
    virtual std::optional<ProcessFailure> settle(std::chrono::seconds period) = 0;
    // SIGTERM, the environment's process stop timeout for their work to finish, then SIGKILL;
    // returns once none of them runs. They are kept, stopped, for start_again() or remove().
    virtual void stop() = 0;
    virtual void start_again() = 0;
    // They are the version's processes from now on: started again when they exit, and with the
    // engine.
    virtual void keep() = 0;
    virtual void remove() = 0;
    // Runs `count` of `type` (0: none), starting or stopping (with the grace period) the
    // difference.
    virtual void scale(const std::string& type, int count) = 0;
};

// The serve replicas of one version: a set this command started (removed again when it goes,
// unless kept), or the set that serves now.
class Replicas {
  public:
    virtual ~Replicas() = default;
    virtual const std::string& version() const = 0;
    virtual const std::string& image_id() const = 0;
    // How many there are (running ones, for a set that serves).
    virtual int count() const = 0;
    // A name the orchestrator's DNS resolves to exactly the replicas that run, as it replaces
    // them by itself ("" when there is none).
    virtual std::string dns_name() const { return ""; }
    // Waits until each runs (at most `timeout`); what the router reaches each at (a container's
    // name, a task's address), for health requests. Throws an Error saying what runs and why
    // not.
    virtual std::vector<std::string> wait_started(std::chrono::seconds timeout) = 0;
    // How the replica at `target` is, for health gating.
    virtual ReplicaState state(const std::string& target) = 0;
    // Its last output lines, for errors.
    virtual std::string output(const std::string& target) = 0;
    // Starts more of the same version up to `total`, sending no traffic to them yet (the router
    // keeps to the ones before); returns the new ones' targets once they run. Undone when this
    // set goes without keep().
    virtual std::vector<std::string> grow(int total, Router& router,
                                          std::chrono::seconds timeout) = 0;
    // The targets that stay when the set shrinks to `count`.
    virtual std::vector<std::string> first(int count) = 0;
    // Stops all but the first `count` (after the router no longer sends them anything).
    virtual void shrink(int count) = 0;
    // They carry traffic now: kept, and started again with the engine.
    virtual void keep() = 0;
    // Stops and removes them all (SIGTERM, their grace period, then SIGKILL).
    virtual void remove() = 0;
};

// An environment's router: where users' requests arrive and are sent to the replicas.
class Router {
  public:
    virtual ~Router() = default;
    virtual bool running() = 0;
    // Starts it, sending no traffic yet; it goes again when this goes without keep(). Fails,
    // leaving nothing, when it cannot listen or its image cannot be used.
    virtual void start() = 0;
    // It carries traffic now: kept, and started again with the engine.
    virtual void keep() = 0;
    // Where users reach it: "http://127.0.0.1:8080/".
    virtual std::string url() = 0;
    // A health request to the replica at `target` as a user's arrives through the router: Host
    // SITE_DOMAIN, X-Forwarded-Proto, X-Forwarded-For.
    virtual HealthAnswer probe(const std::string& target, const std::string& path) = 0;
    // Sends every request to the replicas of `replicas` (as they come and go, where the
    // orchestrator replaces them by itself), with a graceful reload: in-flight requests finish.
    virtual void send_to(Replicas& replicas) = 0;
    // Sends every request to exactly these targets.
    virtual void send_to(const std::vector<std::string>& targets) = 0;
};

// One orchestrator's view of one environment.
class Orchestrator {
  public:
    virtual ~Orchestrator() = default;

    // The environment as read when it was opened, or by the last reread().
    virtual const EnvironmentState& state() const = 0;
    virtual void reread() = 0;
    // Its settings, stored with defaults when there are none; its network and volumes exist
    // after this.
    virtual state::Environment ensure() = 0;

    // The environment's provided services run and are ready (role, database, vhost made).
    virtual void provide_services(const state::Environment& env) = 0;
    // Removes the provided service `kind` (its data too with `volumes`).
    virtual void remove_service(const state::Environment& env, const std::string& kind,
                                bool volumes) = 0;
    // Where people see a provided service's web view (mailpit's), "" when there is none.
    virtual std::string service_web_url(const state::Environment& env, const std::string& kind) = 0;
    // What must hold before a version's processes run, whatever they are: every node has the
    // image, /storage and /static belong to the user it runs as.
    virtual void prepare_image(const state::Environment& env, const ResolvedImage& image) = 0;

    // The deploy lock is the deploy: starts the deploy of `image`, which holds the lock until
    // its end is recorded; nullopt when another holds it. Throws when it could not start (and
    // then holds nothing).
    virtual std::optional<DeployHolder> start_deploy(const state::Environment& env,
                                                     const ResolvedImage& image) = 0;
    // Who holds the deploy lock now, if anyone.
    virtual std::optional<DeployHolder> deploy_holder(const state::Environment& env) = 0;
    // Records the end of a deploy that ended (its follower is gone), freeing the lock.
    virtual void end_deploy(const state::Environment& env, const DeployHolder& holder) = 0;
    // Shows the deploy's output as it runs (when progress shows logs) and waits for its end,
    // which it records. Cancellable: the deploy goes on.
    virtual DeployEnd follow_deploy(const state::Environment& env, const DeployHolder& holder) = 0;
    // "container pallet-shop-deploy", "swarm service pallet-shop-deploy-17...": for messages.
    virtual std::string deploy_name(const DeployHolder& holder) = 0;

    // The serve lock (serve, scale, stop): taken at once, or false when someone holds it.
    // `lease`: how long it holds at most should this command die holding it.
    virtual bool take_serve_lock(const state::Environment& env, std::chrono::seconds lease) = 0;
    virtual std::optional<LockHolder> serve_lock_holder(const state::Environment& env,
                                                        std::chrono::seconds lease) = 0;
    virtual void break_serve_lock(const LockHolder& holder) = 0;
    virtual void release_serve_lock(const state::Environment& env) = 0;

    // The router. `env` may change (a port the engine chose is kept in it).
    virtual std::unique_ptr<Router> router(state::Environment& env) = 0;
    // The replicas that serve now; nullptr when none runs.
    virtual std::unique_ptr<Replicas> serving(const state::Environment& env) = 0;
    // Starts `count` serve replicas of `image`, sending no traffic to them yet.
    virtual std::unique_ptr<Replicas> start_replicas(const state::Environment& env,
                                                     const ResolvedImage& image, int count) = 0;
    // The processes of the version that serves (an empty set when it has none).
    virtual std::unique_ptr<Processes> processes(const state::Environment& env) = 0;
    // Makes the processes of `image`, `counts` of each type, none running yet: all that takes
    // time (containers, services) is done while the new web replicas come up, so that the
    // gap between the old processes' stop and the new ones' start is one Processes::start().
    virtual std::unique_ptr<Processes> prepare_processes(
        const state::Environment& env, const ResolvedImage& image,
        const std::map<std::string, int>& counts) = 0;
    // Stops every serve replica, process (with its grace period) and the router.
    virtual void stop(const state::Environment& env) = 0;
    // Keeps a serve event in the environment's history.
    virtual void record_serve(const state::Environment& env, const state::HistoryEntry& entry,
                              const std::string& detail) = 0;

    // Runs a one-off command of `image` with everything a serve replica gets, its output live,
    // and removes it; its exit status.
    virtual int run(const state::Environment& env, const ResolvedImage& image,
                    const OneOff& command) = 0;

    // The output of the running or last deploy (phase deploy), or of serving (serve), or of the
    // processes of `process` (phase process), each line after its replica's name; nullopt when
    // there is none.
    virtual std::optional<OutputSource> output(const state::Environment& env,
                                               const std::string& phase,
                                               const std::string& process = "") = 0;

    // Runs `job` on the environment's network with its backups at /backups (made when missing,
    // for root alone) and removes its container, also when cancelled; its exit status, and its
    // output (both streams) in `output`.
    virtual int run_data_job(const state::Environment& env, const DataJob& job,
                             std::string& output) = 0;
    // Where the environment's backups are: for messages.
    virtual std::string backups_place(const state::Environment& env) = 0;

    // Where /storage and /static of the environment are: for messages.
    virtual std::string storage_place(const state::Environment& env) = 0;
    // Removes everything of the environment (/storage and /static too with `volumes`); what
    // the user should know beyond that ("" when nothing).
    virtual std::string remove(const state::Environment& env, bool volumes) = 0;
};

}  // namespace pallet::orchestrator
