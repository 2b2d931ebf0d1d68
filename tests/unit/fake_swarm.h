#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "docker/runner.h"

namespace pallet::testing {

// The swarm side of the fake engine: a manager of three nodes (node1, the one addressed, node2,
// node3) that answers `service`, `config`, `node` and `inspect --type task` as docker's CLI does,
// by rules: a service's tasks are placed by its constraints (else spread over the nodes) and run
// at once, each with an address of its own; a task of a service that is never restarted (a deploy,
// a check) ends as `outcome` says; scale adds or stops the highest slots; a lost node's tasks
// are shut down and started again on the others. Tasks on node1 get a running container (the
// engine addressed reaches those alone), so that a router there can be exec'd into.
class FakeSwarm {
  public:
    struct Node {
        std::string id;
        std::string hostname;
        std::string state = "ready";
    };
    struct Task {
        std::string id;
        std::string service;  // its service's name
        std::string node;     // node ID
        int slot = 0;
        std::string desired = "running";
        std::string state = "running";
        std::optional<int> exit_code;
        std::string error;
        std::string address;
        std::string container;  // on node1: the fake engine's container of it
    };
    struct Service {
        std::string id;
        std::string name;
        std::map<std::string, std::string> labels;
        std::map<std::string, std::string> container_labels;
        std::string mode = "replicated";
        int replicas = 1;
        std::string image;
        std::vector<std::string> command;
        std::vector<std::string> env;  // names (values come from the process environment)
        std::vector<std::string> constraints;
        std::vector<std::string> mounts;
        std::vector<std::string> publish;
        std::string restart = "any";
        std::string health;
        std::string endpoint_mode;
        int created = 0;  // order of creation
    };
    struct Config {
        std::string id;
        std::string name;
        std::map<std::string, std::string> labels;
        std::string data;
        int created = 0;
    };

    std::vector<Node> nodes = {
        {"n1aaaaaaaaaa", "node1"}, {"n2bbbbbbbbbb", "node2"}, {"n3cccccccccc", "node3"}};
    std::map<std::string, Service> services;  // by name
    std::vector<Task> tasks;
    std::map<std::string, Config> configs;  // by name
    // How a task of a service that is never restarted ends: its exit code, or nullopt while it
    // runs (asked whenever its tasks are listed). Default: it ends at once, exit 0.
    std::function<std::optional<int>(const Service&, const Task&)> outcome =
        [](const Service&, const Task&) { return std::optional<int>(0); };
    // How a task of a service the swarm restarts exits (nullopt: it runs on), asked whenever its
    // tasks are listed; the swarm then starts another in its slot.
    std::function<std::optional<int>(const Service&, const Task&)> crash;
    // Set by the fake engine: makes and removes the containers of tasks on node1.
    std::function<std::string(const Task&, const Service&)> start_container;
    std::function<void(const std::string&)> end_container;
    std::function<void(const std::string&)> remove_container;

    // Node `hostname` is lost: its tasks shut down; replicated services get them back on others.
    void lose_node(const std::string& hostname) {
        std::string id;
        for (auto& node : nodes) {
            if (node.hostname == hostname) {
                node.state = "down";
                id = node.id;
            }
        }
        std::vector<Task> lost;
        for (auto& task : tasks) {
            if (task.node == id && task.desired == "running") {
                task.desired = "shutdown";
                task.state = "shutdown";
                lost.push_back(task);
            }
        }
        for (const auto& task : lost) {
            const Service& service = services.at(task.service);
            if (service.mode == "replicated" && service.restart == "any" &&
                place(service).empty() == false) {
                start_task(service, task.slot);
            }
        }
    }

    // The running tasks of a service, by slot.
    std::vector<const Task*> running(const std::string& service) const {
        std::vector<const Task*> out;
        for (const auto& task : tasks) {
            if (task.service == service && task.desired == "running" && task.state == "running") {
                out.push_back(&task);
            }
        }
        return out;
    }

