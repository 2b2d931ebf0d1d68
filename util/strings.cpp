#include "util/strings.h"

#include <fmt/format.h>

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
        if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("@%_+=:,./-").find(c) !=
                                                                  std::string_view::npos)) {
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
            case 'h': total += number * 3600; break;
            case 'm': total += number * 60; break;
            case 's': total += number; break;
            default: return std::nullopt;
        }
        number = -1;
    }
    if (number >= 0) {
        total += number;
    }
    return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds duration) {
    long long s = duration.count();
    if (s < 60) {
        return fmt::format("{}s", s);
    }
    if (s < 3600) {
        return fmt::format("{}m{:02}s", s / 60, s % 60);
    }
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace pallet::util
