#include "docker/ssh_tunnel.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>
#include <thread>

#include "docker/unix_socket.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/url.h"

namespace pallet::docker {
namespace {

// Where `docker system dial-stdio` would connect on the remote host, as its docker CLI decides:
// DOCKER_HOST, else a context chosen there (asked of its docker), else the default socket.
constexpr const char* k_remote_engine_script =
    "if [ -n \"$DOCKER_HOST\" ]; then echo \"$DOCKER_HOST\"; "
    "elif [ -n \"$DOCKER_CONTEXT\" ] || grep -qs '\"currentContext\"' "
    "\"$HOME/.docker/config.json\"; "
    "then docker context inspect --format '{{.Endpoints.docker.Host}}'; "
    "else echo unix:///var/run/docker.sock; fi";

// Where the remote docker connects when nothing there says otherwise.
constexpr const char* k_default_remote_socket = "/var/run/docker.sock";

constexpr auto k_connect_timeout = std::chrono::seconds(35);

bool is_socket(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
}

}  // namespace

std::optional<SshAddress> parse_ssh_host(const std::string& docker_host) {
    if (docker_host.rfind("ssh://", 0) != 0) {
        return std::nullopt;
    }
    auto url = util::parse_url(docker_host);
    if (!url) {
        return std::nullopt;
    }
    SshAddress address;
    const auto colon = url->userinfo.find(':');  // ssh takes no password in the URL
    address.user = url->userinfo.substr(0, colon);
    address.host = url->host;
    address.port = url->port;
    if (!url->path.empty()) {
        address.socket = "/" + url->path;
    }
    return address;
}

SshTunnel::SshTunnel(Runner& runner, std::string destination)
    : m_runner(runner), m_destination(std::move(destination)) {}

SshTunnel::~SshTunnel() {
    m_relay.reset();
    if (m_hold >= 0) {
        ::close(m_hold);  // a kept connection goes once idle for its time
    }
    m_master.reset();
}

std::vector<std::string> SshTunnel::ssh(const std::vector<std::string>& options) const {
    // Non-interactive, as docker's own ssh connection is: keys and the agent, no prompts.
    std::vector<std::string> argv = {"ssh",
                                     "-o",
                                     "BatchMode=yes",
                                     "-o",
                                     "ConnectTimeout=30",
                                     "-o",
                                     "ServerAliveInterval=10",
                                     "-o",
                                     "ServerAliveCountMax=3",
                                     "-o",
                                     "ControlPath=" + m_control};
    argv.insert(argv.end(), options.begin(), options.end());
    if (!m_address.user.empty()) {
        argv.insert(argv.end(), {"-l", m_address.user});
    }
    if (!m_address.port.empty()) {
        argv.insert(argv.end(), {"-p", m_address.port});
    }
    argv.insert(argv.end(), {"--", m_address.host});
    return argv;
}

bool SshTunnel::hold() {
    m_hold = connect_unix(m_local_socket);
    return m_hold >= 0;
}

bool SshTunnel::connect(std::chrono::seconds keep, std::string& why) {
    // The master connection: authenticated once it has made its control socket. Kept, ssh puts
    // it in the background itself (-f) with ControlPersist; not kept, it is this child.
    Command master;
    master.argv = keep.count() > 0
                      ? ssh({"-o", "ControlMaster=yes", "-o",
                             fmt::format("ControlPersist={}", keep.count()), "-f", "-N", "-T"})
                      : ssh({"-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-N", "-T"});
    auto starter = m_runner.start(master, m_log);
    const auto deadline = std::chrono::steady_clock::now() + k_connect_timeout;
    while (!is_socket(m_control)) {
        if (!starter->running() && !is_socket(m_control)) {
            throw Error(
                fmt::format("cannot reach the Docker engine over ssh://{}: {}\nCheck that "
                            "`ssh {}` works without a prompt (a key or the agent, a known "
                            "host key)",
                            m_destination, last_words(), m_address.host));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw Error(
                fmt::format("cannot reach the Docker engine over ssh://{}: no connection "
                            "within {}s",
                            m_destination, k_connect_timeout.count()));
        }
        cancel::sleep(std::chrono::milliseconds(10));
    }
    if (keep.count() == 0) {
        m_master = std::move(starter);
    }

    std::string remote = m_address.socket;
    std::future<Result> asked;
    if (remote.empty()) {
        // Asked while the default socket is already forwarded and, with the relay, asked for
        // the engine's ping and channels: most hosts answer the default, and the question's
        // round trips then overlap those. Nothing but that ping reaches the engine before the
        // answer.
        asked = std::async(std::launch::async, [this] {
            Command ask;
            ask.argv = ssh({"-o", "ControlMaster=no", "-T"});
            ask.argv.push_back(k_remote_engine_script);
            return m_runner.run(ask);
        });
        remote = k_default_remote_socket;
    }
    if (!forward(remote, why)) {
        return false;
    }
    if (m_want_relay) {
        start_relay();
    }
    if (!asked.valid()) {
        return true;
    }
    Result answer = asked.get();
    const std::string host = util::trim(answer.out);
    // What was asked of the default socket is dropped, and its forward too: a kept connection
    // must not lead the next command there.
    const auto unforward = [&] {
        m_relay.reset();
        Command cancel;
        cancel.argv = ssh({"-O", "cancel", "-L", m_local_socket + ":" + remote});
        m_runner.run(cancel);
        ::unlink(m_local_socket.c_str());
    };
    if (!answer.ok() || host.rfind("unix://", 0) != 0) {
        unforward();
        why =
            answer.ok()
                ? fmt::format("the engine on {} is at {}, not a unix socket", m_address.host, host)
                : "could not ask the remote host where its engine is: " + util::trim(answer.err);
        return false;
    }
    if (host.substr(7) != remote) {
        unforward();  // not the default: the right socket is forwarded instead
        if (!forward(host.substr(7), why)) {
            return false;
        }
        if (m_want_relay) {
            start_relay();
        }
    }
    return true;
}

bool SshTunnel::forward(const std::string& remote, std::string& why) {
    m_remote_socket = remote;
    ::unlink(m_local_socket.c_str());
    Command forward;
    forward.argv = ssh({"-O", "forward", "-L", m_local_socket + ":" + remote});
    Result forwarded = m_runner.run(forward);
    if (!forwarded.ok() || !is_socket(m_local_socket)) {
        why = "the server did not forward the engine's socket (AllowStreamLocalForwarding?): " +
              util::trim(forwarded.err);
        return false;
    }
    return true;
}

void SshTunnel::start_relay() {
    if (!m_relay_directory) {
        m_relay_directory.emplace();
    }
    m_relay = EngineRelay::start(m_local_socket, m_relay_directory->path() + "/engine.sock");
}

std::unique_ptr<SshTunnel> SshTunnel::open(Runner& runner, const SshAddress& address,
                                           std::chrono::seconds keep, std::string& why,
                                           bool relay) {
    const std::string destination = (address.user.empty() ? "" : address.user + "@") +
                                    address.host + (address.port.empty() ? "" : ":" + address.port);
    std::unique_ptr<SshTunnel> tunnel(new SshTunnel(runner, destination));
    tunnel->m_address = address;
    tunnel->m_want_relay = relay;
    std::optional<std::string> shared =
        keep.count() > 0 ? util::own_directory("docker-pallet") : std::nullopt;
    if (!shared) {
        keep = std::chrono::seconds(0);
        tunnel->m_directory.emplace();
    }
    // Kept connections are named after where they go (FNV-1a of the address).
    std::uint64_t hash = 1469598103934665603ULL;
    for (unsigned char c : destination + "|" + address.socket) {
        hash = (hash ^ c) * 1099511628211ULL;
    }
    const std::string base = shared ? fmt::format("{}/ssh-{:016x}", *shared, hash)
                                    : tunnel->m_directory->path() + "/ssh";
    tunnel->m_control = base + ".cm";
    tunnel->m_log = base + ".log";
    tunnel->m_local_socket = base + ".sock";
    if (!shared) {
        return tunnel->connect(keep, why) ? std::move(tunnel) : nullptr;
    }

    // One command at a time sets a kept connection up; the others then reuse it.
    const int lock = ::open((base + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0) {
        throw Error(fmt::format("cannot open {}.lock", base));
    }
    while (::flock(lock, LOCK_EX | LOCK_NB) != 0) {
        try {
            cancel::sleep(std::chrono::milliseconds(20));
        } catch (...) {
            ::close(lock);
            throw;
        }
    }
    bool usable = false;
    try {
        usable = tunnel->hold();
        tunnel->m_reused = usable;
        if (!usable) {
            ::unlink(tunnel->m_control.c_str());  // a master that went leaves its socket
            usable = tunnel->connect(keep, why) && tunnel->hold();
            if (!usable && why.empty()) {
                why = "the forwarded engine socket does not answer";
            }
        }
    } catch (...) {
        ::close(lock);
        throw;
    }
    ::close(lock);
    if (usable && relay && !tunnel->m_relay) {
        tunnel->start_relay();  // a connection of an earlier command, forwarded already
    }
    return usable ? std::move(tunnel) : nullptr;
}

bool SshTunnel::alive() {
    if (m_master) {
        return m_master->running();
    }
    // The held connection ends (EOF or hang-up) when the master goes.
    pollfd state{m_hold, POLLIN, 0};
    if (m_hold < 0 || ::poll(&state, 1, 0) < 0) {
        return false;
    }
    if ((state.revents & (POLLHUP | POLLERR)) != 0) {
        return false;
    }
    if ((state.revents & POLLIN) != 0) {
        char byte = 0;
        return ::recv(m_hold, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
    }
    return true;
}

bool SshTunnel::survives(std::chrono::milliseconds grace) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (alive()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

std::string SshTunnel::last_words() const {
    std::ifstream log(m_log);
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    auto lines = util::split(util::trim(text), '\n');
    std::vector<std::string> last;
    for (auto it = lines.rbegin(); it != lines.rend() && last.size() < 2; ++it) {
        if (!util::trim(*it).empty()) {
            last.insert(last.begin(), util::trim(*it));
        }
    }
    return last.empty() ? "ssh ended without a word" : util::join(last, "; ");
}

}  // namespace pallet::docker
