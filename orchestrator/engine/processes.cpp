#include "orchestrator/engine/processes.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "orchestrator/engine/container.h"
#include "orchestrator/engine/launch.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/together.h"

namespace pallet::orchestrator::engine {
namespace {

// At most this many docker start calls at once for one set of processes.
constexpr std::size_t k_start_lanes = 4;

class ProcessContainers : public Processes {
  public:
    struct Replica {
        std::string name;
        std::string type;
        bool running = true;
    };

    ProcessContainers(Context& context, const state::Environment& env, ResolvedImage image,
                      bool fresh)
        : m_context(context), m_env(env), m_image(std::move(image)), m_fresh(fresh) {}
    ProcessContainers(const ProcessContainers&) = delete;
    ProcessContainers& operator=(const ProcessContainers&) = delete;
    ~ProcessContainers() override {
        if (m_removed) {
            return;
        }
        try {
            if (m_fresh && !m_kept) {
                m_context.docker.remove_containers(names());
            } else if (m_stopped) {
                start_again();  // a version whose processes were stopped for one that never came
            }
        } catch (...) {
            // on the way out of a failure already told; status shows what runs
        }
    }

    void adopt(const std::vector<docker::ContainerRecord>& records) {
        for (const auto& record : records) {
            if (never_started(record)) {
                m_strays.push_back(record.name);
                continue;
            }
            m_replicas.push_back(
                {record.name, record.label(state::label::k_process), record.running});
            m_wanted[record.label(state::label::k_process)] += 1;
        }
    }

    // Creates `counts` of each type, not started (their restart policy comes with keep()).
    void prepare(const std::map<std::string, int>& counts) {
        std::vector<docker::ContainerSpec> specs;
        for (const auto& [type, count] : counts) {
            m_wanted[type] += count;
            for (int i = 0; i < count; ++i) {
                specs.push_back(spec_of(type));
                m_replicas.push_back({specs.back().name, type, true});
            }
        }
        m_stopped = true;
        create_replicas(m_context, m_image, specs);
    }

    void start() override {
        const auto all = names();
        if (all.size() < 2 || m_context.docker.dry_run()) {
            m_context.docker.start_containers(all);
        } else {
            // docker start starts the containers it is given one after the other: a few calls
            // at once instead (a worker and a clock start in the time of one).
            std::vector<std::vector<std::string>> shares(std::min(all.size(), k_start_lanes));
            for (std::size_t i = 0; i < all.size(); ++i) {
                shares[i % shares.size()].push_back(all[i]);
            }
            std::vector<std::function<void()>> lanes;
            for (const auto& share : shares) {
                lanes.emplace_back([this, &share] { m_context.docker.start_containers(share); });
            }
            util::run_together(lanes);
        }
        m_stopped = false;
    }

    std::map<std::string, ProcessCount> counts() override {
        std::map<std::string, ProcessCount> counts;
        for (const auto& [type, wanted] : m_wanted) {
            counts[type].wanted = wanted;
        }
        for (const auto& replica : m_replicas) {
            counts[replica.type].running += replica.running && !m_stopped ? 1 : 0;
        }
        return counts;
    }

    std::optional<ProcessFailure> settle(std::chrono::seconds period) override {
        const auto until = cancel::now() + period;
        while (true) {
            std::map<std::string, docker::ContainerRecord> now;
            for (auto& record : m_context.docker.inspect_containers(names())) {
                now[record.name] = record;
            }
            for (const auto& replica : m_replicas) {
                const auto it = now.find(replica.name);
                if (it == now.end() || !it->second.running) {
                    return ProcessFailure{
                        replica.type,
                        it == now.end() ? std::string("was removed by someone else")
                                        : fmt::format("exited (exit {}) within {}s of its start",
                                                      it->second.exit_code, period.count()),
                        it == now.end() ? "" : m_context.docker.logs_tail(replica.name, 20)};
                }
            }
            const auto now_time = cancel::now();
            if (now_time >= until) {
                return std::nullopt;
            }
            cancel::sleep_at_most(std::chrono::milliseconds(500), until);
        }
    }

