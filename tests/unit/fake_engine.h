#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "docker/runner.h"
#include "fake_swarm.h"

namespace pallet::testing {

// A Runner that behaves like the docker CLI in front of an engine, for the containers the use
// cases keep their state in (the ninja way: the use case runs against a fake that answers by
// rules, and the test asserts on the state it leaves and on the commands it ran). It knows
// `container run|create|ls|inspect|rm|rename|start|stop|wait|logs|update`, `image
// inspect|import`, `system info`; `config`/`service`/`node` answer as an engine that is no swarm
// manager, or with `make_manager()` as the manager of FakeSwarm's three nodes; anything else
// succeeds with no output. The engine's clock stands still at 2026-11-25T12:00:00Z.
class FakeEngine : public docker::Runner {
  public:
    struct Container {
        std::string id;
        std::string name;
        std::string image;
        std::string image_id;
        std::map<std::string, std::string> labels;
        std::string status = "created";  // created, running, exited
        int exit_code = 0;
        std::string host_ip;  // --publish IP:[PORT]:CONTAINER_PORT
        std::string host_port;
        std::string container_port;
        int created = 0;  // order of creation: 10 ms apart, in the minute before the clock
        std::vector<std::string> command;
        bool running() const { return status == "running"; }
    };

    std::map<std::string, Container> containers;  // by name
    // Networks by name: their subnets (network create, ls --quiet, inspect); docker's own three.
    std::map<std::string, std::string> networks = {
        {"bridge", "172.17.0.0/16"}, {"host", ""}, {"none", ""}};
    // What /proc/net/route of the engine's host says (a container on the host's network reads
    // it): a default route and the host's own network.
    std::string host_routes =
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
    FakeSwarm swarm;
    bool swarm_manager = false;

    // The engine is the manager of a swarm from now on; tasks on its node are its containers.
    void make_manager() {
        swarm_manager = true;
        swarm.start_container = [this](const FakeSwarm::Task& task,
                                       const FakeSwarm::Service& service) {
            auto labels = service.container_labels;
            labels["com.docker.swarm.service.name"] = service.name;
            Container& container =
                add(fmt::format("{}.{}.{}", service.name, task.slot, task.id), labels, "running");
            container.image = service.image;
            return container.name;
        };
        swarm.end_container = [this](const std::string& name) {
            if (Container* container = find(name)) {
                container->status = "exited";
            }
        };
        swarm.remove_container = [this](const std::string& name) { containers.erase(name); };
    }
    std::map<std::string, std::string> images;                               // reference -> ID
    std::map<std::string, std::map<std::string, std::string>> image_labels;  // by ID
    // Called when a container starts (run, start): a test makes it exit there.
    std::function<void(Container&)> started;
    // Every port given to --publish is taken (a program of the host has it), but those the
    // engine picked itself.
    bool refuse_chosen_ports = false;
    std::vector<std::vector<std::string>> commands;  // every docker argv, without "docker"
    std::vector<std::string> inputs;                 // what each was fed on stdin
    std::vector<std::string> input_files;            // the file each read as stdin ("-": ours)
    std::vector<docker::Output> outputs;             // where each one's output went
    // What a container run attached prints (its args given); a test answers a data job there.
    std::function<std::string(const std::vector<std::string>&)> printed;
    // What a container started attached (or waited for while it runs) exits with.
    int exit_code = 0;
    // Called before each command; a test changes the engine there (a deploy that ends).
    std::function<void(const std::vector<std::string>&)> before;
    int health_requests = 0;
    // What a health request through the router to a serve container (by name) gets.
    std::function<std::string(const std::string&)> health = [](const std::string&) {
        return std::string("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n");
    };

