// The relay between docker processes and an engine's forwarded socket, against a small engine
// of this test's own on a unix socket: what reaches the engine, what the client gets back.
#include "docker/engine_relay.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "util/private_dir.h"

namespace pallet::docker {
namespace {

int connect_to(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
}

std::string read_all(int fd) {
    std::string out;
    char chunk[4096];
    ssize_t got = 0;
    while ((got = ::recv(fd, chunk, sizeof chunk, 0)) > 0) {
        out.append(chunk, static_cast<size_t>(got));
    }
    return out;
}

void send_text(int fd, const std::string& text) {
    ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
}

// An engine that answers a ping with a fixed head and anything else by echoing it back, "ECHO:"
// first, once the client has ended its writing; it counts the pings it was asked.
class TinyEngine {
  public:
    explicit TinyEngine(std::string path) : m_path(std::move(path)) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, m_path.c_str(), m_path.size() + 1);
        m_listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
        EXPECT_EQ(::bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        EXPECT_EQ(::listen(m_listener, 16), 0);
        m_thread = std::thread([this] { serve(); });
    }
    ~TinyEngine() {
        ::shutdown(m_listener, SHUT_RDWR);
        m_thread.join();
        for (auto& thread : m_connections) {
            thread.join();
        }
        ::close(m_listener);
    }
    std::atomic<int> pings{0};
    std::atomic<int> connections{0};

  private:
    void serve() {
        while (true) {
            const int fd = ::accept(m_listener, nullptr, nullptr);
            if (fd < 0) {
                return;
            }
            ++connections;
            m_connections.emplace_back([this, fd] {
                std::string got;
                char chunk[4096];
                ssize_t n = 0;
                while ((n = ::recv(fd, chunk, sizeof chunk, 0)) > 0) {
                    got.append(chunk, static_cast<size_t>(n));
                    if (got ==
                        "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: "
                        "docker-pallet\r\n\r\n") {
                        ++pings;
                        const std::string answer =
                            "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nOstype: linux\r\n"
                            "Content-Length: 0\r\n\r\n";
                        ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
                        got.clear();
                    }
                }
                const std::string answer = "ECHO:" + got;
                ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
                ::close(fd);
            });
        }
    }
    std::string m_path;
    int m_listener = -1;
    std::thread m_thread;
    std::vector<std::thread> m_connections;
};

constexpr const char* k_client_ping =
    "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28\r\n\r\n";

TEST(EngineRelay, AnswersEachConnectionsPingOnceAskedAndRelaysTheRestUntouched) {
    util::PrivateDirectory directory;
    TinyEngine engine(directory.path() + "/engine.sock");
    auto relay =
        EngineRelay::start(directory.path() + "/engine.sock", directory.path() + "/relay.sock");
    for (int i = 0; i < 3; ++i) {
        const int client = connect_to(relay->socket_path());
        send_text(client, k_client_ping);
        std::string head(200, '\0');
        const ssize_t got = ::recv(client, head.data(), head.size(), 0);
        ASSERT_GT(got, 0);
        head.resize(static_cast<size_t>(got));
        EXPECT_EQ(head,
                  "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nOstype: linux\r\nContent-Length: "
                  "0\r\n\r\n");
        // The request after it, with a body, and the end of the client's writing.
        const std::string request =
            "POST /v1.47/containers/create HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
        send_text(client, request);
        ::shutdown(client, SHUT_WR);
        EXPECT_EQ(read_all(client), "ECHO:" + request) << "the engine's answer, as it gave it";
        ::close(client);
    }
    EXPECT_EQ(engine.pings, 1) << "the relay's own ping only";
    EXPECT_EQ(relay->pings_answered(), 3);
    EXPECT_EQ(relay->connections(), 3);
}

TEST(EngineRelay, AConnectionThatDoesNotStartWithAPingGoesToTheEngineAsItCame) {
    util::PrivateDirectory directory;
    TinyEngine engine(directory.path() + "/engine.sock");
    auto relay =
        EngineRelay::start(directory.path() + "/engine.sock", directory.path() + "/relay.sock");
    const int client = connect_to(relay->socket_path());
    const std::string request = "GET /v1.47/containers/json HTTP/1.1\r\n\r\n";
    send_text(client, request);
    ::shutdown(client, SHUT_WR);
    EXPECT_EQ(read_all(client), "ECHO:" + request);
    ::close(client);
    EXPECT_EQ(relay->pings_answered(), 0);
}

TEST(EngineRelay, WithNoEngineBehindItAConnectionEnds) {
    util::PrivateDirectory directory;
    auto relay =
        EngineRelay::start(directory.path() + "/nothing.sock", directory.path() + "/relay.sock");
    const int client = connect_to(relay->socket_path());
    send_text(client, k_client_ping);
    EXPECT_EQ(read_all(client), "") << "no answer of its own to give: the connection ends";
    ::close(client);
}

TEST(EngineRelay, EndingItEndsTheConnectionsItRelays) {
    util::PrivateDirectory directory;
    TinyEngine engine(directory.path() + "/engine.sock");
    auto relay =
        EngineRelay::start(directory.path() + "/engine.sock", directory.path() + "/relay.sock");
    const int client = connect_to(relay->socket_path());
    send_text(client, "GET /v1.47/events HTTP/1.1\r\n\r\n");  // the engine waits for more
    while (relay->connections() < 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    relay.reset();
    EXPECT_EQ(read_all(client), "") << "ended, not left hanging";
    ::close(client);
}

}  // namespace
}  // namespace pallet::docker
