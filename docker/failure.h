#pragma once

#include <string>

#include "util/error.h"

namespace pallet::docker {

// What went wrong in a docker command, as far as a use case needs to know. This is the one place
// that reads docker's (and the engine's) English: use cases ask for the kind.
enum class Failure {
    other,
    name_taken,     // a container of that name exists
    port_taken,     // a port to publish is held by something else
    exists,         // a network, volume or config of that name exists
    no_such_image,  // the image is not on the engine (or node)
};

// The kind of failure docker's words (its stderr, a task's error) tell.
Failure classify(const std::string& docker_text);

// A docker command that failed: its summary and docker's last words, and their kind.
class DockerError : public Error {
  public:
    DockerError(const std::string& what, Failure failure) : Error(what), m_failure(failure) {}
    Failure failure() const { return m_failure; }

  private:
    Failure m_failure;
};

}  // namespace pallet::docker
