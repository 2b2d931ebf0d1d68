#include "docker/engine_socket.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "docker/unix_socket.h"
#include "util/error.h"

namespace pallet::docker {
namespace {

constexpr const char* k_default_socket = "/var/run/docker.sock";
// An answer larger than this is not read here (a list of images is some kilobytes).
constexpr size_t k_max_answer = 16 * 1024 * 1024;

// Closes the descriptor however the read ends.
class Socket {
  public:
    explicit Socket(int fd) : m_fd(fd) {}
    ~Socket() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return m_fd; }

  private:
    int m_fd;
};

// Waits until `fd` is ready for `events` before `deadline`.
bool ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd wanted{fd, events, 0};
        const int got = ::poll(&wanted, 1, static_cast<int>(left.count()));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        return got > 0;
    }
}

}  // namespace

std::optional<EngineAnswer> engine_read(const std::string& socket, const std::string& path,
                                        std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const Socket connection(connect_unix(socket, SOCK_NONBLOCK));
    if (connection.fd() < 0) {
        return std::nullopt;
    }
    // HTTP/1.0: the engine closes the connection after its answer, which is not chunked.
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: docker\r\n\r\n";
    while (!request.empty()) {
        if (!ready(connection.fd(), POLLOUT, deadline)) {
            return std::nullopt;
        }
        const ssize_t sent = ::send(connection.fd(), request.data(), request.size(), MSG_NOSIGNAL);
        if (sent < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (sent <= 0) {
            return std::nullopt;
        }
        request.erase(0, static_cast<size_t>(sent));
    }
    std::string answer;
    char chunk[64 * 1024];
    while (true) {
        if (!ready(connection.fd(), POLLIN, deadline)) {
            return std::nullopt;
        }
        const ssize_t got = ::recv(connection.fd(), chunk, sizeof chunk, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (got < 0 || answer.size() > k_max_answer) {
            return std::nullopt;
        }
        if (got == 0) {
            break;
        }
        answer.append(chunk, static_cast<size_t>(got));
    }
    // "HTTP/1.0 200 OK\r\n...\r\n\r\nBODY"
    const auto head_end = answer.find("\r\n\r\n");
    if (head_end == std::string::npos || answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 13 ||
        answer[8] != ' ' || answer[12] != ' ') {
        return std::nullopt;
    }
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (answer[i] < '0' || answer[i] > '9') {
            return std::nullopt;
        }
        status = status * 10 + (answer[i] - '0');
    }
    return EngineAnswer{status, answer.substr(head_end + 4)};
}

bool fits_api_path(std::string_view name) {
    if (name.empty() || name.front() == '/' || name.front() == '.') {
        return false;
    }
    for (const char c : name) {
        const bool fits = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == ':' ||
                          c == '/' || c == '@';
        if (!fits) {
            return false;
        }
    }
    return name.find("..") == std::string_view::npos;
}

namespace {

// The answer's list of objects, or an Error naming `what` it should have listed.
nlohmann::json api_list(const std::string& body, const char* what) {
    auto list = nlohmann::json::parse(body, nullptr, false);
    if (!list.is_array()) {
        throw Error(fmt::format("the engine's list of {} is not a JSON array", what));
    }
    return list;
}

}  // namespace

std::vector<std::string> image_tags_from_api(const std::string& body) {
    std::vector<std::string> tags;
    for (const auto& image : api_list(body, "images")) {
        const auto found = image.is_object() ? image.find("RepoTags") : image.end();
        if (!image.is_object() || found == image.end() || !found->is_array()) {
            continue;  // untagged (null) or not an image
        }
        for (const auto& tag : *found) {
            if (tag.is_string() && tag.get<std::string>().find("<none>") == std::string::npos) {
                tags.push_back(tag.get<std::string>());
            }
        }
    }
    return tags;
}

std::string label_filters_query(const std::vector<std::string>& label_filters) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& filter : label_filters) {
        labels[filter] = true;
    }
    // Every character but the unreserved ones escaped, as Go's url.QueryEscape does.
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string query = "filters=";
    for (const unsigned char c : nlohmann::json({{"label", labels}}).dump()) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            query += static_cast<char>(c);
        } else {
            query += {'%', k_hex[c >> 4], k_hex[c & 15]};
        }
    }
    return query;
}

std::vector<std::string> container_label_values_from_api(const std::string& body,
                                                         const std::string& label) {
    std::vector<std::string> values;
    for (const auto& container : api_list(body, "containers")) {
        const auto labels = container.is_object() ? container.find("Labels") : container.end();
        if (!container.is_object() || labels == container.end() || !labels->is_object()) {
            continue;
        }
        const auto value = labels->find(label);
        if (value != labels->end() && value->is_string() && !value->get<std::string>().empty()) {
            values.push_back(value->get<std::string>());
        }
    }
    return values;
}

std::vector<std::string> config_names_from_api(const std::string& body) {
    std::vector<std::string> names;
    for (const auto& config : api_list(body, "configs")) {
        if (!config.is_object() || !config.contains("Spec") || !config["Spec"].is_object()) {
            continue;
        }
        const auto& spec = config["Spec"];
        const auto name = spec.find("Name");
        if (name != spec.end() && name->is_string() && !name->get<std::string>().empty()) {
            names.push_back(name->get<std::string>());
        }
    }
    return names;
}

std::optional<std::string> local_engine_socket(const std::string& host) {
    if (host.empty()) {
        return std::string(k_default_socket);
    }
    if (host.rfind("unix://", 0) == 0 && host.size() > 7) {
        return host.substr(7);
    }
    return std::nullopt;
}

}  // namespace pallet::docker
