#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// IPv4 address ranges: the pool environments' networks come from (PALLET_NETWORK_POOL), and
// what a new network must not overlap (docker's networks, the host's routes).
namespace pallet::util {

struct Subnet {
    std::uint32_t base = 0;  // the first address, host order, its host bits zero
    int prefix = 0;          // 0 to 32
    std::uint32_t last() const;
    bool overlaps(const Subnet& other) const;
    std::string text() const;  // "10.213.4.0/24"
};

// "10.213.0.0/16"; nullopt unless a dotted quad and a prefix, host bits zero.
std::optional<Subnet> parse_subnet(std::string_view text);

// The destinations of /proc/net/route (the kernel's IPv4 routing table, hexadecimal in the
// host's byte order), but the default route.
std::vector<Subnet> parse_proc_routes(std::string_view table);

// The first subnet of `size` bits in `pool` that overlaps none of `taken` and is not in `skip`
// (texts of ones to pass over); nullopt when there is none.
std::optional<Subnet> free_subnet(const Subnet& pool, int size, const std::vector<Subnet>& taken,
                                  const std::vector<std::string>& skip = {});

// How many subnets of `size` bits `pool` holds.
std::uint64_t subnet_count(const Subnet& pool, int size);

}  // namespace pallet::util
