#include "phases/test.h"

#include <fmt/format.h>

#include "phases/phase_env.h"
#include "phases/services.h"
#include "util/error.h"
#include "state/labels.h"
#include "util/strings.h"

namespace pallet::phases {
namespace {

// What one test run created; removed when the run ends, however it ends, unless kept.
// The run's /storage and /static are anonymous volumes of its container: they go with it.
class TransientEnvironment {
public:
    TransientEnvironment(Context& context, std::string container)
        : m_context(context), m_container(std::move(container)) {}
    TransientEnvironment(const TransientEnvironment&) = delete;
    TransientEnvironment& operator=(const TransientEnvironment&) = delete;

    ~TransientEnvironment() {
        if (m_keep) {
            return;
        }
        if (!m_removed) {
            m_context.docker.remove_containers({m_container});
        }
        m_context.docker.remove_containers(m_services);
        m_context.docker.remove_networks(m_networks);
    }

    // A network of its own, for the run's services to be found by name.
    void create_network(const std::string& name, const docker::Labels& labels) {
        m_networks.push_back(name);
        m_context.docker.create_network(name, labels);
    }

    // Service containers (their data volumes are anonymous and go with them).
    void add_services(const std::vector<std::string>& names) {
        m_services.insert(m_services.end(), names.begin(), names.end());
    }

    // The container ended and docker removed it (--rm).
    void container_removed() { m_removed = true; }

    void keep() { m_keep = true; }

    std::string removal_hint() const {
        std::string hint = fmt::format("docker rm -f -v {}", m_container);
        for (const auto& name : m_services) {
            hint += " " + name;
        }
        if (!m_networks.empty()) {
            hint += " && docker network rm " + util::join(m_networks, " ");
        }
        return hint;
    }

private:
    Context& m_context;
    std::string m_container;
    bool m_keep = false;
    bool m_removed = false;
    std::vector<std::string> m_networks;
    std::vector<std::string> m_services;
};

// The run's services: those the image declares (required and optional), then --service.
ServiceMap test_services(const TestOptions& options, const ResolvedImage& image) {
    ServiceMap services;
    for (const auto& name : declared_services(image.record.labels, true)) {
        add_service_args({name}, services, "docker pallet test");
    }
    add_service_args(options.services, services, "docker pallet test");
    return services;
}

ServiceSite test_site(const TestOptions& options, const std::string& scope,
                      const std::string& network, const docker::Labels& labels) {
    ServiceSite site;
    site.scope = scope;
    site.network = network;
    site.labels = labels;
    site.keep_data = false;
    for (const auto& item : options.service_images) {
        auto eq = item.find('=');
        const services::ServiceKind* kind =
            eq == std::string::npos ? nullptr : services::find_kind(item.substr(0, eq));
        if (kind == nullptr || eq + 1 >= item.size()) {
            throw UsageError(fmt::format("expected --service-image NAME=IMAGE with a known "
                                         "service ({}), got \"{}\"",
                                         services::known_kinds(), item),
                             "docker pallet test");
        }
        site.image_overrides[kind->name] = item.substr(eq + 1);
    }
    if (options.service_timeout) {
        auto timeout = util::parse_duration(*options.service_timeout);
        if (!timeout || timeout->count() < 1) {
            throw UsageError(fmt::format("invalid --service-timeout \"{}\": use 60s, 2m...",
                                         *options.service_timeout),
                             "docker pallet test");
        }
        site.ready_timeout = *timeout;
    }
    return site;
}

}  // namespace

int run_test(Context& context, const TestOptions& options) {
    state::Environment env;
    parse_variables(options.env, options.env_files, env.variables);
    ResolvedImage image = resolve_image(context, options.image);

    const std::string run_id = state::random_id();
    env.name = "test-" + run_id;
    env.kind = "test";
    env.services = test_services(options, image);

    docker::ContainerSpec spec = phase_container(context, env, state::phase::k_test, image);
    spec.name = "pallet-test-" + run_id;
    spec.labels[state::label::k_test_run] = run_id;
    spec.command.insert(spec.command.end(), options.args.begin(), options.args.end());
    spec.remove_on_exit = !options.keep;
    // Fresh, private /storage and /static for every run.
    spec.mounts = {{"", "/storage", false}, {"", "/static", false}};
    // Without services there is nothing to find by name on a network of its own, and creating
    // and removing one costs more than the run itself: such runs use docker's default network.
    const bool needs_network = !env.services.empty();
    spec.network = needs_network ? state::network_name(env.name) : std::string();
    docker::Labels labels = state::base_labels(env.name, state::phase::k_test);
    labels[state::label::k_test_run] = run_id;
    const ServiceSite site = test_site(options, env.name, spec.network, labels);

    TransientEnvironment transient(context, spec.name);
    if (needs_network) {
        transient.create_network(spec.network, labels);
        std::vector<std::string> names;
        for (const auto& [kind, service] : env.services) {
            if (service.provisioned()) {
                names.push_back(service_container(env.name, kind));
            }
        }
        transient.add_services(names);
        provision_services(context, site, env.services);
    }
    context.step("testing {} in {}", options.image, spec.name);

    const int code = context.docker.run_attached(spec);
    if (options.keep) {
        transient.keep();
        fmt::print(stderr, "docker-pallet: kept the test container; remove it with:\n  {}\n",
                   transient.removal_hint());
    } else if (code != 125) {
        transient.container_removed();  // docker run --rm waits for the removal
    }
    if (code == 0) {
        context.step("tests of {} passed", options.image);
    } else {
        context.step("tests of {} failed (exit {})", options.image, code);
    }
    return code;
}

}  // namespace pallet::phases
