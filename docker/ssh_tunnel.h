#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "docker/engine_relay.h"
#include "docker/runner.h"
#include "util/private_dir.h"

namespace pallet::docker {

// Where an ssh:// engine is: ssh://[USER@]HOST[:PORT][/SOCKET].
struct SshAddress {
    std::string user;  // "" when not given (ssh's config or the local user decides)
    std::string host;
    std::string port;    // "" when not given
    std::string socket;  // the engine's socket on HOST; "" to ask the remote docker
};

// Parses an ssh:// docker host; nullopt for any other.
std::optional<SshAddress> parse_ssh_host(const std::string& docker_host);

// One SSH connection for a whole command: the engine's socket on the remote host forwarded to
// a local socket, which every docker process of the command then uses. Every docker call would
// otherwise open an SSH connection of its own (about 0.4 s each even on loopback). It uses the
// user's ssh as it is configured (~/.ssh/config, keys, agent), non-interactively as docker's
// own ssh connection does.
//
// Kept (keep > 0): the connection stays after the command, in a directory of the user's own
// (0700), until it has been idle `keep` (ssh's ControlPersist); the next command to the same
// engine within that time reuses it without a handshake. Each command holds one idle
// connection on the forwarded socket while it runs, so the connection cannot go idle under it.
// Not kept (keep == 0): the connection is the command's own child, ended with it.
class SshTunnel {
  public:
    // Connects. Throws an Error saying what ssh said when it cannot (authentication, host key,
    // unreachable host). Returns nullptr, with `why` set, when the engine's socket cannot be
    // forwarded (a remote engine on TCP, forwarding refused by the server): the command then
    // goes on with docker's own ssh connection for each call.
    // With `relay`, docker processes reach the forward through an EngineRelay of this command
    // (channels opened ahead, docker's ping answered once).
    static std::unique_ptr<SshTunnel> open(Runner& runner, const SshAddress& address,
                                           std::chrono::seconds keep, std::string& why,
                                           bool relay = true);
    ~SshTunnel();
    SshTunnel(const SshTunnel&) = delete;
    SshTunnel& operator=(const SshTunnel&) = delete;

    // "unix:///.../docker.sock": the engine, for docker's -H.
    std::string docker_host() const {
        return "unix://" + (m_relay ? m_relay->socket_path() : m_local_socket);
    }
    // True while the connection is up.
    bool alive();
    // True when the connection is still up after `grace`; false as soon as it drops. A docker
    // call through the forward can end (EOF) a moment before ssh itself notices that the
    // server went, so a failed call asks this rather than alive().
    bool survives(std::chrono::milliseconds grace);
    // What ssh said (its last lines), for an error once the connection dropped.
    std::string last_words() const;
    // "ops@db.example.org": the remote, as people call it.
    const std::string& destination() const { return m_destination; }

    // Where the engine is on the remote host (a socket there), and whether it answered there
    // (false once the relay's first question went unanswered).
    const std::string& remote_socket() const { return m_remote_socket; }
    bool engine_answers() const { return !m_relay || m_relay->engine_answers(); }

    // True when this command found the connection of an earlier one and uses it.
    bool reused() const { return m_reused; }

  private:
    SshTunnel(Runner& runner, std::string destination);
    std::vector<std::string> ssh(const std::vector<std::string>& options) const;
    // Makes the master connection and the forward (and the relay); false (with `why`) when it
    // cannot forward.
    bool connect(std::chrono::seconds keep, std::string& why);
    // Forwards the local socket to `remote`, a socket of the remote host.
    bool forward(const std::string& remote, std::string& why);
    void start_relay();
    // Holds a connection on the forwarded socket; false when nothing answers there.
    bool hold();

    Runner& m_runner;
    SshAddress m_address;
    std::string m_destination;
    std::optional<util::PrivateDirectory> m_directory;  // when not kept
    std::string m_control;
    std::string m_log;
    std::string m_local_socket;
    std::unique_ptr<BackgroundProcess> m_master;  // when not kept: the master itself
    int m_hold = -1;                              // when kept: the idle connection held
    bool m_reused = false;
    bool m_want_relay = true;
    std::string m_remote_socket;  // "" when a kept connection's forward is reused
    std::optional<util::PrivateDirectory> m_relay_directory;
    std::unique_ptr<EngineRelay> m_relay;  // ends first
};

}  // namespace pallet::docker
