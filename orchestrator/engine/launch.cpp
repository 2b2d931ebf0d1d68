#include "orchestrator/engine/launch.h"

#include <fmt/format.h>

#include "docker/image_user.h"
#include "state/labels.h"
#include "util/error.h"
#include "util/tar.h"

namespace pallet::orchestrator::engine {
namespace {

// One file of the created container, or "" when it has none.
std::string file_of(Context& context, const std::string& container, const std::string& path) {
    auto archive = context.docker.copy_archive_from(container, path);
    return archive ? util::first_file_in_tar(*archive).value_or("") : std::string();
}

// The ids of the image's user, its names looked up in the files of the created `container`.
docker::Ids ids_in(Context& context, const ResolvedImage& image, const std::string& container) {
    const docker::ImageUser user = docker::parse_image_user(image.record.user);
    const std::string passwd =
        user.needs_lookup() ? file_of(context, container, "/etc/passwd") : "";
    const std::string group =
        user.needs_lookup() && !user.group.empty() ? file_of(context, container, "/etc/group") : "";
    auto resolved = docker::resolve_ids(user, passwd, group);
    if (!resolved) {
        throw Error(
            fmt::format("the user {} that {} runs as is not in the image's /etc/passwd "
                        "or /etc/group; fix the image's USER",
                        image.record.user, image.ref));
    }
    return *resolved;
}

// Hands the writable mount points of the created `container` to the image's user.
// The mounts of `spec` the image's user cannot write until they are handed to it.
std::vector<const docker::Mount*> mounts_to_hand(const docker::ContainerSpec& spec) {
    std::vector<const docker::Mount*> mounts;
    for (const auto& mount : spec.mounts) {
        if (!mount.read_only && !mount.tmpfs && mount.target.size() > 1) {
            mounts.push_back(&mount);
        }
    }
    return mounts;
}

void hand_mounts_to_user(Context& context, const ResolvedImage& image,
                         const docker::ContainerSpec& spec, const std::string& container) {
    const auto mounts = mounts_to_hand(spec);
    if (mounts.empty()) {
        return;
    }
    const docker::Ids ids =
        context.docker.dry_run() ? docker::Ids{} : ids_in(context, image, container);
    std::vector<util::TarDirectory> directories;
    for (const auto* mount : mounts) {
        directories.push_back({mount->target.substr(1), 0755, ids.uid, ids.gid});
    }
    context.docker.copy_archive_into(container, "/", util::tar_of_directories(directories));
}

bool runs_as_root(const ResolvedImage& image) {
    return docker::parse_image_user(image.record.user).is_root();
}

// Creates `spec` and hands its mounts to the image's user; removes it again when that fails.
docker::StartOutcome create_prepared(Context& context, const ResolvedImage& image,
                                     const docker::ContainerSpec& spec) {
    if (context.docker.create_container(spec) == docker::StartOutcome::name_taken) {
        return docker::StartOutcome::name_taken;
    }
    try {
        hand_mounts_to_user(context, image, spec, spec.name);
    } catch (...) {
        context.docker.remove_containers({spec.name});
        throw;
    }
    return docker::StartOutcome::started;
}

}  // namespace

std::optional<docker::Ids> image_user_ids(Context& context, const ResolvedImage& image) {
    const docker::ImageUser user = docker::parse_image_user(image.record.user);
    if (user.is_root()) {
        return std::nullopt;
    }
    if (!user.needs_lookup() || context.docker.dry_run()) {
        return docker::resolve_ids(user, "", "");
    }
    // Names are the image's: read its files from a container made of it, never started.
    docker::ContainerSpec probe;
    probe.name = fmt::format("pallet-user-{}", state::random_id());
    probe.image = image.record.id.empty() ? image.ref : image.record.id;
    context.docker.create_container(probe);
    try {
        auto ids = ids_in(context, image, probe.name);
        context.docker.remove_containers({probe.name});
        return ids;
    } catch (...) {
        context.docker.remove_containers({probe.name});
        throw;
    }
}

docker::StartOutcome launch_detached(Context& context, const ResolvedImage& image,
                                     const docker::ContainerSpec& spec) {
    if (runs_as_root(image) || mounts_to_hand(spec).empty()) {
        return context.docker.run_detached(spec);
    }
    if (create_prepared(context, image, spec) == docker::StartOutcome::name_taken) {
        return docker::StartOutcome::name_taken;
    }
    context.docker.start_containers({spec.name});
    return docker::StartOutcome::started;
}

void launch_replicas(Context& context, const ResolvedImage& image,
                     const std::vector<docker::ContainerSpec>& specs) {
    if (specs.empty()) {
        return;
    }
    if (runs_as_root(image)) {
        for (const auto& spec : specs) {
            context.docker.run_detached(spec);
        }
        return;
    }
    create_replicas(context, image, specs);
    std::vector<std::string> names;
    for (const auto& spec : specs) {
        names.push_back(spec.name);
    }
    context.docker.start_containers(names);
}

void create_replicas(Context& context, const ResolvedImage& image,
                     const std::vector<docker::ContainerSpec>& specs) {
    if (specs.empty()) {
        return;
    }
    for (const auto& spec : specs) {
        context.docker.create_container(spec);
    }
    if (!runs_as_root(image)) {
        // Created after the others, the first one's mount points are those of every replica:
        // the named volumes are shared, and docker copies an image's directory over an empty
        // volume (with the directory's owner) whenever a container of it is created.
        hand_mounts_to_user(context, image, specs.front(), specs.front().name);
    }
}

int launch_attached(Context& context, const ResolvedImage& image,
                    const docker::ContainerSpec& spec) {
    if (runs_as_root(image) || mounts_to_hand(spec).empty()) {
        context.output_follows();
        return context.docker.run_attached(spec);
    }
    docker::ContainerSpec created = spec;
    created.remove_on_exit = false;  // removed below, so that it is gone when this returns
    create_prepared(context, image, created);
    int code = 0;
    try {
        context.output_follows();
        code = context.docker.start_attached(created.name, created.interactive);
    } catch (...) {
        if (spec.remove_on_exit) {
            context.docker.remove_containers({created.name});
        }
        throw;
    }
    if (spec.remove_on_exit) {
        context.docker.remove_containers({created.name});
    }
    return code;
}

int run_data_container(Context& context, const state::Environment& env, const DataJob& job,
                       const std::string& image, const std::string& script,
                       std::vector<docker::Mount> mounts, std::string& output) {
    docker::ContainerSpec spec;
    spec.name = fmt::format("pallet-{}-backup-{}", env.name, state::random_id());
    spec.image = image;
    spec.entrypoint = "sh";  // whatever the image's entrypoint would do
    spec.command = {"-c", script, "job"};
    spec.command.insert(spec.command.end(), job.args.begin(), job.args.end());
    spec.env = job.env;
    spec.labels = state::base_labels(env.name, state::phase::k_backup);
    spec.network = state::network_name(env.name);
    spec.mounts = std::move(mounts);
    spec.remove_on_exit = true;
    try {
        if (!job.input.empty() || job.output_to_stdout) {
            return context.docker.run_streamed(spec, job.input, job.output_to_stdout, output,
                                               job.output_file);
        }
        return context.docker.run_captured(spec, output);
    } catch (...) {
        context.docker.remove_containers({spec.name});
        throw;
    }
}

std::string DataJobPlaces::image(const std::function<std::string()>& resolve) {
    const std::lock_guard lock(m_mutex);
    if (m_image.empty()) {
        m_image = resolve();
    }
    return m_image;
}

docker::Mount DataJobPlaces::backups(Context& context, const state::Environment& env) {
    const std::string volume = state::backups_volume(env.name);
    const std::lock_guard lock(m_mutex);
    if (m_volumes.count(volume) == 0) {
        context.docker.create_volume(volume,
                                     state::base_labels(env.name, state::phase::k_environment));
        m_volumes.insert(volume);
    }
    return {volume, "/backups", false};
}

}  // namespace pallet::orchestrator::engine
