#include "docker/ssh_tunnel.h"

#include <sys/stat.h>

#include <chrono>
#include <fmt/format.h>
#include <fstream>
#include <iterator>

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
    "elif [ -n \"$DOCKER_CONTEXT\" ] || grep -qs '\"currentContext\"' \"$HOME/.docker/config.json\"; "
    "then docker context inspect --format '{{.Endpoints.docker.Host}}'; "
    "else echo unix:///var/run/docker.sock; fi";

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

SshTunnel::~SshTunnel() { m_master.reset(); }

std::vector<std::string> SshTunnel::ssh(const std::vector<std::string>& options) const {
    // Non-interactive, as docker's own ssh connection is: keys and the agent, no prompts.
    std::vector<std::string> argv = {"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30",
                                     "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3",
                                     "-o", "ControlPath=" + m_control};
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

std::unique_ptr<SshTunnel> SshTunnel::open(Runner& runner, const SshAddress& address,
                                           std::string& why) {
    const std::string destination =
        (address.user.empty() ? "" : address.user + "@") + address.host +
        (address.port.empty() ? "" : ":" + address.port);
    std::unique_ptr<SshTunnel> tunnel(new SshTunnel(runner, destination));
    tunnel->m_address = address;
    const std::string& directory = tunnel->m_directory.path();
    tunnel->m_control = directory + "/cm";
    tunnel->m_log = directory + "/ssh.log";
    tunnel->m_local_socket = directory + "/docker.sock";

    // The master connection: authenticated once it has made its control socket.
    Command master;
    master.argv = tunnel->ssh({"-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-N", "-T"});
    tunnel->m_master = runner.start(master, tunnel->m_log);
    const auto deadline = std::chrono::steady_clock::now() + k_connect_timeout;
    while (!is_socket(tunnel->m_control)) {
        if (!tunnel->m_master->running()) {
            throw Error(fmt::format("cannot reach the Docker engine over ssh://{}: {}\nCheck that "
                                    "`ssh {}` works without a prompt (a key or the agent, a known "
                                    "host key)",
                                    destination, tunnel->last_words(), address.host));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw Error(fmt::format("cannot reach the Docker engine over ssh://{}: no connection "
                                    "within {}s",
                                    destination, k_connect_timeout.count()));
        }
        cancel::sleep(std::chrono::milliseconds(10));
    }

    std::string remote = address.socket;
    if (remote.empty()) {
        Command ask;
        ask.argv = tunnel->ssh({"-o", "ControlMaster=no", "-T"});
        ask.argv.push_back(k_remote_engine_script);
        Result answer = runner.run(ask);
        const std::string host = util::trim(answer.out);
        if (!answer.ok() || host.rfind("unix://", 0) != 0) {
            why = answer.ok() ? fmt::format("the engine on {} is at {}, not a unix socket", address.host, host)
                              : "could not ask the remote host where its engine is: " + util::trim(answer.err);
            return nullptr;
        }
        remote = host.substr(7);
    }
    Command forward;
    forward.argv = tunnel->ssh({"-O", "forward", "-L", tunnel->m_local_socket + ":" + remote});
    Result forwarded = runner.run(forward);
    if (!forwarded.ok() || !is_socket(tunnel->m_local_socket)) {
        why = "the server did not forward the engine's socket (AllowStreamLocalForwarding?): " +
              util::trim(forwarded.err);
        return nullptr;
    }
    return tunnel;
}

bool SshTunnel::alive() { return m_master && m_master->running(); }

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
