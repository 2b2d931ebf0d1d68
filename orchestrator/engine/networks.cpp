#include "orchestrator/engine/networks.h"

#include <fmt/format.h>

#include <vector>

#include "docker/failure.h"
#include "orchestrator/router_nginx.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/strings.h"

namespace pallet::orchestrator::engine {
namespace {

std::string last_line(const std::string& output) {
    const auto lines = util::nonempty_lines(output);
    return lines.empty() ? std::string("no output") : lines.back();
}

std::string pool_setting(const Context& context) {
    return context.setting ? context.setting("network-pool").value_or(k_default_network_pool)
                           : std::string(k_default_network_pool);
}

// Docker's networks, and the routes of its host when `routes` (a container on the host's
// network reads them: the engine's host may be another machine).
std::vector<util::Subnet> taken_subnets(Context& context, bool routes) {
    std::vector<util::Subnet> taken;
    for (const auto& text : context.docker.network_subnets()) {
        if (const auto subnet = util::parse_subnet(text)) {
            taken.push_back(*subnet);
        }
    }
    if (routes && !context.docker.dry_run()) {  // a container: not under --dry-run
        docker::ContainerSpec spec;
        spec.name = "pallet-routes-" + state::random_id();
        spec.image = router_image(context);
        spec.entrypoint = "cat";
        spec.command = {"/proc/net/route"};
        spec.network = "host";
        spec.remove_on_exit = true;
        std::string output;
        if (context.docker.run_captured(spec, output) != 0) {
            throw Error(
                fmt::format("could not read the routes of the engine's host (a container "
                            "of {} on the host's network): {}",
                            spec.image, last_line(output)));
        }
        const auto host = util::parse_proc_routes(output);
        taken.insert(taken.end(), host.begin(), host.end());
    }
    return taken;
}

Error pool_full(const Context& context, const util::Subnet& pool, const std::string& name) {
    return Error(fmt::format(
        "no address range is left for {}'s network: the pool {} ({} networks of /{}) is taken "
        "by docker's networks and the routes of the engine's host. Remove environments you no "
        "longer use ({pallet} env ls; {pallet} rm ENV --volumes, or {pallet} env prune), or give "
        "a larger private range that nothing else uses: PALLET_NETWORK_POOL=10.208.0.0/12 (or "
        "network-pool under plugins.pallet in docker's config.json)",
        name, pool.text(), util::subnet_count(pool, k_environment_subnet_bits),
        k_environment_subnet_bits, fmt::arg("pallet", context.command("pallet"))));
}

}  // namespace

util::Subnet network_pool(const Context& context) {
    const std::string text = pool_setting(context);
    const auto pool = util::parse_subnet(text);
    if (!pool || pool->prefix < 8 || pool->prefix > k_environment_subnet_bits) {
        throw Error(fmt::format(
            "PALLET_NETWORK_POOL (network-pool) \"{}\": give an IPv4 range from a /8 to a /{}, "
            "its host bits zero, such as {} (each environment's network takes a /{} of it)",
            text, k_environment_subnet_bits, k_default_network_pool, k_environment_subnet_bits));
    }
    return *pool;
}

void check_network_pool(Context& context) {
    const util::Subnet pool = network_pool(context);
    if (!util::free_subnet(pool, k_environment_subnet_bits, taken_subnets(context, false))) {
        throw pool_full(context, pool, "a new environment");
    }
}

void create_environment_network(Context& context, const std::string& name,
                                const docker::Labels& labels) {
    const util::Subnet pool = network_pool(context);
    std::vector<util::Subnet> taken = taken_subnets(context, true);
    std::vector<std::string> refused;  // taken by another client meanwhile
    for (int attempt = 0; attempt < 8; ++attempt) {
        const auto subnet = util::free_subnet(pool, k_environment_subnet_bits, taken, refused);
        if (!subnet) {
            throw pool_full(context, pool, name);
        }
        try {
            context.docker.create_network(name, labels, subnet->text());
            return;
        } catch (const docker::DockerError& e) {
            if (e.failure() == docker::Failure::exists) {
                return;  // made concurrently, by another command for the same environment
            }
            const std::string why = e.what();
            if (why.find("overlaps") == std::string::npos) {
                throw;
            }
            refused.push_back(subnet->text());
            taken = taken_subnets(context, false);
        }
    }
    throw pool_full(context, pool, name);
}

}  // namespace pallet::orchestrator::engine
