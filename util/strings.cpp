#include "util/strings.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace pallet::util {

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
        size_t end = text.find(sep, start);
        if (end == std::string_view::npos) {
            fields.emplace_back(text.substr(start));
            return fields;
        }
        fields.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += sep;
        }
        out += items[i];
    }
    return out;
}

std::string join_and(const std::vector<std::string>& items) {
    if (items.size() < 2) {
        return join(items, "");
    }
    return join({items.begin(), items.end() - 1}, ", ") + " and " + items.back();
}

std::vector<std::string> nonempty_lines(std::string_view text) {
    std::vector<std::string> lines;
    for (const auto& line : split(text, '\n')) {
        if (!trim(line).empty()) {
            lines.push_back(trim(line));
        }
    }
    return lines;
}

std::string address_port(const std::string& address, const std::string& port) {
    return address.find(':') != std::string::npos ? "[" + address + "]:" + port
                                                  : address + ":" + port;
}

std::string utc_time(std::time_t time, const char* format) {
    char text[64];
    struct tm utc {};
    gmtime_r(&time, &utc);
    return std::strftime(text, sizeof text, format, &utc) > 0 ? text : "";
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
    std::string out;
    size_t at = 0;
    while (!from.empty()) {
        const size_t found = text.find(from, at);
        if (found == std::string_view::npos) {
            break;
        }
        out.append(text.substr(at, found - at)).append(to);
        at = found + from.size();
    }
    return out.append(text.substr(at));
}

std::string trim(std::string_view text) {
    size_t begin = 0;
    size_t end = text.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) {
        ++begin;
    }
    while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) {
        --end;
    }
    return std::string(text.substr(begin, end - begin));
}

std::string shell_quote(std::string_view word) {
    if (word.empty()) {
        return "''";
    }
    bool plain = true;
    for (char c : word) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) ||
              std::string_view("@%_+=:,./-").find(c) != std::string_view::npos)) {
            plain = false;
            break;
        }
    }
    if (plain) {
        return std::string(word);
    }
    std::string quoted = "'";
    for (char c : word) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted += c;
        }
    }
    quoted += '\'';
    return quoted;
}

std::string shell_join(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& word : argv) {
        if (!line.empty()) {
            line += ' ';
        }
        line += shell_quote(word);
    }
    return line;
}

bool is_dns_label(std::string_view name) {
    if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') {
        return false;
    }
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    long long total = 0;
    long long number = -1;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            number = (number < 0 ? 0 : number) * 10 + (c - '0');
            if (number > 10'000'000) {
                return std::nullopt;
            }
            continue;
        }
        if (number < 0) {
            return std::nullopt;
        }
        switch (c) {
            case 'd':
                total += number * 24 * 3600;
                break;
            case 'h':
                total += number * 3600;
                break;
            case 'm':
                total += number * 60;
                break;
            case 's':
                total += number;
                break;
            default:
                return std::nullopt;
        }
        number = -1;
    }
    if (number >= 0) {
        total += number;
    }
    if (total > 366LL * 24 * 3600) {
        return std::nullopt;
    }
    return std::chrono::seconds(total);
}

bool is_valid_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == 0) {
            return false;
        }
        size_t length = 0;
        unsigned min = 0;
        unsigned code = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            length = 2, min = 0x80, code = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            length = 3, min = 0x800, code = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            length = 4, min = 0x10000, code = c & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) {
            return false;
        }
        for (size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            code = (code << 6) | (next & 0x3F);
        }
        if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;  // overlong, out of range, or a surrogate
        }
        i += length;
    }
    return true;
}

bool is_ip_address(std::string_view text) {
    const std::string address(text);
    unsigned char buffer[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, address.c_str(), buffer) == 1 ||
           ::inet_pton(AF_INET6, address.c_str(), buffer) == 1;
}

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
    ListenAddress listen;
    std::string_view port = text;
    if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        std::string_view address = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
            address = address.substr(1, address.size() - 2);
            if (address.find(':') == std::string_view::npos) {
                return std::nullopt;  // brackets are for IPv6 only
            }
        } else if (address.find(':') != std::string_view::npos) {
            return std::nullopt;  // an IPv6 address needs its brackets before :PORT
        }
        if (!is_ip_address(address)) {
            return std::nullopt;
        }
        listen.address = std::string(address);
    }
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    listen.port = std::stoi(std::string(port));
    if (listen.port < 1 || listen.port > 65535) {
        return std::nullopt;
    }
    return listen;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        int value = -1;
        if (c >= 'A' && c <= 'Z') {
            value = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            value = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            value = c - '0' + 52;
        } else if (c == '+') {
            value = 62;
        } else if (c == '/') {
            value = 63;
        } else if (c == '=') {
            break;
        } else {
            return std::nullopt;
        }
        buffer = (buffer << 6) | static_cast<unsigned>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    return out;
}

bool is_host_name(std::string_view text) {
    if (text.empty() || text.size() > 253) {
        return false;
    }
    for (const auto& label : split(text, '.')) {
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
            return false;
        }
        for (char c : label) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
                return false;
            }
        }
    }
    return true;
}

std::string format_duration(std::chrono::seconds duration) {
    long long s = duration.count();
    if (s < 60) {
        return fmt::format("{}s", s);
    }
    if (s < 3600) {
        return fmt::format("{}m{:02}s", s / 60, s % 60);
    }
    if (s <= 24 * 3600) {
        return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
    }
    return fmt::format("{}d{:02}h", s / (24 * 3600), (s % (24 * 3600)) / 3600);
}

bool is_one_line(std::string_view text, size_t max) {
    return text.size() <= max && std::none_of(text.begin(), text.end(), [](char c) {
               return static_cast<unsigned char>(c) < 0x20;
           });
}

}  // namespace pallet::util
