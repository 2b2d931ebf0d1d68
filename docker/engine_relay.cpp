#include "docker/engine_relay.h"

#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "docker/unix_socket.h"
#include "util/error.h"

namespace pallet::docker {
namespace {

// Connections to the engine kept open ahead of the docker processes that will want them.
constexpr size_t k_ahead = 2;
// A request's head is at most this long (docker's CLI sends a few hundred bytes).
constexpr size_t k_max_head = 64 * 1024;

constexpr std::string_view k_ping_request =
    "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: docker-pallet\r\n\r\n";

// The relay's threads leave signals (Ctrl-C) to the command's main thread.
void block_signals() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
}

// Reads from `fd` into `buffer` until it holds a whole head ("\r\n\r\n"); false at the end of
// the stream, on an error or when no head ends within k_max_head.
bool read_head(int fd, std::string& buffer) {
    char chunk[4096];
    while (buffer.find("\r\n\r\n") == std::string::npos) {
        if (buffer.size() > k_max_head) {
            return false;
        }
        const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return false;
        }
        buffer.append(chunk, static_cast<size_t>(got));
    }
    return true;
}

bool starts_with_ping(const std::string& buffer) {
    return buffer.rfind("HEAD /_ping HTTP/1.1\r\n", 0) == 0;
}

// Copies `from` to `to` until `from` ends, then ends `to`'s writing half.
void pump(int from, int to) {
    char chunk[64 * 1024];
    while (true) {
        const ssize_t got = ::recv(from, chunk, sizeof chunk, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0 || !send_all(to, std::string_view(chunk, static_cast<size_t>(got)))) {
            break;
        }
    }
    ::shutdown(to, SHUT_WR);
}

}  // namespace

EngineRelay::EngineRelay(std::string upstream, std::string local)
    : m_upstream(std::move(upstream)), m_local(std::move(local)) {}

std::unique_ptr<EngineRelay> EngineRelay::start(const std::string& upstream,
                                                const std::string& local) {
    std::unique_ptr<EngineRelay> relay(new EngineRelay(upstream, local));
    const auto address = unix_address(local);
    if (!address) {
        throw Error(fmt::format("the socket path {} is too long", local));
    }
    relay->m_listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::unlink(local.c_str());
    if (relay->m_listener < 0 ||
        ::bind(relay->m_listener, reinterpret_cast<const sockaddr*>(&*address), sizeof *address) !=
            0 ||
        ::listen(relay->m_listener, 64) != 0) {
        throw Error(fmt::format("cannot listen on {}: {}", local, std::strerror(errno)));
    }
    relay->m_acceptor = std::thread([r = relay.get()] { r->accept_loop(); });
    relay->m_filler = std::thread([r = relay.get()] { r->fill_loop(); });
    return relay;
}

EngineRelay::~EngineRelay() {
    {
        // Every relayed connection ends (their reads return), and no new one starts.
        const std::lock_guard lock(m_mutex);
        m_stopping = true;
        for (int fd : m_open) {
            ::shutdown(fd, SHUT_RDWR);
        }
    }
    m_changed.notify_all();
    if (m_listener >= 0) {
        ::shutdown(m_listener, SHUT_RDWR);  // accept returns
    }
    for (std::thread* thread : {&m_acceptor, &m_filler}) {
        if (thread->joinable()) {
            thread->join();
        }
    }
    for (auto& thread : m_relays) {
        thread.join();
    }
    for (int fd : m_ready) {
        ::close(fd);
    }
    if (m_listener >= 0) {
        ::close(m_listener);
        ::unlink(m_local.c_str());
    }
}

bool EngineRelay::track(int fd) {
    const std::lock_guard lock(m_mutex);
    if (m_stopping) {
        return false;
    }
    m_open.push_back(fd);
    return true;
}

void EngineRelay::untrack_and_close(int fd) {
    const std::lock_guard lock(m_mutex);
    m_open.erase(std::remove(m_open.begin(), m_open.end(), fd), m_open.end());
    ::close(fd);
}

bool EngineRelay::engine_answers() const {
    const std::lock_guard lock(m_mutex);
    return !m_pinged || m_ping.has_value();
}

