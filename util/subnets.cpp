#include "util/subnets.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>

#include "util/strings.h"

namespace pallet::util {
namespace {

std::uint32_t mask_of(int prefix) { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }

std::optional<std::uint32_t> parse_number(std::string_view text, std::uint32_t max, int base) {
    std::uint32_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [at, error] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || error != std::errc() || at != end || value > max) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::uint32_t Subnet::last() const { return base | ~mask_of(prefix); }

bool Subnet::overlaps(const Subnet& other) const {
    return base <= other.last() && other.base <= last();
}

std::string Subnet::text() const {
    return fmt::format("{}.{}.{}.{}/{}", base >> 24, (base >> 16) & 0xff, (base >> 8) & 0xff,
                       base & 0xff, prefix);
}

std::optional<Subnet> parse_subnet(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    const auto parts = split(std::string(text.substr(0, slash)), '.');
    const auto prefix = parse_number(text.substr(slash + 1), 32, 10);
    if (parts.size() != 4 || !prefix) {
        return std::nullopt;
    }
    std::uint32_t base = 0;
    for (const auto& part : parts) {
        const auto octet = parse_number(part, 255, 10);
        if (!octet || part.size() > 3) {
            return std::nullopt;
        }
        base = base << 8 | *octet;
    }
    const int bits = static_cast<int>(*prefix);
    if ((base & ~mask_of(bits)) != 0) {
        return std::nullopt;
    }
    return Subnet{base, bits};
}

std::vector<Subnet> parse_proc_routes(std::string_view table) {
    std::vector<Subnet> routes;
    for (const auto& line : nonempty_lines(std::string(table))) {
        std::vector<std::string> fields;
        for (const auto& field : split(line, '\t')) {
            if (!trim(field).empty()) {
                fields.push_back(trim(field));
            }
        }
        if (fields.size() < 8) {
            continue;
        }
        const auto destination = parse_number(fields[1], 0xffffffff, 16);
        const auto mask = parse_number(fields[7], 0xffffffff, 16);
        if (!destination || !mask || *mask == 0) {
            continue;  // the header, or the default route
        }
        // Written in the host's byte order: little-endian on every host docker runs on.
        const auto swap = [](std::uint32_t v) {
            return (v & 0xff) << 24 | (v & 0xff00) << 8 | (v >> 8 & 0xff00) | v >> 24;
        };
        const std::uint32_t net_mask = swap(*mask);
        const int prefix = 32 - std::countr_zero(net_mask);
        routes.push_back({swap(*destination) & mask_of(prefix), prefix});
    }
    return routes;
}

std::optional<Subnet> free_subnet(const Subnet& pool, int size, const std::vector<Subnet>& taken,
                                  const std::vector<std::string>& skip) {
    if (size < pool.prefix || size > 30) {
        return std::nullopt;
    }
    const std::uint64_t step = std::uint64_t{1} << (32 - size);
    for (std::uint64_t at = pool.base; at <= pool.last(); at += step) {
        const Subnet candidate{static_cast<std::uint32_t>(at), size};
        if (std::none_of(taken.begin(), taken.end(),
                         [&](const Subnet& other) { return other.overlaps(candidate); }) &&
            std::find(skip.begin(), skip.end(), candidate.text()) == skip.end()) {
            return candidate;
        }
    }
    return std::nullopt;
}

std::uint64_t subnet_count(const Subnet& pool, int size) {
    return size < pool.prefix ? 0 : std::uint64_t{1} << (size - pool.prefix);
}

}  // namespace pallet::util
