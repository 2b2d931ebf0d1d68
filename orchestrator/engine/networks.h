#pragma once

#include <string>

#include "docker/docker_cli.h"
#include "orchestrator/context.h"
#include "util/subnets.h"

// Environments' networks on an engine: each a bridge network of its own, on a /24 of the plugin's
// pool (PALLET_NETWORK_POOL, network-pool under plugins.pallet; 10.213.0.0/16 when unset), not
// of docker's default address pools, which hold about 30 networks. A subnet is free when no
// docker network and no route of the engine's host overlaps it; docker refuses a second network
// on one subnet, so two clients never both take it.
namespace pallet::orchestrator::engine {

constexpr const char* k_default_network_pool = "10.213.0.0/16";
constexpr int k_environment_subnet_bits = 24;

// The pool from the settings; throws an Error naming the setting when it is malformed.
util::Subnet network_pool(const Context& context);

// Throws, saying what to do, when no docker network leaves a subnet of the pool free (env
// create's check; the host's routes are read when the network is made).
void check_network_pool(Context& context);

// Makes the network `name` on a free subnet of the pool; an Error saying what to do when there
// is none (then nothing was made). One that exists already (made concurrently) is taken.
void create_environment_network(Context& context, const std::string& name,
                                const docker::Labels& labels);

}  // namespace pallet::orchestrator::engine
