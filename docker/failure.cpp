#include "docker/failure.h"

namespace pallet::docker {

Failure classify(const std::string& text) {
    const auto has = [&text](const char* words) { return text.find(words) != std::string::npos; };
    if (has("is already in use") || has("Conflict.")) {
        return Failure::name_taken;
    }
    if (has("port is already allocated") || has("address already in use") ||
        has("already allocated")) {
        return Failure::port_taken;
    }
    if (has("already exists")) {
        return Failure::exists;
    }
    if (has("No such image") || has("pull access denied")) {
        return Failure::no_such_image;
    }
    return Failure::other;
}

}  // namespace pallet::docker
