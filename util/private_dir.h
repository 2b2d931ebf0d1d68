#pragma once

#include <optional>
#include <string>

namespace pallet::util {

// A directory only this user can enter (0700), for files that hand secrets to another program
// (docker's --label-file, --env-file) instead of its command line; removed with this object.
// Made under $XDG_RUNTIME_DIR (a tmpfs of the user's own), else $TMPDIR, else /tmp.
class PrivateDirectory {
  public:
    PrivateDirectory();
    ~PrivateDirectory();
    PrivateDirectory(const PrivateDirectory&) = delete;
    PrivateDirectory& operator=(const PrivateDirectory&) = delete;

    const std::string& path() const { return m_path; }
    // Writes `content` into a new file `name` (0600); returns its path.
    std::string write(const std::string& name, const std::string& content);

  private:
    std::string m_path;
};

// A directory of this user's own that outlives a command: NAME under $XDG_RUNTIME_DIR, else
// /tmp/NAME-UID; made 0700 if missing. nullopt unless it is a real directory owned by this user
// and closed to others (so nobody else can have put or read anything in it).
std::optional<std::string> own_directory(const std::string& name);

}  // namespace pallet::util
