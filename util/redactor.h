#pragma once

#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace pallet::util {

// The secret values a command has learnt (variables, passwords, URL credentials) and their
// removal from whatever the plugin prints: errors, progress, debug and dry-run lines, and
// application output quoted in them. Values shorter than k_min_length are not taken: they would
// blank out common words and numbers, and are not secrets worth the name. Shared by threads:
// jobs that run at once (util::run_together) learn and redact at once.
class Redactor {
  public:
    static constexpr size_t k_min_length = 6;

    // Takes a value (and, for a URL, the password in it, raw and percent-decoded).
    void add(std::string_view value);
    // `text` with every known value replaced by "****".
    std::string redact(std::string_view text) const;
    bool empty() const {
        const std::lock_guard lock(m_mutex);
        return m_values.empty();
    }

  private:
    // Longest first, so that a value containing another is replaced whole.
    struct LongerFirst {
        bool operator()(const std::string& a, const std::string& b) const {
            return a.size() != b.size() ? a.size() > b.size() : a < b;
        }
    };
    mutable std::mutex m_mutex;
    std::set<std::string, LongerFirst> m_values;
};

}  // namespace pallet::util
