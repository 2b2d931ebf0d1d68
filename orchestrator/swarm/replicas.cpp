#include "orchestrator/swarm/replicas.h"

#include <fmt/format.h>

#include <algorithm>

#include "docker/reference.h"
#include "orchestrator/swarm/tasks.h"
#include "state/labels.h"
#include "state/swarm_history.h"
#include "util/strings.h"

namespace pallet::orchestrator::swarm {
namespace {

class Service : public Replicas {
  public:
    Service(Context& context, const state::Environment& env, std::string name, std::string version,
            std::string image_id, int count)
        : m_context(context),
          m_env(env),
          m_name(std::move(name)),
          m_version(std::move(version)),
          m_image_id(std::move(image_id)),
          m_count(count) {}
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;
    ~Service() override {
        if (m_kept) {
            return;
        }
        if (m_fresh) {
            m_context.docker.remove_services({m_name});
        } else if (m_grown_from) {
            m_context.docker.scale_service(m_name, *m_grown_from);
        }
    }

    void mark_fresh() { m_fresh = true; }
    void also_remove(const std::vector<std::string>& others) { m_others = others; }

    const std::string& version() const override { return m_version; }
    const std::string& image_id() const override { return m_image_id; }
    int count() const override { return m_count; }
    std::string dns_name() const override { return m_name; }

    std::vector<std::string> wait_started(std::chrono::seconds timeout) override {
        return wait_running(m_context, m_name, m_count, timeout);
    }

    ReplicaState state(const std::string&) override {
        return {};  // its tasks were seen running; the health request tells the rest
    }

    std::string output(const std::string&) override {
        const auto lines = util::split(m_context.docker.service_logs(m_name), '\n');
        const size_t from = lines.size() > 20 ? lines.size() - 20 : 0;
        return util::join({lines.begin() + static_cast<long>(from), lines.end()}, "\n");
    }

    std::vector<std::string> grow(int total, Router& router,
                                  std::chrono::seconds timeout) override {
        if (m_context.docker.dry_run()) {
            m_context.docker.scale_service(m_name, total);
            return {};
        }
        const auto before = wait_running(m_context, m_name, m_count, timeout);
        router.send_to(before);  // the new tasks join the DNS before they answer
        m_grown_from = m_count;
        m_context.docker.scale_service(m_name, total);
        m_count = total;
        std::vector<std::string> fresh;
        for (const auto& address : wait_running(m_context, m_name, total, timeout)) {
            if (std::find(before.begin(), before.end(), address) == before.end()) {
                fresh.push_back(address);
            }
        }
        return fresh;
    }

    std::vector<std::string> first(int count) override {
        // The swarm removes the highest slots when it scales down.
        std::vector<std::string> kept;
        for (const auto& task : m_context.docker.service_tasks(m_name)) {
            if (task.desired_state == "running" && task.running() && task.slot <= count &&
                !task.addresses.empty()) {
                kept.push_back(task.addresses.front());
            }
        }
        return kept;
    }

    void shrink(int count) override {
        m_context.docker.scale_service(m_name, count);
        m_count = count;
    }

    void keep() override { m_kept = true; }

    void remove() override {
        std::vector<std::string> all = m_others;
        all.push_back(m_name);
        m_context.docker.remove_services(all);
        m_kept = true;
    }

  private:
    Context& m_context;
    const state::Environment& m_env;
    std::string m_name;
    std::string m_version;
    std::string m_image_id;
    int m_count;
    bool m_fresh = false;
    bool m_kept = false;
    std::optional<int> m_grown_from;
    std::vector<std::string> m_others;  // older serve services, gone with this one
};

}  // namespace

std::unique_ptr<Replicas> start_service(Context& context, const state::Environment& env,
                                        const ResolvedImage& image, int count) {
    docker::ServiceSpec spec;
    spec.name = state::swarm::new_serve_service(env.name);
    // What the swarm's nodes run: exactly the bytes the manager resolved the image to.
    spec.image = docker::pinned_image(image.ref, image.record.id, image.record.repo_digests);
    spec.command = {"serve"};
    spec.env = phase_variables(env, state::phase::k_serve);
    spec.labels = phase_labels(context, env, state::phase::k_serve, image);
    spec.container_labels = state::base_labels(env.name, state::phase::k_serve);
    spec.network = state::network_name(env.name);
    spec.mounts = storage_mounts(env, "/storage", "/static", false);
    spec.replicas = count;
    spec.endpoint_mode = "dnsrr";  // no virtual IP: stopped tasks leave DNS at once
    spec.restart_condition = "any";
    context.docker.create_service(spec);
    auto service =
        std::make_unique<Service>(context, env, spec.name, image.ref, image.record.id, count);
    service->mark_fresh();
    return service;
}

std::unique_ptr<Replicas> existing_service(Context& context, const state::Environment& env,
                                           const std::vector<docker::ServiceRecord>& serving) {
    // serving: newest first.
    const auto& newest = serving.front();
    auto service = std::make_unique<Service>(
        context, env, newest.name, newest.label(state::label::k_version),
        newest.label(state::label::k_image_id), std::max(1, newest.replicas));
    std::vector<std::string> others;
    for (size_t i = 1; i < serving.size(); ++i) {
        others.push_back(serving[i].id);
    }
    service->also_remove(others);
    return service;
}

}  // namespace pallet::orchestrator::swarm
