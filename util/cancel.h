#pragma once

#include <chrono>

namespace pallet::cancel {

// Installs SIGINT/SIGTERM handlers and connects to DOCKER_CLI_PLUGIN_SOCKET when set.
// From then on any of them requests cancellation, once.
void install();

// True once cancellation was requested.
bool requested();

// A descriptor that becomes readable (and stays so) once cancellation is requested.
int wait_fd();

// 130 for SIGINT or a closed plugin socket, 143 for SIGTERM.
int exit_code();

// Requests cancellation as if SIGINT had arrived (tests, and the socket watcher).
void request();

// Forgets a request: tests that cancel leave the next test uncancelled.
void reset();

// The clock every wait of a use case is measured on: the steady clock, plus the time slept
// so far when time is virtual.
std::chrono::steady_clock::time_point now();

// Unit tests: sleep() passes its time at once (now() moves on by as much), so a poll loop and
// its deadlines run as they would, in no time. Off again with false.
void use_virtual_time(bool on);

// While one lives, a requested cancellation waits: commands run to their end and sleeps pass,
// so that the cleanup after a failure or a Ctrl-C does its work. The request stays, and acts
// again once the last one is gone.
class Shield {
  public:
    Shield();
    ~Shield();
    Shield(const Shield&) = delete;
    Shield& operator=(const Shield&) = delete;
};
bool shielded();

// Waits for `duration`, or throws Cancelled as soon as cancellation is requested (unshielded).
void sleep(std::chrono::milliseconds duration);

// Waits for `step`, or until `until` if that comes first (a poll that ends on its deadline,
// not up to a step after it).
void sleep_at_most(std::chrono::milliseconds step, std::chrono::steady_clock::time_point until);

}  // namespace pallet::cancel
