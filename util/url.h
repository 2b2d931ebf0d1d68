#pragma once

#include <optional>
#include <string>
#include <string_view>

// URLs as the services' clients read them, parsed by uriparser (RFC 3986).
namespace pallet::util {

struct Url {
    std::string scheme;    // lowercase
    std::string userinfo;  // as written (percent-encoded), "" when none
    std::string host;      // without the brackets of an IPv6 address
    bool ipv6 = false;
    std::string port;   // digits, "" when none
    std::string path;   // without the leading slash
    std::string query;  // without the "?"
    // "host:port" (with brackets for IPv6), `default_port` where the URL has none.
    std::string host_port(int default_port) const;
};

// Parses an absolute URL with a host: SCHEME://[USERINFO@]HOST[:PORT][/PATH][?QUERY][#FRAGMENT],
// HOST a name, an IPv4 address or a bracketed IPv6 address. nullopt otherwise.
std::optional<Url> parse_url(std::string_view text);

// The URL as it may be shown: the password of its userinfo (all of a userinfo without one,
// which may be a token) and the values of query parameters that hold credentials replaced by
// "****". Fails closed: text that does not parse loses everything between "://" and its last
// "@", or all of it when it has an "@" but no "://".
std::string mask_url(std::string_view text);

// mask_url for each part of a list joined with "|" (the standard's lists of servers).
std::string mask_url_list(std::string_view text);

}  // namespace pallet::util
