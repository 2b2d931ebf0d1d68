#include "phases/test.h"

#include <fmt/format.h>

#include "phases/phase_env.h"
#include "state/labels.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

// What one test run created; removed when the run ends, however it ends, unless kept.
class TransientEnvironment {
public:
    TransientEnvironment(Context& context, std::string run_id)
        : m_context(context), m_run_id(std::move(run_id)) {}
    TransientEnvironment(const TransientEnvironment&) = delete;
    TransientEnvironment& operator=(const TransientEnvironment&) = delete;

    ~TransientEnvironment() {
        if (m_keep) {
            return;
        }
        m_context.docker.remove_containers(m_containers);
        m_context.docker.remove_networks(m_networks);
        m_context.docker.remove_volumes(m_volumes);
    }

    void create(const state::Environment& env, const docker::Labels& labels) {
        m_networks.push_back(state::network_name(env.name));
        m_context.docker.create_network(m_networks.back(), labels);
        for (const auto& volume : {state::storage_volume(env.name), state::static_volume(env.name)}) {
            m_volumes.push_back(volume);
            m_context.docker.create_volume(volume, labels);
        }
    }

    void add_container(const std::string& name) { m_containers.push_back(name); }

    void keep() { m_keep = true; }

    std::string removal_hint() const {
        return fmt::format("docker rm -f {} && docker network rm {} && docker volume rm {}",
                           util::join(m_containers, " "), util::join(m_networks, " "),
                           util::join(m_volumes, " "));
    }

private:
    Context& m_context;
    std::string m_run_id;
    bool m_keep = false;
    std::vector<std::string> m_containers;
    std::vector<std::string> m_networks;
    std::vector<std::string> m_volumes;
};

}  // namespace

int run_test(Context& context, const TestOptions& options) {
    state::Environment env;
    parse_variables(options.env, options.env_files, env.variables);
    ResolvedImage image = resolve_image(context, options.image);

    const std::string run_id = state::random_id();
    env.name = "test-" + run_id;
    env.kind = "test";
    docker::Labels labels = state::base_labels(env.name, state::phase::k_test);
    labels[state::label::k_test_run] = run_id;

    TransientEnvironment transient(context, run_id);
    transient.create(env, labels);

    docker::ContainerSpec spec = phase_container(context, env, state::phase::k_test, image);
    spec.name = "pallet-test-" + run_id;
    spec.labels[state::label::k_test_run] = run_id;
    spec.command.insert(spec.command.end(), options.args.begin(), options.args.end());
    spec.remove_on_exit = !options.keep;
    transient.add_container(spec.name);
    context.step("testing {} in {}", options.image, spec.name);

    const int code = context.docker.run_attached(spec);
    if (options.keep) {
        transient.keep();
        fmt::print(stderr, "docker-pallet: kept the test environment; remove it with:\n  {}\n",
                   transient.removal_hint());
    }
    if (code == 0) {
        context.step("tests of {} passed", options.image);
    } else {
        context.step("tests of {} failed (exit {})", options.image, code);
    }
    return code;
}

}  // namespace pallet::phases
