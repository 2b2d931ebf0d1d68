#pragma once

#include <string_view>

namespace pallet::docker {

// True for what `docker run` takes as an image: a reference in the distribution grammar
// ([HOST[:PORT]/]NAME[:TAG][@DIGEST], lowercase name components) or an image ID (sha256:...,
// or its hex).
bool is_image_reference(std::string_view text);

}  // namespace pallet::docker