    std::optional<docker::Result> answer(const std::vector<std::string>& args,
                                         const docker::Command& command) {
        const std::string group = args.empty() ? "" : args[0];
        const std::string verb = args.size() > 1 ? args[1] : "";
        if (group == "system" && verb == "info" && args.size() > 3) {
            const std::string& format = args[3];
            if (format.find("LocalNodeState") != std::string::npos) {
                return ok("active true\n");
            }
            if (format.find("NodeID") != std::string::npos) {
                return ok(nodes.front().id + "\n");
            }
            return std::nullopt;
        }
        if (group == "node" && verb == "ls") {
            std::string out;
            for (const auto& node : nodes) {
                out += node.id + "\n";
            }
            return ok(out);
        }
        if (group == "node" && verb == "inspect") {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& node : nodes) {
                out.push_back(
                    {{"ID", node.id},
                     {"Description", {{"Hostname", node.hostname}}},
                     {"Spec", {{"Role", "manager"}, {"Availability", "active"}}},
                     {"Status",
                      {{"State", node.state}, {"Addr", "10.9.0." + node.id.substr(1, 1)}}}});
            }
            return ok(out.dump());
        }
        if (group == "inspect" && args.size() > 2 && args[2] == "task") {
            nlohmann::json out = nlohmann::json::array();
            for (size_t i = 3; i < args.size(); ++i) {
                for (const auto& task : tasks) {
                    if (task.id == args[i]) {
                        out.push_back(task_json(task));
                    }
                }
            }
            return ok(out.dump());
        }
        if (group == "config") {
            return config(verb, args, command);
        }
        if (group == "service") {
            return service(verb, args);
        }
        if (group == "network") {
            return ok();
        }
        return std::nullopt;
    }

  private:
    static docker::Result ok(std::string out = "") {
        docker::Result result;
        result.out = std::move(out);
        return result;
    }
    static docker::Result failed(std::string err) {
        docker::Result result;
        result.exit_code = 1;
        result.err = std::move(err);
        return result;
    }

    static std::string base64(const std::string& data) {
        static constexpr char k_alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string out;
        size_t i = 0;
        for (; i + 2 < data.size(); i += 3) {
            const unsigned n = (static_cast<unsigned char>(data[i]) << 16) |
                               (static_cast<unsigned char>(data[i + 1]) << 8) |
                               static_cast<unsigned char>(data[i + 2]);
            out += {k_alphabet[(n >> 18) & 63], k_alphabet[(n >> 12) & 63],
                    k_alphabet[(n >> 6) & 63], k_alphabet[n & 63]};
        }
        if (i + 1 == data.size()) {
            const unsigned n = static_cast<unsigned char>(data[i]) << 16;
            out += {k_alphabet[(n >> 18) & 63], k_alphabet[(n >> 12) & 63], '=', '='};
        } else if (i + 2 == data.size()) {
            const unsigned n = (static_cast<unsigned char>(data[i]) << 16) |
                               (static_cast<unsigned char>(data[i + 1]) << 8);
            out += {k_alphabet[(n >> 18) & 63], k_alphabet[(n >> 12) & 63],
                    k_alphabet[(n >> 6) & 63], '='};
        }
        return out;
    }

    static std::string time_of(int order) {
        // Created 10 ms apart, in order (newest last), within the minute before the engine's
        // clock.
        const int ms = order * 10;
        return fmt::format("2026-11-25T11:59:{:02d}.{:03d}000000Z", ms / 1000 % 60, ms % 1000);
    }

    // Label filters (label=k or label=k=v) of an ls.
    static bool matches(const std::map<std::string, std::string>& labels,
                        const std::vector<std::string>& args) {
        for (size_t i = 0; i + 1 < args.size(); ++i) {
            if (args[i] != "--filter" || args[i + 1].rfind("label=", 0) != 0) {
                continue;
            }
            const std::string filter = args[i + 1].substr(6);
            const auto equals = filter.find('=');
            const auto it = labels.find(filter.substr(0, equals));
            if (it == labels.end() ||
                (equals != std::string::npos && it->second != filter.substr(equals + 1))) {
                return false;
            }
        }
        return true;
    }

    std::string next_id(char kind) { return fmt::format("{}{:024x}", kind, ++m_next); }

