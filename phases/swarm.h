#pragma once

#include <optional>
#include <string>

#include "phases/context.h"
#include "phases/deploy.h"
#include "phases/phase_env.h"
#include "phases/serve.h"
#include "state/environments.h"

// Environments on a Docker swarm (env create --orchestrator swarm): the same commands, the same
// rules, with swarm objects. The records (settings, deploy results, serve events, locks) are
// swarm configs, seen by every manager; deploy runs as a replicated job; each served version is a
// service (dnsrr: no virtual IP, no IPVS) behind the environment's router, an nginx service
// published in host mode on one node; /storage and /static are directories of a path every node
// shares (an NFS mount). Every wait has a timeout and says what it waits for.
namespace pallet::phases::swarm {

// The swarm environment of that name, if there is one (its record is a swarm config).
std::optional<state::Environment> find(Context& context, const std::string& env);

// Refuses (with the command that makes one) an engine that is not a swarm manager.
void require_manager(Context& context);

// Checks what a swarm environment needs before it is created: a manager, a shared path on every
// node (a global job looks; a node without it is named), a port for its router.
void check_new_environment(Context& context, const state::Environment& env);

int deploy(Context& context, const state::Environment& env, const DeployOptions& options,
           const ResolvedImage& image);

int serve(Context& context, const state::Environment& env, const ServeOptions& options,
          const ResolvedImage* known);

int scale(Context& context, const state::Environment& env, int replicas);

int stop(Context& context, const state::Environment& env);

// The output of the environment's running or last deploy, or of the service it serves.
int logs(Context& context, const state::Environment& env, const std::string& phase, bool follow);

// Removes the environment's services and records; with `volumes`, DIR/ENV of the shared path too.
int remove(Context& context, const state::Environment& env, bool volumes);

// The version a deploy job of the environment runs now ("" when none runs).
std::string running_deploy(Context& context, const state::Environment& env);

}  // namespace pallet::phases::swarm
