#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pallet::docker {

// True for what `docker run` takes as an image: a reference in the distribution grammar
// ([HOST[:PORT]/]NAME[:TAG][@DIGEST], lowercase name components) or an image ID (sha256:...,
// or its hex).
bool is_image_reference(std::string_view text);

// The repository of a reference: without its tag and digest ("reg:5000/app:1" -> "reg:5000/app").
std::string repository_of(std::string_view reference);

// What every node of a swarm runs for an image the engine addressed knows as `reference` with
// `id` and `repo_digests`: REPOSITORY@DIGEST when the image came from (or went to) a registry
// under that repository, so that nodes pull exactly these bytes; otherwise its ID, which a node
// runs only if it has exactly this image (not another build under the same name).
std::string pinned_image(std::string_view reference, const std::string& id,
                         const std::vector<std::string>& repo_digests);

}  // namespace pallet::docker