    docker::Result run(const docker::Command& command) override {
        // A use case may ask two things at once (status: the containers and the swarm's
        // configs); the engine answers one at a time.
        const std::lock_guard lock(m_mutex);
        std::vector<std::string> args(command.argv.begin() + 1, command.argv.end());
        commands.push_back(args);
        inputs.push_back(command.stdin_data.value_or(""));
        input_files.push_back(command.stdin_file);
        outputs.push_back(command.output);
        if (before) {
            before(args);
        }
        if (args.size() > 3 && args[0] == "container" && args[1] == "exec") {
            // A health request: the probe script on stdin, the target after `--`.
            const auto dashes = std::find(args.begin(), args.end(), "--");
            if (command.stdin_data && command.stdin_data->find("request()") != std::string::npos &&
                dashes != args.end() && dashes + 1 != args.end()) {
                ++health_requests;
                return ok(health(*(dashes + 1)));
            }
            // The swarm's DNS, asked from a router's task: the service's running tasks.
            if (command.stdin_data && command.stdin_data->find("getent") != std::string::npos &&
                dashes != args.end() && dashes + 1 != args.end()) {
                std::string out;
                for (const auto* task : swarm.running(*(dashes + 1))) {
                    out += task->address + "\n";
                }
                return ok(out);
            }
            return ok();
        }
        if (swarm_manager) {
            if (auto result = swarm.answer(args, command)) {
                return *result;
            }
        }
        return answer(args);
    }
    std::unique_ptr<docker::BackgroundProcess> start(const docker::Command& command,
                                                     const std::string&) override {
        commands.emplace_back(command.argv.begin() + 1, command.argv.end());
        inputs.emplace_back();
        input_files.emplace_back();
        outputs.push_back(command.output);
        if (before) {
            before(commands.back());
        }
        struct Ended : docker::BackgroundProcess {
            bool running() override { return false; }
        };
        return std::make_unique<Ended>();
    }

    // The commands that ran whose argv starts with these words.
    int count(const std::vector<std::string>& prefix) const {
        int n = 0;
        for (const auto& args : commands) {
            n += args.size() >= prefix.size() &&
                 std::equal(prefix.begin(), prefix.end(), args.begin());
        }
        return n;
    }
    Container& add(const std::string& name, std::map<std::string, std::string> labels,
                   const std::string& status) {
        Container& container = containers[name];
        container.id = fmt::format("{:064x}", ++m_next_id);
        container.created = ++m_clock;
        container.name = name;
        container.labels = std::move(labels);
        container.status = status;
        return container;
    }
    Container* find(const std::string& name_or_id) {
        for (auto& [name, container] : containers) {
            if (name == name_or_id || container.id == name_or_id) {
                return &container;
            }
        }
        return nullptr;
    }

  private:
    static docker::Result ok(std::string out = "") {
        docker::Result result;
        result.out = std::move(out);
        return result;
    }
    static docker::Result failed(int code, std::string err) {
        docker::Result result;
        result.exit_code = code;
        result.err = std::move(err);
        return result;
    }

    bool matches(const Container& container, const std::vector<std::string>& args) const {
        for (std::size_t i = 0; i + 1 < args.size(); ++i) {
            if (args[i] != "--filter" || args[i + 1].rfind("label=", 0) != 0) {
                continue;
            }
            const std::string filter = args[i + 1].substr(6);
            const auto equals = filter.find('=');
            const auto it = container.labels.find(filter.substr(0, equals));
            if (it == container.labels.end() ||
                (equals != std::string::npos && it->second != filter.substr(equals + 1))) {
                return false;
            }
        }
        return true;
    }

    static nlohmann::json inspect(const Container& c) {
        nlohmann::json ports = nlohmann::json::object();
        if (!c.container_port.empty()) {
            ports[c.container_port + "/tcp"] = {{{"HostIp", c.host_ip}, {"HostPort", c.host_port}}};
        }
        return {{"Id", c.id},
                {"Name", "/" + c.name},
                {"NetworkSettings", {{"Ports", ports}}},
                {"Image", c.image_id},
                {"Created", fmt::format("2026-11-25T11:59:{:02d}.{:03d}000000Z",
                                        c.created * 10 / 1000 % 60, c.created * 10 % 1000)},
                {"Config",
                 {{"Image", c.image}, {"Labels", c.labels}, {"Env", nlohmann::json::array()}}},
                {"State",
                 {{"Status", c.status},
                  {"Running", c.running()},
                  {"ExitCode", c.exit_code},
                  {"StartedAt", "2026-11-25T12:00:00.000000000Z"},
                  {"FinishedAt", "2026-11-25T12:00:00.000000000Z"}}}};
    }

    static bool is_summary_listing(const std::vector<std::string>& args) {
        const auto format = std::find(args.begin(), args.end(), "--format");
        return format != args.end() && format + 1 != args.end() &&
               (format + 1)->rfind("{\"ID\":", 0) == 0;
    }

