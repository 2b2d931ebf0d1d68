#include "phases/test.h"

#include <fmt/format.h>

#include <algorithm>

#include "docker/image_user.h"
#include "docker/reference.h"
#include "orchestrator/engine/container.h"
#include "orchestrator/engine/launch.h"
#include "orchestrator/engine/services.h"
#include "phases/phase_env.h"
#include "phases/run.h"
#include "phases/services.h"
#include "state/environments.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

// A test run is containers on the engine addressed, always (a swarm has no test phase): it uses
// the engine's own building blocks.
namespace pallet::phases {
namespace {

using orchestrator::service_container;
using orchestrator::services_variables;
using orchestrator::engine::image_user_ids;
using orchestrator::engine::launch_attached;
using orchestrator::engine::phase_container;
using orchestrator::engine::provision_services;
using orchestrator::engine::release_services;
using orchestrator::engine::ServiceSite;

// What one test run created; removed when the run ends, however it ends, unless kept.
// The run's /storage and /static are anonymous volumes (or tmpfs) of its container: they go
// with it.
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
        if (m_shared != nullptr) {
            release_services(m_context, m_shared_site, *m_shared);
        }
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

    // What the run got from warm, shared services is dropped when it ends. `services` must
    // outlive this object (it learns the services' admin passwords while they are provided).
    void release_on_exit(const ServiceSite& site, const ServiceMap& services) {
        m_shared_site = site;
        m_shared = &services;
    }

    std::string removal_hint() const {
        std::string hint = m_context.command(fmt::format("rm -f -v {}", m_container));
        for (const auto& name : m_services) {
            hint += " " + name;
        }
        if (!m_networks.empty()) {
            hint += " && " + m_context.command("network rm " + util::join(m_networks, " "));
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
    ServiceSite m_shared_site;
    const ServiceMap* m_shared = nullptr;
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
    site.test_run = true;
    for (const auto& item : options.service_images) {
        auto eq = item.find('=');
        const services::ServiceKind* kind =
            eq == std::string::npos ? nullptr : services::find_kind(item.substr(0, eq));
        if (kind == nullptr || eq + 1 >= item.size() ||
            !docker::is_image_reference(item.substr(eq + 1))) {
            throw UsageError(fmt::format("expected --service-image NAME=IMAGE with a known "
                                         "service ({}) and an image reference, got \"{}\"",
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

// Warm services are kept per user: "pallet-warm-<user>-postgres" on "pallet-warm-<user>".
std::string warm_scope(const std::string& user) {
    std::string scope = "warm-";
    for (char c : user) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        scope += keep ? c : (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : '-');
    }
    return scope;
}

}  // namespace

int run_test(Context& context, const TestOptions& options) {
    // Everything given on the command line is checked before the engine is asked anything.
    state::Environment env;
    parse_variables(options.env, options.env_files, env.variables);
    const std::string run_id = state::random_id();
    env.name = "test-" + run_id;
    env.kind = "test";
    docker::Labels labels = state::base_labels(env.name, state::phase::k_test);
    labels[state::label::k_test_run] = run_id;
    ServiceSite site = test_site(options, env.name, state::network_name(env.name), labels);
    add_service_args(options.services, env.services, "docker pallet test");

    ResolvedImage image = resolve_image(context, options.image);
    env.services = test_services(options, image);
    state::learn_secrets(context.docker.redactor(), env);
    const bool reuse = options.reuse_services &&
                       std::any_of(env.services.begin(), env.services.end(), [](const auto& item) {
                           return item.second.provisioned() && services::is_shareable(item.first);
                       });

    // Without services there is nothing to find by name on a network of its own, and creating
    // and removing one costs more than the run itself: such runs use docker's default network.
    // With --reuse-services the servers that can be shared are warm (one per user, kept); the
    // others are the run's own, on the same network, and go with it.
    ServiceMap shared;
    ServiceMap own;
    for (const auto& [kind, service] : env.services) {
        (reuse && service.provisioned() && services::is_shareable(kind) ? shared : own)[kind] =
            service;
    }
    ServiceSite warm = site;
    if (reuse) {
        warm.host_scope = warm_scope(context.actor_user);
        warm.network = "pallet-" + warm.host_scope;
        warm.labels = {{state::label::k_managed, "true"},
                       {state::label::k_phase, state::phase::k_service},
                       {state::label::k_warm, warm.host_scope}};
        warm.ensure_network = true;
        site.network = warm.network;
    }

    const std::string container = "pallet-test-" + run_id;
    TransientEnvironment transient(context, container);
    if (!env.services.empty()) {
        if (!reuse) {
            transient.create_network(site.network, labels);
        }
        std::vector<std::string> names;
        for (const auto& [kind, service] : own) {
            if (service.provisioned()) {
                names.push_back(service_container(env.name, kind));
            }
        }
        transient.add_services(names);
        if (!shared.empty()) {
            transient.release_on_exit(warm, shared);
            provision_services(context, warm, shared);  // leases a Redis database, among others
        }
        provision_services(context, site, own);
    }

    state::Environment without_services = env;
    without_services.services.clear();
    docker::ContainerSpec spec =
        phase_container(context, without_services, state::phase::k_test, image);
    auto variables = services_variables(env.name, env.name, own);
    for (auto& item : services_variables(warm.host_scope, env.name, shared)) {
        variables.push_back(item);
    }
    for (auto& [key, value] : variables) {
        if (env.variables.count(key) == 0) {
            spec.env.emplace_back(key, value);
        }
    }
    spec.name = container;
    spec.labels[state::label::k_test_run] = run_id;
    const bool one_off = !options.command.empty();
    if (one_off) {
        spec.command = options.command;
    } else {
        spec.command.insert(spec.command.end(), options.args.begin(), options.args.end());
    }
    spec.interactive = options.interactive;
    spec.tty = options.tty;
    spec.remove_on_exit = !options.keep;
    // Fresh, private /storage and /static for every run. An image that runs as another user,
    // given as numbers, gets them as tmpfs of that user (no step before the run to hand volumes
    // to it), unless the container is kept to be looked at: a tmpfs would not keep what it
    // wrote. A user's name needs the image's /etc/passwd: its volumes are handed over.
    const bool numbers = !docker::parse_image_user(image.record.user).needs_lookup();
    const auto ids = numbers && !options.keep ? image_user_ids(context, image) : std::nullopt;
    if (ids) {
        spec.mounts = {docker::Mount::scratch("/storage", *ids),
                       docker::Mount::scratch("/static", *ids)};
    } else {
        spec.mounts = {{"", "/storage", false}, {"", "/static", false}};
    }
    spec.network = env.services.empty() ? std::string() : site.network;
    const std::string what =
        one_off ? util::shell_join(options.command) : "tests of " + options.image;
    context.step("{} {} in {}", one_off ? "running" : "testing",
                 one_off ? fmt::format("{} with {}", what, options.image) : options.image,
                 spec.name);

    const int code = launch_attached(context, image, spec);
    if (context.docker.dry_run()) {
        return 0;  // nothing ran: no outcome to tell
    }
    if (options.keep) {
        transient.keep();
        context.note("docker-pallet: kept the test container; remove it with:\n  {}",
                     transient.removal_hint());
    } else if (code != 125) {
        transient.container_removed();  // docker run --rm waits for the removal
    }
    if (one_off) {
        explain_exit(context, what, image.ref, code);
    } else if (code == 0) {
        context.outcome("tests of {} passed", options.image);
    } else {
        context.outcome("tests of {} failed (exit {})", options.image, code);
    }
    return code;
}

}  // namespace pallet::phases
