#include "util/cancel.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "util/error.h"

namespace pallet::cancel {
namespace {

std::atomic<int> g_signal{0};  // the first cancelling signal; SIGINT stands for the socket too
int g_pipe[2] = {-1, -1};

void make_pipe() {
    static const bool made = [] {
        if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
            std::abort();
        }
        return true;
    }();
    (void)made;
}

void trigger(int signal_number) {
    int expected = 0;
    if (g_signal.compare_exchange_strong(expected, signal_number)) {
        const char byte = 1;
        [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &byte, 1);
    }
}

extern "C" void on_signal(int signal_number) { trigger(signal_number); }

// Connects to the docker CLI's plugin socket; its EOF means the user cancelled.
void watch_plugin_socket() {
    const char* name = std::getenv("DOCKER_CLI_PLUGIN_SOCKET");
    if (name == nullptr || *name == '\0') {
        return;
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string path = name;
    socklen_t length = 0;
    if (path.front() == '@') {
        path.erase(0, 1);
        if (path.size() + 1 > sizeof(address.sun_path)) {
            ::close(fd);
            return;
        }
        address.sun_path[0] = '\0';
        std::memcpy(address.sun_path + 1, path.data(), path.size());
        length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path.size());
    } else {
        if (path.size() >= sizeof(address.sun_path)) {
            ::close(fd);
            return;
        }
        std::memcpy(address.sun_path, path.data(), path.size());
        length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
        ::close(fd);
        return;
    }
    std::thread([fd] {
        char buffer[64];
        while (true) {
            ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n > 0) {
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        trigger(SIGINT);
    }).detach();
}

}  // namespace

void install() {
    make_pipe();
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    const bool under_docker = std::getenv("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND") != nullptr;
    const bool has_socket = std::getenv("DOCKER_CLI_PLUGIN_SOCKET") != nullptr;
    watch_plugin_socket();
    if (under_docker && !has_socket) {
        // Older docker CLIs have no socket: when the CLI dies, so should we, in order.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() == 1) {
            trigger(SIGTERM);
        }
    }
}

bool requested() { return g_signal.load() != 0; }

int wait_fd() {
    make_pipe();
    return g_pipe[0];
}

int exit_code() { return g_signal.load() == SIGTERM ? k_exit_sigterm : k_exit_sigint; }

namespace {
std::atomic<bool> g_virtual{false};
std::atomic<std::int64_t> g_slept_ns{0};  // virtual time passed so far
}  // namespace

std::chrono::steady_clock::time_point now() {
    return std::chrono::steady_clock::now() + std::chrono::nanoseconds(g_slept_ns.load());
}

void use_virtual_time(bool on) { g_virtual = on; }

void sleep_at_most(std::chrono::milliseconds step, std::chrono::steady_clock::time_point until) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now());
    sleep(std::max(std::chrono::milliseconds(0), std::min(step, left)));
}

namespace {
std::atomic<int> g_shields{0};
}  // namespace

Shield::Shield() { ++g_shields; }
Shield::~Shield() { --g_shields; }
bool shielded() { return g_shields.load() > 0; }

void sleep(std::chrono::milliseconds duration) {
    if (g_virtual) {
        if (requested() && !shielded()) {
            throw Cancelled();
        }
        g_slept_ns += std::chrono::nanoseconds(duration).count();
        return;
    }
    const auto end = std::chrono::steady_clock::now() + duration;
    while (true) {
        if (requested() && !shielded()) {
            throw Cancelled();
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return;
        }
        if (requested()) {  // shielded: the descriptor stays readable, a poll would not wait
            std::this_thread::sleep_for(left);
            return;
        }
        pollfd fd{wait_fd(), POLLIN, 0};
        ::poll(&fd, 1, static_cast<int>(left.count()));
    }
}

void request() {
    make_pipe();
    trigger(SIGINT);
}

void reset() {
    make_pipe();
    char byte = 0;
    while (::read(g_pipe[0], &byte, 1) == 1) {
    }
    g_signal.store(0);
}

}  // namespace pallet::cancel
