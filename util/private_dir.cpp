#include "util/private_dir.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/error.h"

namespace pallet::util {
namespace {

std::string base_directory() {
    for (const char* variable : {"XDG_RUNTIME_DIR", "TMPDIR"}) {
        const char* value = std::getenv(variable);
        struct stat info {};
        if (value != nullptr && *value == '/' && ::stat(value, &info) == 0 &&
            S_ISDIR(info.st_mode) && ::access(value, W_OK) == 0) {
            return value;
        }
    }
    return "/tmp";
}

}  // namespace

PrivateDirectory::PrivateDirectory() {
    std::string pattern = base_directory() + "/docker-pallet.XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {  // mkdtemp makes it 0700
        throw Error(fmt::format("cannot make a private directory in {}: {}", base_directory(),
                                std::strerror(errno)));
    }
    m_path = buffer.data();
}

PrivateDirectory::~PrivateDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
}

std::string PrivateDirectory::write(const std::string& name, const std::string& content) {
    const std::string path = m_path + "/" + name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
    size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ::close(fd);
            throw Error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
        }
        written += static_cast<size_t>(n);
    }
    ::close(fd);
    return path;
}

std::optional<std::string> own_directory(const std::string& name) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    const std::string path = runtime != nullptr && *runtime == '/'
                                 ? std::string(runtime) + "/" + name
                                 : fmt::format("/tmp/{}-{}", name, ::getuid());
    ::mkdir(path.c_str(), 0700);
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != ::getuid() ||
        (info.st_mode & 077) != 0) {
        return std::nullopt;
    }
    return path;
}

}  // namespace pallet::util
