#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pallet::util {

// Splits on every occurrence of `sep`; an empty input gives one empty field.
std::vector<std::string> split(std::string_view text, char sep);

// The lines of `text` that say something, trimmed (a command's output, one item a line).
std::vector<std::string> nonempty_lines(std::string_view text);

// "ADDRESS:PORT", an IPv6 address in brackets ("[::1]:8080").
std::string address_port(const std::string& address, const std::string& port);

// Joins with `sep` between items.
std::string join(const std::vector<std::string>& items, std::string_view sep);
// As a sentence says them: "a", "a and b", "a, b and c".
std::string join_and(const std::vector<std::string>& items);

// Removes leading and trailing ASCII white space.
std::string trim(std::string_view text);

// `time` in UTC, formatted by strftime's `format` ("%Y-%m-%dT%H:%M:%SZ").
std::string utc_time(std::time_t time, const char* format);

// `text` with every `from` replaced by `to`.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);

// Quotes one word for a POSIX shell, only where it needs quoting.
std::string shell_quote(std::string_view word);

// Joins argv into one line a user can paste into a shell.
std::string shell_join(const std::vector<std::string>& argv);

// True for a DNS label of 1 to 63 characters: lowercase letters, digits and inner hyphens.
bool is_dns_label(std::string_view name);

// Parses "90", "90s", "5m", "1h", "1m30s", "3d" into seconds; nullopt when malformed or longer than
// a year.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// True for well-formed UTF-8 without NUL (what docker's label and env files, JSON and the
// engine all carry).
bool is_valid_utf8(std::string_view text);

// True for an IPv4 or IPv6 address in its usual text form (IPv6 without brackets).
bool is_ip_address(std::string_view text);

// A listening address: "PORT", "ADDRESS:PORT" or "[IPV6]:PORT", ADDRESS an IP address, PORT
// 1 to 65535. nullopt otherwise.
struct ListenAddress {
    std::string address;  // "" when not given; IPv6 without brackets
    int port = 0;
};
std::optional<ListenAddress> parse_listen_address(std::string_view text);

// Decodes standard base64 (padding optional); nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

// True for a host name users can reach a site on: DNS labels of letters, digits and hyphens
// joined by dots, at most 253 characters (an IP address also passes).
bool is_host_name(std::string_view text);

// True for a line of user text of at most `max` bytes: no character below 0x20 (no newline).
bool is_one_line(std::string_view text, size_t max);

// "3s", "2m05s", "1h02m", "3d04h" (over a day): a short human form of a duration.
std::string format_duration(std::chrono::seconds duration);

}  // namespace pallet::util