    docker::Result config(const std::string& verb, const std::vector<std::string>& args,
                          const docker::Command& command) {
        if (verb == "create") {
            Config config;
            for (size_t i = 2; i < args.size(); ++i) {
                if (args[i] == "--label") {
                    const std::string& label = args[++i];
                    config.labels[label.substr(0, label.find('='))] =
                        label.substr(label.find('=') + 1);
                } else if (config.name.empty()) {
                    config.name = args[i];
                }
            }
            if (configs.count(config.name) > 0) {
                return failed(fmt::format(
                    "Error response from daemon: rpc error: code = AlreadyExists desc = config "
                    "{} already exists",
                    config.name));
            }
            config.id = next_id('c');
            config.data = command.stdin_data.value_or("");
            config.created = ++m_clock;
            configs[config.name] = config;
            return ok(config.id + "\n");
        }
        if (verb == "ls") {
            const bool names = std::find(args.begin(), args.end(), "{{.Name}}") != args.end();
            std::string out;
            for (const auto& [name, config] : configs) {
                if (matches(config.labels, args)) {
                    out += (names ? config.name : config.id) + "\n";
                }
            }
            return ok(out);
        }
        if (verb == "inspect") {
            nlohmann::json out = nlohmann::json::array();
            for (size_t i = 2; i < args.size(); ++i) {
                for (const auto& [name, config] : configs) {
                    if (config.id == args[i] || config.name == args[i]) {
                        out.push_back({{"ID", config.id},
                                       {"CreatedAt", time_of(config.created)},
                                       {"Spec",
                                        {{"Name", config.name},
                                         {"Labels", config.labels},
                                         {"Data", base64(config.data)}}}});
                    }
                }
            }
            return ok(out.dump());
        }
        if (verb == "rm") {
            for (size_t i = 2; i < args.size(); ++i) {
                for (auto it = configs.begin(); it != configs.end();) {
                    it = it->second.id == args[i] || it->first == args[i] ? configs.erase(it)
                                                                          : std::next(it);
                }
            }
            return ok();
        }
        return ok();
    }

    // The node a task of `service` goes to ("" when none may take it).
    std::string place(const Service& service) {
        std::vector<std::string> candidates;
        for (const auto& node : nodes) {
            bool fits = node.state == "ready";
            for (const auto& constraint : service.constraints) {
                if (constraint.rfind("node.id==", 0) == 0) {
                    fits = fits && node.id == constraint.substr(9);
                } else if (constraint.rfind("node.hostname==", 0) == 0) {
                    fits = fits && node.hostname == constraint.substr(15);
                }
            }
            if (fits) {
                candidates.push_back(node.id);
            }
        }
        if (candidates.empty()) {
            return "";
        }
        return candidates[m_spread++ % candidates.size()];
    }

    // Every node has the local volume driver alone.
    static bool missing_plugin(const Service& service) {
        return std::any_of(service.mounts.begin(), service.mounts.end(), [](const auto& mount) {
            const auto at = mount.find("volume-driver=");
            return at != std::string::npos && mount.compare(at + 14, 6, "local,") != 0 &&
                   mount.substr(at + 14) != "local";
        });
    }

    void start_task(const Service& service, int slot, const std::string& on_node = "") {
        Task task;
        task.id = next_id('t');
        task.service = service.name;
        task.slot = slot;
        task.node = on_node.empty() ? place(service) : on_node;
        task.address = fmt::format("10.0.1.{}", ++m_addresses);
        if (missing_plugin(service)) {
            task.node.clear();
            task.state = "pending";
            task.error = fmt::format("no suitable node (missing plugin on {} nodes)", nodes.size());
        } else if (task.node.empty()) {
            task.state = "pending";
            task.error = "no suitable node";
        } else if (task.node == nodes.front().id && start_container) {
            task.container = start_container(task, service);
        }
        tasks.push_back(task);
    }

    void end_tasks(const Service& service) {
        if (service.restart != "none") {
            std::vector<int> restarted;
            for (auto& task : tasks) {
                if (crash && task.service == service.name && task.state == "running" &&
                    task.desired == "running") {
                    if (auto code = crash(service, task)) {
                        task.state = "failed";
                        task.desired = "shutdown";
                        task.exit_code = *code;
                        task.error = fmt::format("task: non-zero exit ({})", *code);
                        restarted.push_back(task.slot);
                    }
                }
            }
            for (int slot : restarted) {
                start_task(service, slot);
            }
            return;
        }
        for (auto& task : tasks) {
            if (task.service != service.name || task.state != "running") {
                continue;
            }
            if (auto code = outcome(service, task)) {
                task.state = *code == 0 ? "complete" : "failed";
                task.desired = task.state == "complete" ? "shutdown" : "shutdown";
                task.exit_code = *code;
                if (*code != 0) {
                    task.error = fmt::format("task: non-zero exit ({})", *code);
                }
                if (!task.container.empty() && end_container) {
                    end_container(task.container);
                }
            }
        }
    }