    // `container ls --format` of docker::summary_template: newest first, as docker lists them.
    std::string summaries(const std::vector<std::string>& args) const {
        std::vector<const Container*> listed;
        for (const auto& [name, container] : containers) {
            if (matches(container, args)) {
                listed.push_back(&container);
            }
        }
        std::stable_sort(listed.begin(), listed.end(),
                         [](const auto* a, const auto* b) { return a->created > b->created; });
        std::string out;
        for (const Container* c : listed) {
            const std::string status = c->running() ? "Up 5 seconds"
                                       : c->status == "exited"
                                           ? fmt::format("Exited ({}) 5 seconds ago", c->exit_code)
                                           : "Created";
            nlohmann::json line = {
                {"ID", c->id},
                {"Names", c->name},
                {"Image", c->image},
                {"State", c->status},
                {"Status", status},
                {"Ports", c->container_port.empty() ? std::string()
                                                    : fmt::format("{}:{}->{}/tcp", c->host_ip,
                                                                  c->host_port, c->container_port)},
                {"CreatedAt",
                 fmt::format("2026-11-25 11:59:{:02d} +0000 UTC", c->created * 10 / 1000 % 60)},
                {"Labels", c->labels}};
            out += line.dump() + "\n";
        }
        return out;
    }

    docker::Result container_run(const std::vector<std::string>& args) {
        static const std::set<std::string> k_valued = {
            "--name",    "--label-file",   "--network", "--network-alias", "--mount",
            "--publish", "--stop-timeout", "--restart", "--env",           "--env-file",
            "--user",    "--entrypoint",   "--pull"};
        std::map<std::string, std::string> options;
        bool detach = false;
        bool remove = false;
        std::size_t i = 2;
        for (; i < args.size() && args[i].rfind("--", 0) == 0; ++i) {
            if (k_valued.count(args[i]) > 0) {
                options[args[i]] = args[i + 1];
                ++i;
            } else {
                detach = detach || args[i] == "--detach";
                remove = remove || args[i] == "--rm";
            }
        }
        const std::string name =
            options.count("--name") > 0 ? options["--name"] : fmt::format("auto-{}", m_next_id + 1);
        if (containers.count(name) > 0) {
            return failed(
                125, fmt::format("docker: Error response from daemon: Conflict. The container name "
                                 "\"/{}\" is already in use by container \"{}\".",
                                 name, containers[name].id));
        }
        if (options.count("--pull") > 0 && options["--pull"] == "never" && i < args.size() &&
            images.count(args[i]) == 0) {
            return failed(125, "docker: Error response from daemon: No such image: " + args[i]);
        }
        std::map<std::string, std::string> labels;
        if (options.count("--label-file") > 0) {
            std::ifstream in(options["--label-file"]);
            for (std::string line; std::getline(in, line);) {
                const auto equals = line.find('=');
                if (equals != std::string::npos) {
                    labels[line.substr(0, equals)] = line.substr(equals + 1);
                }
            }
        }
        Container& container = add(name, labels, args[1] == "create" ? "created" : "running");
        if (options.count("--publish") > 0) {
            const std::string publish = options["--publish"];
            const auto first = publish.find(':');
            const auto last = publish.rfind(':');
            container.host_ip = publish.substr(0, first);
            container.host_port = publish.substr(first + 1, last - first - 1);
            container.container_port = publish.substr(last + 1);
            const bool taken =
                !container.host_port.empty() &&
                ((refuse_chosen_ports && m_picked_ports.count(container.host_port) == 0) ||
                 std::any_of(containers.begin(), containers.end(), [&](const auto& other) {
                     return other.first != name && other.second.host_port == container.host_port;
                 }));
            if (taken) {  // docker run -d: the container is made, its start fails
                container.status = "created";
                return failed(125, fmt::format("docker: Error response from daemon: driver failed "
                                               "programming external connectivity on endpoint {}: "
                                               "Bind for {}:{} failed: port is already allocated.",
                                               name, container.host_ip, container.host_port));
            }
            if (container.host_port.empty()) {
                container.host_port = std::to_string(32768 + m_next_id);
                m_picked_ports.insert(container.host_port);
            }
        }
        container.image = i < args.size() ? args[i] : "";
        container.image_id = images.count(container.image) > 0          ? images[container.image]
                             : container.image.rfind("sha256:", 0) == 0 ? container.image  // by ID
                                                                        : "sha256:unknown";
        for (size_t c = i + 1; c < args.size(); ++c) {
            container.command.push_back(args[c]);
        }
        if (container.command == std::vector<std::string>{"/proc/net/route"}) {
            containers.erase(name);  // the host's routes, read before a network is made
            return ok(host_routes);
        }
        if (args[1] == "run" && started) {
            started(container);
        }
        if (args[1] == "run" && !detach) {
            container.status = "exited";
            container.exit_code = exit_code;
            const int code = exit_code;
            if (remove) {
                containers.erase(name);
            }
            docker::Result result;
            result.exit_code = code;
            if (printed) {
                result.out = printed(args);
            }
            return result;
        }
        return ok(container.id + "\n");
    }