    void stop() override {
        // docker stop gives each its stop timeout (the environment's) before SIGKILL.
        m_context.docker.stop_containers(names());
        m_stopped = true;
    }

    void start_again() override { start(); }

    void keep() override {
        m_context.docker.set_restart_policy(names(), k_serving_restart_policy);
        m_kept = true;
    }

    void remove() override {
        auto all = names();
        all.insert(all.end(), m_strays.begin(), m_strays.end());
        m_context.docker.remove_containers(all);
        m_removed = true;
    }

    void scale(const std::string& type, int count) override {
        std::vector<std::string> of_type;
        for (const auto& replica : m_replicas) {
            if (replica.type == type) {
                of_type.push_back(replica.name);
            }
        }
        const int now = static_cast<int>(of_type.size());
        if (count < now) {
            const std::vector<std::string> retired(of_type.begin() + count, of_type.end());
            m_context.docker.stop_containers(retired);
            m_context.docker.remove_containers(retired);
            std::erase_if(m_replicas, [&](const Replica& replica) {
                return std::find(retired.begin(), retired.end(), replica.name) != retired.end();
            });
        } else if (count > now) {
            // The very image that serves (by ID), for the user its containers run as.
            if (auto record = m_context.docker.inspect_image(m_image.record.id)) {
                m_image.record = *record;
            } else if (!m_context.docker.dry_run()) {
                throw Error(fmt::format("the image of {} ({}) is no longer on the engine",
                                        m_image.ref, m_image.record.id));
            }
            std::vector<docker::ContainerSpec> specs;
            for (int i = now; i < count; ++i) {
                specs.push_back(spec_of(type));
                specs.back().restart = k_serving_restart_policy;
                m_replicas.push_back({specs.back().name, type, true});
            }
            launch_replicas(m_context, m_image, specs);
        }
        m_wanted[type] = count;
    }

  private:
    std::vector<std::string> names() const {
        std::vector<std::string> names;
        for (const auto& replica : m_replicas) {
            names.push_back(replica.name);
        }
        return names;
    }

    // A process container: what a serve container gets, the type as its command, no port.
    docker::ContainerSpec spec_of(const std::string& type) const {
        docker::ContainerSpec spec =
            phase_container(m_context, m_env, state::phase::k_serve, m_image);
        spec.name = fmt::format("pallet-{}-proc-{}-{}", m_env.name, type, state::random_id());
        spec.command = {type};
        spec.labels[state::label::k_phase] = state::phase::k_process;
        spec.labels[state::label::k_process] = type;
        spec.stop_timeout = m_env.process_stop_timeout;
        return spec;
    }

    Context& m_context;
    const state::Environment& m_env;
    ResolvedImage m_image;
    bool m_fresh;
    std::vector<Replica> m_replicas;
    // Made for a release that never got to start them (its command was killed): removed with
    // the set, never started.
    std::vector<std::string> m_strays;
    std::map<std::string, int> m_wanted;
    bool m_kept = false;
    bool m_stopped = false;
    bool m_removed = false;
};

}  // namespace

bool never_started(const docker::ContainerRecord& record) { return record.status == "created"; }

std::unique_ptr<Processes> prepare_process_containers(Context& context,
                                                      const state::Environment& env,
                                                      const ResolvedImage& image,
                                                      const std::map<std::string, int>& counts) {
    auto processes = std::make_unique<ProcessContainers>(context, env, image, true);
    processes->prepare(counts);
    return processes;
}

std::unique_ptr<Processes> existing_process_containers(
    Context& context, const state::Environment& env,
    const std::vector<docker::ContainerRecord>& records, const ResolvedImage& served) {
    ResolvedImage image = served;
    const auto started = std::find_if(records.begin(), records.end(),
                                      [](const auto& record) { return !never_started(record); });
    if (started != records.end()) {
        image.ref = started->label(state::label::k_version);
        image.record.id = started->label(state::label::k_image_id);
    }
    auto processes = std::make_unique<ProcessContainers>(context, env, image, false);
    processes->adopt(records);
    return processes;
}

}  // namespace pallet::orchestrator::engine