    nlohmann::json task_json(const Task& task) const {
        const Service& service = services.at(task.service);
        nlohmann::json status = {{"State", task.state},
                                 {"Err", task.error},
                                 {"Timestamp", "2026-11-25T11:59:59.000000000Z"},
                                 {"ContainerStatus", {{"ContainerID", task.container}}}};
        if (task.exit_code) {
            status["ContainerStatus"]["ExitCode"] = *task.exit_code;
        }
        return {{"ID", task.id},
                {"ServiceID", service.id},
                {"NodeID", task.node},
                {"Slot", task.slot},
                {"DesiredState", task.desired},
                {"CreatedAt", "2026-11-25T11:59:00.000000000Z"},
                {"Status", status},
                {"NetworksAttachments", {{{"Addresses", {task.address + "/24"}}}}}};
    }

    nlohmann::json service_json(const Service& service) const {
        nlohmann::json mode =
            service.mode == "global"
                ? nlohmann::json{{"Global", nlohmann::json::object()}}
                : nlohmann::json{{"Replicated", {{"Replicas", service.replicas}}}};
        return {
            {"ID", service.id},
            {"CreatedAt", time_of(service.created)},
            {"Spec",
             {{"Name", service.name},
              {"Labels", service.labels},
              {"Mode", mode},
              {"TaskTemplate",
               {{"ContainerSpec", {{"Image", service.image}, {"Env", nlohmann::json::array()}}}}}}},
            {"Endpoint", {{"Ports", nlohmann::json::array()}}}};
    }

    // One NAME=REPLICAS of `docker service scale`; false when there is no such service.
    bool scale(const std::string& spec) {
        Service* service = find_service(spec.substr(0, spec.find('=')));
        if (service == nullptr) {
            return false;
        }
        const int replicas = std::stoi(spec.substr(spec.find('=') + 1));
        for (int slot = service->replicas + 1; slot <= replicas; ++slot) {
            start_task(*service, slot);
        }
        for (auto& task : tasks) {
            if (task.service == service->name && task.slot > replicas &&
                task.desired == "running") {
                task.desired = "shutdown";
                task.state = "shutdown";
                if (!task.container.empty() && end_container) {
                    end_container(task.container);
                }
            }
        }
        service->replicas = replicas;
        return true;
    }

    Service* find_service(const std::string& name_or_id) {
        for (auto& [name, service] : services) {
            if (name == name_or_id || service.id == name_or_id) {
                return &service;
            }
        }
        return nullptr;
    }

