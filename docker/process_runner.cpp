#include "docker/process_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <chrono>
#include <cstring>

#include "util/cancel.h"
#include "util/error.h"

namespace bp = boost::process;

namespace pallet::docker {
namespace {

// In the child between fork and exec: die with the plugin, and (unless it is to talk to the
// user's terminal) stay out of the terminal's process group so that the plugin alone decides
// how its children are stopped.
struct ChildSetup : bp::extend::handler {
    bool own_group;
    explicit ChildSetup(bool own_process_group) : own_group(own_process_group) {}
    template <typename Executor>
    void on_exec_setup(Executor&) const {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (own_group) {
            ::setpgid(0, 0);
        }
    }
};

// A pipe whose ends close themselves.
struct Pipe {
    int read_end = -1;
    int write_end = -1;
    void open() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            throw Error("cannot create a pipe");
        }
        read_end = fds[0];
        write_end = fds[1];
    }
    void close_read() { close_fd(read_end); }
    void close_write() { close_fd(write_end); }
    ~Pipe() {
        close_read();
        close_write();
    }
    static void close_fd(int& fd) {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
};

// In the child: our pipe ends become its stdin, stdout and stderr (-1: leave as is).
struct ChildFds : bp::extend::handler {
    int in;
    int out;
    int err;
    ChildFds(int in_fd, int out_fd, int err_fd) : in(in_fd), out(out_fd), err(err_fd) {}
    template <typename Executor>
    void on_exec_setup(Executor&) const {
        if (in >= 0) {
            ::dup2(in, STDIN_FILENO);
        }
        if (out >= 0) {
            ::dup2(out, STDOUT_FILENO);
        }
        if (err >= 0) {
            ::dup2(err, STDERR_FILENO);
        }
    }
};

boost::filesystem::path resolve(const std::string& program) {
    if (program.find('/') != std::string::npos) {
        if (::access(program.c_str(), X_OK) != 0) {
            throw Error(fmt::format("cannot run {}: not an executable file", program));
        }
        return program;
    }
    auto path = bp::search_path(program);
    if (path.empty()) {
        throw Error(
            fmt::format("cannot run {}: not found in PATH; install the docker CLI", program));
    }
    return path;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads what is there; returns false at EOF.
bool drain(int fd, std::string& into) {
    char buffer[65536];
    while (true) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            into.append(buffer, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

// drain, into `into` or to `on_output` when there is one.
bool drain_into(int fd, std::string& into,
                const std::function<void(const std::string&)>& on_output) {
    if (!on_output) {
        return drain(fd, into);
    }
    std::string piece;
    const bool open = drain(fd, piece);
    if (!piece.empty()) {
        on_output(piece);
    }
    return open;
}

// A child left running; terminated when this goes.
class BackgroundChild : public BackgroundProcess {
  public:
    explicit BackgroundChild(bp::child child) : m_child(std::move(child)) {}
    ~BackgroundChild() override {
        if (!m_child.running()) {
            m_child.wait();
            return;
        }
        ::kill(m_child.id(), SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (m_child.running() && std::chrono::steady_clock::now() < deadline) {
            ::usleep(10'000);
        }
        if (m_child.running()) {
            ::kill(m_child.id(), SIGKILL);
        }
        m_child.wait();
    }
    bool running() override { return m_child.running(); }

  private:
    bp::child m_child;
};

// What every child needs: the program found, its arguments, this process's environment with the
// command's additions.
struct Launch {
    explicit Launch(const Command& command) {
        if (command.argv.empty()) {
            throw Error("internal: empty command");
        }
        exe = resolve(command.argv.front());
        args.assign(command.argv.begin() + 1, command.argv.end());
        for (const auto& [key, value] : command.extra_env) {
            env[key] = value;
        }
    }
    boost::filesystem::path exe;
    std::vector<std::string> args;
    bp::environment env = boost::this_process::environment();
};

}  // namespace

std::unique_ptr<BackgroundProcess> ProcessRunner::start(const Command& command,
                                                        const std::string& output) {
    const Launch launch(command);
    const auto& exe =
        launch.exe;  // not structured bindings: clang 14 cannot capture those in a lambda
    const auto& args = launch.args;
    const auto& env = launch.env;
    const int fd = output.empty()
                       ? ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0)
                       : ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(fmt::format("cannot write {}", output.empty() ? "to stderr" : output));
    }
    std::error_code spawn_error;
    ChildFds fds{-1, fd, fd};
    bp::child child(exe, bp::args(args), env, ChildSetup{true}, spawn_error, fds,
                    bp::std_in < bp::null);
    ::close(fd);
    if (spawn_error) {
        throw Error(fmt::format("cannot run {}: {}", exe.string(), spawn_error.message()));
    }
    return std::make_unique<BackgroundChild>(std::move(child));
}

Result ProcessRunner::run(const Command& command) {
    const Launch launch(command);
    const auto& exe =
        launch.exe;  // not structured bindings: clang 14 cannot capture those in a lambda
    const auto& args = launch.args;
    const auto& env = launch.env;

    const bool capture = command.output == Output::capture;
    const bool capture_err = capture || command.output == Output::data;
    // Our own pipes (close-on-exec), bound to the child's 0/1/2 with dup2.
    Pipe out_pipe;
    Pipe err_pipe;
    Pipe in_pipe;
    if (capture) {
        out_pipe.open();
    }
    if (capture_err) {
        err_pipe.open();
    }
    if (command.stdin_data) {
        in_pipe.open();
    }
    // A file read as it goes (stdin_file): opened here, so that a file that cannot be read is
    // said before anything runs. "-" leaves the plugin's stdin to the program.
    int in_file = -1;
    const bool own_stdin = command.stdin_file == "-";
    if (!command.stdin_file.empty() && !own_stdin) {
        in_file = ::open(command.stdin_file.c_str(), O_RDONLY | O_CLOEXEC);
        if (in_file < 0) {
            throw Error(
                fmt::format("cannot read {}: {}", command.stdin_file, std::strerror(errno)));
        }
    }
    int out_file = -1;
    if (command.output == Output::data && !command.stdout_file.empty()) {
        out_file =
            ::open(command.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out_file < 0) {
            Pipe::close_fd(in_file);
            throw Error(
                fmt::format("cannot write {}: {}", command.stdout_file, std::strerror(errno)));
        }
    }
    std::error_code spawn_error;
    bp::child child;
    {
        auto start = [&](auto&&... io) {
            child = bp::child(exe, bp::args(args), env, ChildSetup{!command.interactive},
                              spawn_error, io...);
        };
        const int no_fd = -1;
        const int out_target = capture                            ? out_pipe.write_end
                               : command.output == Output::stderr ? STDERR_FILENO
                               : out_file >= 0                    ? out_file
                                                                  : no_fd;
        ChildFds fds{command.stdin_data ? in_pipe.read_end : in_file, out_target,
                     capture_err ? err_pipe.write_end : no_fd};
        if (command.stdin_data || command.interactive || in_file >= 0 || own_stdin) {
            start(fds);
        } else {
            start(fds, bp::std_in < bp::null);
        }
    }
    out_pipe.close_write();
    err_pipe.close_write();
    in_pipe.close_read();
    Pipe::close_fd(in_file);
    Pipe::close_fd(out_file);
    if (spawn_error) {
        throw Error(fmt::format("cannot run {}: {}", exe.string(), spawn_error.message()));
    }

    Result result;
    int out_fd = out_pipe.read_end;
    int err_fd = err_pipe.read_end;
    int in_fd = in_pipe.write_end;
    for (int fd : {out_fd, err_fd, in_fd}) {
        if (fd >= 0) {
            set_nonblocking(fd);
        }
    }
    size_t stdin_written = 0;
    const int pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, child.id(), 0));
    if (pid_fd < 0) {
        throw Error(fmt::format("cannot watch {}: pidfd_open failed", exe.string()));
    }

    bool exited = false;
    bool terminated = false;
    auto term_sent = std::chrono::steady_clock::time_point{};
    bool killed = false;
    while (!exited || out_fd >= 0 || err_fd >= 0) {
        pollfd fds[5];
        nfds_t count = 0;
        auto add = [&](int fd, short events) { fds[count++] = pollfd{fd, events, 0}; };
        if (!exited) {
            add(pid_fd, POLLIN);
        }
        if (out_fd >= 0) {
            add(out_fd, POLLIN);
        }
        if (err_fd >= 0) {
            add(err_fd, POLLIN);
        }
        if (in_fd >= 0) {
            add(in_fd, POLLOUT);
        }
        const bool watch_cancel =
            command.on_cancel == OnCancel::terminate && !terminated && !cancel::shielded();
        if (watch_cancel) {
            add(cancel::wait_fd(), POLLIN);
        }
        int timeout_ms = -1;
        if (terminated && !killed) {
            auto left = command.kill_grace - (std::chrono::steady_clock::now() - term_sent);
            timeout_ms = static_cast<int>(std::max<long long>(
                0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
        }
        int ready = ::poll(fds, count, timeout_ms);
        if (ready < 0 && errno != EINTR) {
            break;
        }
        for (nfds_t i = 0; i < count && ready > 0; ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            if (fds[i].fd == pid_fd) {
                exited = true;
            } else if (fds[i].fd == out_fd) {
                if (!drain_into(out_fd, result.out, command.on_output)) {
                    out_fd = -1;
                    out_pipe.close_read();
                }
            } else if (fds[i].fd == err_fd) {
                if (!drain_into(err_fd, result.err, command.on_output)) {
                    err_fd = -1;
                    err_pipe.close_read();
                }
            } else if (fds[i].fd == in_fd) {
                const std::string& data = *command.stdin_data;
                ssize_t n =
                    ::write(in_fd, data.data() + stdin_written, data.size() - stdin_written);
                if (n > 0) {
                    stdin_written += static_cast<size_t>(n);
                }
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    stdin_written = data.size();
                }
                if (stdin_written >= data.size()) {
                    in_pipe.close_write();
                    in_fd = -1;
                }
            }
        }
        if (watch_cancel && cancel::requested() && !exited) {
            ::kill(child.id(), SIGTERM);
            terminated = true;
            term_sent = std::chrono::steady_clock::now();
        }
        if (terminated && !killed && !exited &&
            std::chrono::steady_clock::now() - term_sent >= command.kill_grace) {
            ::kill(child.id(), SIGKILL);
            killed = true;
        }
        if (exited && in_fd >= 0) {
            in_pipe.close_write();
            in_fd = -1;
        }
    }
    ::close(pid_fd);
    child.wait();
    const int status = child.native_exit_code();
    if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
        result.exit_code = 128 + result.signal;
    } else {
        result.exit_code = WEXITSTATUS(status);
    }
    if (terminated) {
        throw Cancelled();
    }
    return result;
}

}  // namespace pallet::docker
