#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pallet::docker {

// Between the docker processes of one command and an engine far away (its socket forwarded by
// ssh to `upstream`, a local socket): each docker process costs round trips before its request
// even leaves, a new ssh channel (the forward opens one per connection and waits for the
// server's yes) and the `HEAD /_ping` docker's CLI sends first on every connection. The relay
// listens on a socket of its own and takes both off the path:
// - it keeps a few connections to `upstream` open ahead of need, so a docker process gets a
//   channel the server has already accepted;
// - it asks the engine's `HEAD /_ping` once, when it starts, and answers a connection's first
//   ping with that answer (the same engine's, within one command: its API version, OS type,
//   builder and swarm state do not change under it). Anything else, and a ping it has no
//   answer for, goes to the engine as it came;
// then it copies bytes both ways untouched (attach, exec and hijacked streams included) until
// both sides have closed. A connection to `upstream` that fails reaches the docker process as
// an ended connection, as the forward itself would.
class EngineRelay {
  public:
    // Listens on `local` (in a directory only this user can enter) and relays to `upstream`.
    // Throws an Error when it cannot listen.
    static std::unique_ptr<EngineRelay> start(const std::string& upstream,
                                              const std::string& local);
    // Stops listening and ends every relayed connection.
    ~EngineRelay();
    EngineRelay(const EngineRelay&) = delete;
    EngineRelay& operator=(const EngineRelay&) = delete;

    const std::string& socket_path() const { return m_local; }
    // False once its own ping has had no answer from the engine (nothing there, or not an
    // engine); true before it knows.
    bool engine_answers() const;
    // Pings answered here, and connections relayed (for the benchmark and the tests).
    int pings_answered() const;
    int connections() const;

  private:
    EngineRelay(std::string upstream, std::string local);
    void accept_loop();
    void fill_loop();
    void relay(int client);
    // A connection to upstream: one opened ahead when there is one; -1 when none can be made.
    int take_upstream();
    int connect_upstream() const;
    // The engine's answer to HEAD /_ping, once asked (nullopt: none to give).
    std::optional<std::string> ping_answer();
    // A descriptor the end shuts down: false (leave it) when the relay is ending.
    bool track(int fd);
    void untrack_and_close(int fd);

    std::string m_upstream;
    std::string m_local;
    int m_listener = -1;
    int m_wake[2] = {-1, -1};  // written once at the end: every poll of the relay wakes

    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_stopping = false;
    std::vector<int> m_ready;  // connections to upstream opened ahead
    std::vector<int> m_open;   // the connections being relayed, both sides
    bool m_pinged = false;     // the relay's own ping is done
    std::optional<std::string> m_ping;
    int m_pings_answered = 0;
    int m_connections = 0;

    std::thread m_acceptor;
    std::thread m_filler;
    std::vector<std::thread> m_relays;
};

}  // namespace pallet::docker
