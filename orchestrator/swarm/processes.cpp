#include "orchestrator/swarm/processes.h"

#include <fmt/format.h>

#include "docker/reference.h"
#include "orchestrator/swarm/tasks.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::orchestrator::swarm {
namespace {

using Clock = std::chrono::steady_clock;

class ProcessServices : public Processes {
  public:
    struct Type {
        std::string service;
        int wanted = 0;
    };

    ProcessServices(Context& context, const state::Environment& env, bool fresh)
        : m_context(context), m_env(env), m_fresh(fresh) {}
    ProcessServices(const ProcessServices&) = delete;
    ProcessServices& operator=(const ProcessServices&) = delete;
    ~ProcessServices() override {
        if (m_removed) {
            return;
        }
        try {
            if (m_fresh && !m_kept) {
                m_context.docker.remove_services(services());
            } else if (m_stopped) {
                scale_back();
            }
        } catch (...) {
            // on the way out of a failure already told; status shows what runs
        }
    }

    void add(const std::string& type, const std::string& service, int wanted) {
        m_types[type] = Type{service, wanted};
    }
    // Made with no replicas: start() gives them their counts.
    void prepared() { m_stopped = true; }
    // One that runs now. A second service of one type was made by a release that was killed
    // before it started it (0 replicas): it is removed with the set, never scaled.
    void adopt(const std::string& type, const std::string& service, int replicas) {
        const auto it = m_types.find(type);
        if (it == m_types.end()) {
            add(type, service, replicas);
        } else if (replicas > it->second.wanted) {
            m_strays.push_back(it->second.service);
            it->second = Type{service, replicas};
        } else {
            m_strays.push_back(service);
        }
    }

    std::map<std::string, ProcessCount> counts() override {
        std::map<std::string, ProcessCount> counts;
        for (const auto& [type, entry] : m_types) {
            counts[type].wanted = entry.wanted;
            for (const auto& task : m_context.docker.service_tasks(entry.service)) {
                counts[type].running += task.desired_state == "running" && task.running() ? 1 : 0;
            }
        }
        return counts;
    }

    std::optional<ProcessFailure> settle(std::chrono::seconds period) override {
        // Every type runs its count, then stays up for `period`. A task that ended meanwhile
        // exited or was rejected (the swarm would start another): that is the failure.
        const auto start_by = Clock::now() + k_start_timeout;
        std::optional<Clock::time_point> until;
        while (true) {
            std::string behind;  // "worker: 1 of 3 running (pending on node2: no suitable node)"
            for (const auto& [type, entry] : m_types) {
                int running = 0;
                std::string problem;
                for (const auto& task : m_context.docker.service_tasks(entry.service)) {
                    if (task.ended()) {
                        return failure_of(type, entry.service,
                                          task.exit_code
                                              ? fmt::format("exited (exit {}) within {}s of its "
                                                            "start",
                                                            *task.exit_code, period.count())
                                              : "could not start: " + task_problem(task));
                    }
                    running += task.desired_state == "running" && task.running() ? 1 : 0;
                    if (!task.running() && !task.error.empty()) {
                        problem = task_problem(task);
                    }
                }
                if (running < entry.wanted && behind.empty()) {
                    behind = fmt::format("{} of {} running{}", running, entry.wanted,
                                         problem.empty() ? "" : " (" + problem + ")");
                    behind = type + ": " + behind;
                }
            }
            const auto now = Clock::now();
            if (behind.empty() && !until) {
                until = now + period;
            }
            if (until && now >= *until) {
                return std::nullopt;
            }
            if (!until && now > start_by) {
                const std::string type = behind.substr(0, behind.find(':'));
                return failure_of(
                    type, m_types.at(type).service,
                    fmt::format("did not start within {}s ({})", k_start_timeout.count(), behind));
            }
            if (until) {
                cancel::sleep_at_most(std::chrono::milliseconds(500), *until);
            } else {
                cancel::sleep(std::chrono::milliseconds(500));
            }
        }
    }

    void start() override { scale_back(); }

    void stop() override {
        std::map<std::string, int> none;
        for (const auto& [type, entry] : m_types) {
            if (entry.wanted > 0) {
                none[entry.service] = 0;
            }
        }
        m_context.docker.scale_services(none);
        m_stopped = true;
        if (m_context.docker.dry_run()) {
            return;
        }
        // Their tasks get SIGTERM and the grace period: the version's processes have stopped
        // when none of their tasks runs any more.
        const auto deadline = Clock::now() + std::chrono::seconds(m_env.process_stop_timeout + 30);
        for (const auto& [type, entry] : m_types) {
            while (true) {
                const auto tasks = m_context.docker.service_tasks(entry.service);
                if (std::none_of(tasks.begin(), tasks.end(),
                                 [](const auto& task) { return !task.ended(); })) {
                    break;
                }
                if (Clock::now() > deadline) {
                    throw Error(fmt::format("the {} processes of {} did not stop within {}s", type,
                                            m_env.name, m_env.process_stop_timeout + 30));
                }
                cancel::sleep(std::chrono::milliseconds(300));
            }
        }
    }

