#include "orchestrator/engine/replicas.h"

#include <fmt/format.h>

#include "orchestrator/engine/container.h"
#include "orchestrator/engine/launch.h"
#include "state/labels.h"
#include "util/error.h"

namespace pallet::orchestrator::engine {
namespace {

class Containers : public Replicas {
  public:
    Containers(Context& context, const state::Environment& env, ResolvedImage image)
        : m_context(context), m_env(env), m_image(std::move(image)) {}
    Containers(const Containers&) = delete;
    Containers& operator=(const Containers&) = delete;
    ~Containers() override {
        if (!m_kept) {
            m_context.docker.remove_containers(m_fresh);
        }
    }

    // Starts `count` more serve containers of the image.
    void start(int count) {
        std::vector<docker::ContainerSpec> specs;
        for (int i = 0; i < count; ++i) {
            docker::ContainerSpec spec =
                phase_container(m_context, m_env, state::phase::k_serve, m_image);
            spec.name = fmt::format("pallet-{}-serve-{}", m_env.name, state::random_id());
            // No restart policy until they carry traffic (keep): an engine that dies during a
            // rollout must not bring back containers nothing routes to.
            spec.stop_timeout = k_stop_timeout_seconds;
            m_fresh.push_back(spec.name);
            m_running.push_back(spec.name);
            specs.push_back(std::move(spec));
        }
        launch_replicas(m_context, m_image, specs);
    }
    void adopt(const std::vector<docker::ContainerRecord>& serving) {
        for (const auto& record : serving) {
            m_all.push_back(record.name);
            if (record.running) {
                m_running.push_back(record.name);
            }
        }
    }

    const std::string& version() const override { return m_image.ref; }
    const std::string& image_id() const override { return m_image.record.id; }
    int count() const override { return static_cast<int>(m_running.size()); }

    std::vector<std::string> wait_started(std::chrono::seconds) override {
        return m_fresh.empty() ? m_running : m_fresh;  // started already; gating sees them exit
    }

    ReplicaState state(const std::string& target) override {
        const auto record = m_context.docker.inspect_container(target);
        ReplicaState state;
        state.up = record && record->running;
        if (!state.up) {
            state.problem = fmt::format("exited (exit {})", record ? record->exit_code : -1);
            return state;
        }
        state.ready = record->health.empty() || record->health == "healthy";
        state.problem = state.ready ? "" : record->health;
        return state;
    }

    std::string output(const std::string& target) override {
        return m_context.docker.logs_tail(target, 20);
    }

    std::vector<std::string> grow(int total, Router&, std::chrono::seconds) override {
        // The very image that serves (by ID), for the user its containers run as.
        auto record = m_context.docker.inspect_image(m_image.record.id);
        if (!record) {
            throw Error(fmt::format(
                "the image of {} ({}) is no longer on the engine; serve a version again: {pallet} "
                "serve {} IMAGE",
                m_image.ref, m_image.record.id, m_env.name,
                fmt::arg("pallet", m_context.command("pallet"))));
        }
        m_image.record = *record;
        const size_t before = m_fresh.size();
        start(total - count());
        return {m_fresh.begin() + static_cast<long>(before), m_fresh.end()};
    }

    std::vector<std::string> first(int count) override {
        return {m_running.begin(), m_running.begin() + std::min<long>(count, this->count())};
    }

    void shrink(int count) override {
        std::vector<std::string> retired(m_running.begin() + count, m_running.end());
        m_context.docker.stop_containers(retired);
        m_context.docker.remove_containers(retired);
        m_running.resize(static_cast<size_t>(count));
    }

    void keep() override {
        m_context.docker.set_restart_policy(m_fresh, k_serving_restart_policy);
        m_kept = true;
    }

    void remove() override {
        std::vector<std::string> all = m_all;
        all.insert(all.end(), m_fresh.begin(), m_fresh.end());
        m_context.docker.stop_containers(all);
        m_context.docker.remove_containers(all);
        m_running.clear();
    }

  private:
    Context& m_context;
    const state::Environment& m_env;
    ResolvedImage m_image;
    std::vector<std::string> m_all;      // the containers there were (running or not)
    std::vector<std::string> m_running;  // those that run, then the fresh ones
    std::vector<std::string> m_fresh;    // started by this command
    bool m_kept = false;
};

}  // namespace

std::unique_ptr<Replicas> start_containers(Context& context, const state::Environment& env,
                                           const ResolvedImage& image, int count) {
    auto replicas = std::make_unique<Containers>(context, env, image);
    replicas->start(count);
    return replicas;
}

std::unique_ptr<Replicas> existing_containers(Context& context, const state::Environment& env,
                                              const std::vector<docker::ContainerRecord>& serving) {
    ResolvedImage image;
    for (const auto& record : serving) {
        if (record.running || image.ref.empty()) {
            image.ref = record.label(state::label::k_version);
            image.record.id = record.label(state::label::k_image_id);
        }
    }
    auto replicas = std::make_unique<Containers>(context, env, image);
    replicas->adopt(serving);
    return replicas;
}

}  // namespace pallet::orchestrator::engine