    docker::Result create(const std::vector<std::string>& args) {
        static const std::set<std::string> k_valued = {"--name",
                                                       "--mode",
                                                       "--replicas",
                                                       "--label",
                                                       "--container-label",
                                                       "--network",
                                                       "--mount",
                                                       "--endpoint-mode",
                                                       "--publish",
                                                       "--constraint",
                                                       "--restart-condition",
                                                       "--stop-grace-period",
                                                       "--env",
                                                       "--env-file",
                                                       "--entrypoint",
                                                       "--health-cmd",
                                                       "--health-interval",
                                                       "--health-retries",
                                                       "--health-start-period",
                                                       "--health-timeout"};
        Service service;
        size_t i = 2;
        for (; i < args.size() && args[i].rfind("--", 0) == 0; ++i) {
            const std::string& flag = args[i];
            if (k_valued.count(flag) == 0) {
                continue;  // --detach, --no-resolve-image
            }
            const std::string& value = args[++i];
            const auto split = [&](std::map<std::string, std::string>& into) {
                into[value.substr(0, value.find('='))] = value.substr(value.find('=') + 1);
            };
            if (flag == "--name") {
                service.name = value;
            } else if (flag == "--mode") {
                service.mode = value;
            } else if (flag == "--replicas") {
                service.replicas = std::stoi(value);
            } else if (flag == "--label") {
                split(service.labels);
            } else if (flag == "--container-label") {
                split(service.container_labels);
            } else if (flag == "--mount") {
                service.mounts.push_back(value);
            } else if (flag == "--publish") {
                service.publish.push_back(value);
            } else if (flag == "--constraint") {
                service.constraints.push_back(value);
            } else if (flag == "--restart-condition") {
                service.restart = value;
            } else if (flag == "--env") {
                service.env.push_back(value);
            } else if (flag == "--health-cmd") {
                service.health = value;
            } else if (flag == "--endpoint-mode") {
                service.endpoint_mode = value;
            }
        }
        service.image = i < args.size() ? args[i] : "";
        service.command.assign(args.begin() + static_cast<long>(std::min(i + 1, args.size())),
                               args.end());
        if (services.count(service.name) > 0) {
            return failed(
                "Error response from daemon: rpc error: code = AlreadyExists desc = "
                "name conflicts with an existing object: service " +
                service.name + " already exists");
        }
        service.id = next_id('s');
        service.created = ++m_clock;
        services[service.name] = service;
        if (service.mode == "global") {
            for (const auto& node : nodes) {
                if (node.state == "ready") {
                    start_task(service, 0, node.id);
                }
            }
        } else {
            for (int slot = 1; slot <= service.replicas; ++slot) {
                start_task(service, slot);
            }
        }
        return ok(service.id + "\n");
    }

    docker::Result service(const std::string& verb, const std::vector<std::string>& args) {
        if (verb == "create") {
            return create(args);
        }
        if (verb == "ls") {
            const bool replicas =
                std::find(args.begin(), args.end(), "{{.Name}} {{.Replicas}}") != args.end();
            std::string out;
            for (const auto& [name, service] : services) {
                if (!matches(service.labels, args)) {
                    continue;
                }
                out += replicas ? fmt::format("{} {}/{}\n", name, running(name).size(),
                                              service.mode == "global" ? running(name).size()
                                                                       : service.replicas)
                                : service.id + "\n";
            }
            return ok(out);
        }
        if (verb == "inspect") {
            nlohmann::json out = nlohmann::json::array();
            for (size_t i = 2; i < args.size(); ++i) {
                if (const Service* service = find_service(args[i])) {
                    out.push_back(service_json(*service));
                }
            }
            return ok(out.dump());
        }
        if (verb == "ps") {
            if (std::find(args.begin(), args.end(), "--quiet") != args.end()) {
                Service* service = find_service(args.back());
                if (service == nullptr) {
                    return failed("no such service: " + args.back());
                }
                end_tasks(*service);
                std::string out;
                for (const auto& task : tasks) {
                    if (task.service == service->name) {
                        out += task.id + "\n";
                    }
                }
                return ok(out);
            }
            std::string out;  // --filter desired-state=running --format NAME STATE, services...
            for (size_t i = 6; i < args.size(); ++i) {
                for (const auto& task : tasks) {
                    if (task.service == args[i] && task.desired == "running") {
                        out += fmt::format("{}.{} {} 1 second ago\n", task.service, task.slot,
                                           task.state == "running" ? "Running" : "Pending");
                    }
                }
            }
            return ok(out);
        }
        if (verb == "scale") {
            for (size_t i = 2; i < args.size(); ++i) {
                if (args[i].find('=') != std::string::npos && !scale(args[i])) {
                    return failed("no such service");
                }
            }
            return ok();
        }
        if (verb == "rm") {
            for (size_t i = 2; i < args.size(); ++i) {
                Service* service = find_service(args[i]);
                if (service == nullptr) {
                    continue;
                }
                const std::string name = service->name;
                for (auto it = tasks.begin(); it != tasks.end();) {
                    if (it->service == name) {
                        if (!it->container.empty() && remove_container) {
                            remove_container(it->container);
                        }
                        it = tasks.erase(it);
                    } else {
                        ++it;
                    }
                }
                services.erase(name);
            }
            return ok();
        }
        return ok();  // logs
    }

    unsigned long m_next = 0;
    int m_clock = 0;
    int m_addresses = 0;
    size_t m_spread = 0;
};

}  // namespace pallet::testing