    void start_again() override {
        scale_back();
        if (m_context.docker.dry_run()) {
            return;
        }
        // They run again when this returns, as far as the swarm lets them: a type that does
        // not come back is the swarm's to tell (status shows its count), not a second failure.
        for (const auto& [type, entry] : m_types) {
            if (entry.wanted > 0) {
                try {
                    wait_running(m_context, entry.service, entry.wanted, k_start_timeout);
                } catch (const Error&) {
                }
            }
        }
    }

    void keep() override { m_kept = true; }

    void remove() override {
        auto all = services();
        all.insert(all.end(), m_strays.begin(), m_strays.end());
        m_context.docker.remove_services(all);
        m_removed = true;
    }

    void scale(const std::string& type, int count) override {
        const auto it = m_types.find(type);
        if (it == m_types.end()) {
            throw Error(fmt::format("{} runs no {} process", m_env.name, type));
        }
        m_context.docker.scale_service(it->second.service, count);
        it->second.wanted = count;
        if (count > 0 && !m_context.docker.dry_run()) {
            wait_running(m_context, it->second.service, count, k_start_timeout);
        }
    }

  private:
    void scale_back() {
        std::map<std::string, int> wanted;
        for (const auto& [type, entry] : m_types) {
            if (entry.wanted > 0) {
                wanted[entry.service] = entry.wanted;
            }
        }
        m_context.docker.scale_services(wanted);
        m_stopped = false;
    }

    // The failure of a type, with the last lines its service's tasks printed.
    ProcessFailure failure_of(const std::string& type, const std::string& service,
                              std::string what) {
        const auto lines = util::split(util::trim(m_context.docker.service_logs(service)), '\n');
        const size_t from = lines.size() > 20 ? lines.size() - 20 : 0;
        return ProcessFailure{
            type, std::move(what),
            util::join({lines.begin() + static_cast<long>(from), lines.end()}, "\n")};
    }

    std::vector<std::string> services() const {
        std::vector<std::string> names;
        for (const auto& [type, entry] : m_types) {
            names.push_back(entry.service);
        }
        return names;
    }

    Context& m_context;
    const state::Environment& m_env;
    bool m_fresh;
    std::map<std::string, Type> m_types;
    std::vector<std::string> m_strays;  // see adopt()
    bool m_kept = false;
    bool m_stopped = false;
    bool m_removed = false;
};

}  // namespace

std::string process_type_of(const std::string& env, const std::string& service) {
    const std::string prefix = "pallet-" + env + "-proc-";
    if (service.rfind(prefix, 0) != 0 || service.size() < prefix.size() + 10) {
        return "";
    }
    return service.substr(prefix.size(), service.size() - prefix.size() - 9);
}

std::unique_ptr<Processes> prepare_process_services(Context& context, const state::Environment& env,
                                                    const ResolvedImage& image,
                                                    const std::map<std::string, int>& counts) {
    auto processes = std::make_unique<ProcessServices>(context, env, true);
    processes->prepared();
    for (const auto& [type, count] : counts) {
        docker::ServiceSpec spec;
        spec.name = fmt::format("pallet-{}-proc-{}-{}", env.name, type, state::random_id());
        spec.image = docker::pinned_image(image.ref, image.record.id, image.record.repo_digests);
        spec.command = {type};
        spec.env = phase_variables(env, state::phase::k_serve);
        spec.labels = phase_labels(context, env, state::phase::k_process, image);
        spec.labels[state::label::k_process] = type;
        spec.container_labels = state::base_labels(env.name, state::phase::k_process);
        spec.container_labels[state::label::k_process] = type;
        spec.network = state::network_name(env.name);
        spec.mounts = storage_mounts(env, "/storage", "/static", false);
        spec.replicas = 0;             // start() gives it `count`
        spec.endpoint_mode = "dnsrr";  // no route to them, no virtual IP
        spec.restart_condition = "any";
        spec.stop_grace_seconds = env.process_stop_timeout;
        context.docker.create_service(spec);
        processes->add(type, spec.name, count);
    }
    return processes;
}

std::unique_ptr<Processes> existing_process_services(
    Context& context, const state::Environment& env,
    const std::vector<docker::ServiceRecord>& services) {
    auto processes = std::make_unique<ProcessServices>(context, env, false);
    for (const auto& service : services) {
        processes->adopt(service.label(state::label::k_process), service.name, service.replicas);
    }
    return processes;
}

}  // namespace pallet::orchestrator::swarm