int EngineRelay::pings_answered() const {
    const std::lock_guard lock(m_mutex);
    return m_pings_answered;
}

int EngineRelay::connections() const {
    const std::lock_guard lock(m_mutex);
    return m_connections;
}

int EngineRelay::connect_upstream() const { return connect_unix(m_upstream); }

void EngineRelay::fill_loop() {
    block_signals();
    // The engine's answer to the ping every docker process sends first, asked once, while the
    // connections opened ahead are on their way too (a channel each: their waits overlap).
    int ping = connect_upstream();
    if (ping >= 0 && !track(ping)) {
        ::close(ping);
        ping = -1;
    }
    const bool asked = ping >= 0 && send_all(ping, k_ping_request);
    std::unique_lock lock(m_mutex);
    while (m_ready.size() < k_ahead) {
        const int fd = connect_upstream();
        if (fd < 0) {
            break;
        }
        m_ready.push_back(fd);
    }
    lock.unlock();
    std::string head;
    if (asked && read_head(ping, head) && head.rfind("HTTP/1.1 200 ", 0) == 0) {
        m_ping = head.substr(0, head.find("\r\n\r\n") + 4);
    }
    if (ping >= 0) {
        untrack_and_close(ping);
    }
    lock.lock();
    m_pinged = true;
    m_changed.notify_all();
    while (!m_stopping) {
        m_changed.wait(lock, [this] { return m_stopping || m_ready.size() < k_ahead; });
        while (!m_stopping && m_ready.size() < k_ahead) {
            lock.unlock();
            const int fd = connect_upstream();
            lock.lock();
            if (fd < 0) {
                // Nothing listens there now: each connection tries for itself.
                m_changed.wait(lock, [this] { return m_stopping; });
                return;
            }
            m_ready.push_back(fd);
        }
    }
}

int EngineRelay::take_upstream() {
    int fd = -1;
    {
        const std::lock_guard lock(m_mutex);
        while (fd < 0 && !m_ready.empty()) {
            fd = m_ready.front();
            m_ready.erase(m_ready.begin());
            // One the far side closed while it waited (readable: its end) is no use.
            pollfd state{fd, POLLIN, 0};
            if (::poll(&state, 1, 0) != 0) {
                ::close(fd);
                fd = -1;
            }
        }
    }
    m_changed.notify_all();
    return fd >= 0 ? fd : connect_upstream();
}

std::optional<std::string> EngineRelay::ping_answer() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return m_pinged || m_stopping; });
    if (m_ping) {
        ++m_pings_answered;
    }
    return m_ping;
}

void EngineRelay::accept_loop() {
    block_signals();
    while (true) {
        const int client = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            return;  // shut down: the relay ends
        }
        const std::lock_guard lock(m_mutex);
        if (m_stopping) {
            ::close(client);
            return;
        }
        ++m_connections;
        m_open.push_back(client);
        m_relays.emplace_back([this, client] { relay(client); });
    }
}

void EngineRelay::relay(int client) {
    block_signals();
    std::string buffer;
    // Pings at the start of the connection are answered here while there is an answer.
    bool ended = false;
    while (true) {
        if (!read_head(client, buffer)) {
            ended = buffer.empty();
            break;
        }
        if (!starts_with_ping(buffer)) {
            break;
        }
        const auto answer = ping_answer();
        if (!answer) {
            break;
        }
        if (!send_all(client, *answer)) {
            ended = true;
            break;
        }
        buffer.erase(0, buffer.find("\r\n\r\n") + 4);
        if (buffer.empty()) {
            // The next request; the relay's own reading ends here when the client is done.
            char byte = 0;
            const ssize_t got = ::recv(client, &byte, 1, MSG_PEEK);
            if (got <= 0) {
                ended = true;
                break;
            }
        }
    }
    int upstream = ended ? -1 : take_upstream();
    if (upstream >= 0 && !track(upstream)) {
        ::close(upstream);
        upstream = -1;
    }
    if (upstream >= 0) {
        if (send_all(upstream, buffer)) {
            std::thread back([upstream, client] { pump(upstream, client); });
            pump(client, upstream);
            back.join();
        }
        untrack_and_close(upstream);
    }
    untrack_and_close(client);
}

}  // namespace pallet::docker