    docker::Result answer(const std::vector<std::string>& args) {
        const std::string group = args.empty() ? "" : args[0];
        const std::string verb = args.size() > 1 ? args[1] : "";
        if (group == "system" && verb == "info") {
            return ok("\"2026-11-25T12:00:00.000000000Z\"\n");
        }
        if (group == "config" || group == "service" || group == "node") {
            return failed(1, "Error response from daemon: This node is not a swarm manager.");
        }
        if (group == "image" && verb == "inspect") {
            auto it = images.find(args.back());
            for (auto by_id = images.begin(); it == images.end() && by_id != images.end();
                 ++by_id) {
                if (by_id->second == args.back()) {
                    it = by_id;  // by its ID
                }
            }
            if (it == images.end()) {
                return failed(1, "Error: No such image: " + args.back());
            }
            nlohmann::json labels = nlohmann::json::object();
            for (const auto& [key, value] : image_labels[it->second]) {
                labels[key] = value;
            }
            nlohmann::json image = {{"Id", it->second},
                                    {"RepoDigests", nlohmann::json::array()},
                                    {"Config", {{"Labels", labels}, {"User", ""}}}};
            return ok(nlohmann::json::array({image}).dump());
        }
        if (group == "network" && verb == "create") {
            const auto subnet = std::find(args.begin(), args.end(), "--subnet");
            networks[args.back()] = subnet == args.end() ? "172.18.0.0/16" : *(subnet + 1);
            return ok();
        }
        if (group == "network" && verb == "ls" &&
            std::find(args.begin(), args.end(), "--quiet") != args.end()) {
            std::string out;
            for (const auto& [name, subnet] : networks) {
                out += name + "\n";
            }
            return ok(out);
        }
        if (group == "network" && verb == "inspect") {
            std::string out;
            for (const auto& [name, subnet] : networks) {
                if (std::find(args.begin(), args.end(), name) != args.end()) {
                    out += subnet + "\n";
                }
            }
            return ok(out);
        }
        if (group == "image" && verb == "import") {
            images[args.back()] = fmt::format("sha256:{:064x}", ++m_next_id);
            return ok();
        }
        if (group != "container") {
            return ok();
        }
        if (verb == "run" || verb == "create") {
            return container_run(args);
        }
        if (verb == "ls" && is_summary_listing(args)) {
            return ok(summaries(args));
        }
        if (verb == "ls") {
            std::string out;
            for (const auto& [name, container] : containers) {
                if (matches(container, args)) {
                    out += container.id + "\n";
                }
            }
            return ok(out);
        }
        if (verb == "inspect") {
            nlohmann::json found = nlohmann::json::array();
            std::string missing;
            for (std::size_t i = 2; i < args.size(); ++i) {
                if (const Container* container = find(args[i])) {
                    found.push_back(inspect(*container));
                } else {
                    missing = args[i];
                }
            }
            docker::Result result = ok(found.dump());
            if (!missing.empty()) {
                result.exit_code = 1;
                result.err = "Error: No such container: " + missing;
            }
            return result;
        }
        if (verb == "rm") {
            for (std::size_t i = 2; i < args.size(); ++i) {
                if (const Container* container = find(args[i])) {
                    containers.erase(container->name);
                }
            }
            return ok();
        }
        if (verb == "rename" && args.size() == 4) {
            Container* container = find(args[2]);
            if (container == nullptr || containers.count(args[3]) > 0) {
                return failed(1, "Error response from daemon: rename failed");
            }
            Container moved = *container;
            containers.erase(container->name);
            moved.name = args[3];
            containers[args[3]] = moved;
            return ok();
        }
        if (verb == "wait") {
            Container* container = find(args.back());
            if (container == nullptr) {
                return failed(1, "Error: No such container: " + args.back());
            }
            if (container->running()) {
                container->status = "exited";
                container->exit_code = exit_code;
            }
            return ok(fmt::format("{}\n", container->exit_code));
        }
        if (verb == "start") {
            for (std::size_t i = 2; i < args.size(); ++i) {
                if (Container* container = find(args[i])) {
                    container->status = "running";
                    if (started) {
                        started(*container);
                    }
                }
            }
            return ok();
        }
        if (verb == "stop") {
            for (std::size_t i = 2; i < args.size(); ++i) {
                if (Container* container = find(args[i])) {
                    container->status = "exited";
                }
            }
            return ok();
        }
        return ok();  // logs, update, ...
    }

    std::recursive_mutex m_mutex;
    unsigned long m_next_id = 0;
    std::set<std::string> m_picked_ports;  // host ports the engine chose
    int m_clock = 0;
};

}  // namespace pallet::testing
