#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "docker/docker_cli.h"
#include "docker/image_user.h"
#include "orchestrator/orchestrator.h"
#include "orchestrator/phase.h"

// Starting the containers of an application's phases. The standard wants /storage (and
// /static) writable in every phase whatever the image holds there, with the image's own user:
// for an image that does not run as root, each container is created, its writable mount
// points are handed to that user (docker cp of their directory entries, so docker resolves
// nothing on the host and nothing becomes world-writable), and only then started. Root images
// start with one `docker run`.
namespace pallet::orchestrator::engine {

// Starts `spec` of `image` in the background; name_taken when its name is taken (a lock).
docker::StartOutcome launch_detached(Context& context, const ResolvedImage& image,
                                     const docker::ContainerSpec& spec);

// Starts the replicas `specs` of `image` in the background (they share their named volumes).
void launch_replicas(Context& context, const ResolvedImage& image,
                     const std::vector<docker::ContainerSpec>& specs);
// Creates them, their mount points handed to the image's user, for a later start_containers.
void create_replicas(Context& context, const ResolvedImage& image,
                     const std::vector<docker::ContainerSpec>& specs);

// The uid and gid `image` runs as; nullopt for root. A user named rather than numbered is looked
// up in the image's own /etc/passwd (from a container made of it and removed).
std::optional<docker::Ids> image_user_ids(Context& context, const ResolvedImage& image);

// Runs `spec` in the foreground with live output and returns its exit status. With
// spec.remove_on_exit the container is gone when this returns.
int launch_attached(Context& context, const ResolvedImage& image,
                    const docker::ContainerSpec& spec);

// Runs the data job `job` of environment `env` (Orchestrator::run_data_job) in a container of
// `image` with `mounts`, on the environment's network, its output captured; removes it, also when
// cancelled. `script` is job.script with what the orchestrator puts before it.
int run_data_container(Context& context, const state::Environment& env, const DataJob& job,
                       const std::string& image, const std::string& script,
                       std::vector<docker::Mount> mounts, std::string& output);
// What the data jobs of one command need from the engine, asked once however many jobs run, and
// from lanes running at once: the image of a job without a service of its own (the router's),
// and the volume of an environment's backups on the engine addressed, made when missing
// (labelled: rm --volumes takes it), mounted at /backups.
class DataJobPlaces {
  public:
    std::string image(const std::function<std::string()>& resolve);
    docker::Mount backups(Context& context, const state::Environment& env);

  private:
    std::mutex m_mutex;
    std::string m_image;
    std::set<std::string> m_volumes;
};

}  // namespace pallet::orchestrator::engine
