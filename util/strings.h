#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pallet::util {

// Splits on every occurrence of `sep`; an empty input gives one empty field.
std::vector<std::string> split(std::string_view text, char sep);

// Joins with `sep` between items.
std::string join(const std::vector<std::string>& items, std::string_view sep);

// Removes leading and trailing ASCII white space.
std::string trim(std::string_view text);

// Quotes one word for a POSIX shell, only where it needs quoting.
std::string shell_quote(std::string_view word);

// Joins argv into one line a user can paste into a shell.
std::string shell_join(const std::vector<std::string>& argv);

// True for a DNS label of 1 to 63 characters: lowercase letters, digits and inner hyphens.
bool is_dns_label(std::string_view name);

// Parses "90", "90s", "5m", "1h", "1m30s" into seconds; nullopt when malformed.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// "3s", "2m05s", "1h02m": a short human form of a duration.
std::string format_duration(std::chrono::seconds duration);

}  // namespace pallet::util
