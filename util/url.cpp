#include "util/url.h"

#include <fmt/format.h>
#include <uriparser/Uri.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "util/strings.h"

namespace pallet::util {
namespace {

constexpr const char* k_mask = "****";

std::string text_of(const UriTextRangeA& range) {
    if (range.first == nullptr || range.afterLast == nullptr) {
        return "";
    }
    return std::string(range.first, range.afterLast);
}

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// Query parameters whose values are credentials (libpq's password=, sslpassword=, api keys...).
bool is_credential_key(std::string_view key) {
    static constexpr std::array<std::string_view, 7> k_markers = {
        "pass", "secret", "token", "key", "auth", "credential", "signature"};
    const std::string lower = lowercase(std::string(key));
    return std::any_of(k_markers.begin(), k_markers.end(), [&](std::string_view marker) {
        return lower.find(marker) != std::string::npos;
    });
}

// The query "a=1&password=x&b=2" as it may be shown: from the value of the first credential
// parameter on, nothing (a raw "&" or "#" in it would make the rest look like more parameters).
// `cut` tells that the rest of the URL must go too.
std::string mask_query(std::string_view query, bool& cut) {
    std::string out;
    cut = false;
    for (const auto& pair : split(query, '&')) {
        if (!out.empty()) {
            out += '&';
        }
        const auto eq = pair.find('=');
        if (eq != std::string::npos && is_credential_key(pair.substr(0, eq))) {
            cut = true;
            return out + pair.substr(0, eq + 1) + k_mask;
        }
        out += pair;
    }
    return out;
}

// Parses with uriparser; the caller frees `uri` when this returns true.
bool parse(std::string_view text, UriUriA& uri) {
    const char* error = nullptr;
    if (uriParseSingleUriExA(&uri, text.data(), text.data() + text.size(), &error) != URI_SUCCESS) {
        return false;
    }
    // An "@" anywhere but at the end of the userinfo is a password's raw "/", "?" or "#" that
    // moved the rest into the path, query or fragment: not the URL it looks like.
    const auto at = text.rfind('@');
    const bool stray_at =
        at != std::string_view::npos &&
        (uri.userInfo.afterLast == nullptr || text.data() + at != uri.userInfo.afterLast);
    const bool usable = !stray_at && uri.scheme.first != nullptr && uri.hostText.first != nullptr &&
                        uri.hostText.afterLast != uri.hostText.first &&
                        uri.hostData.ipFuture.first == nullptr;
    if (!usable) {
        uriFreeUriMembersA(&uri);
    }
    return usable;
}

// What a userinfo may show: its user, never a password; nothing of one without a password.
std::string mask_userinfo(std::string_view userinfo) {
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
        return k_mask;
    }
    return std::string(userinfo.substr(0, colon + 1)) + k_mask;
}

// Fail-closed masking of text no parser accepts: credential parameters first (a password in
// one may hold an "@"), then everything between "://" and the last "@".
std::string mask_unparsed(std::string_view text) {
    std::string out(text);
    if (const auto question = out.find('?'); question != std::string::npos) {
        bool cut = false;
        out = out.substr(0, question + 1) +
              mask_query(std::string_view(out).substr(question + 1), cut);
    }
    const auto at = out.rfind('@');
    if (at != std::string::npos) {
        const auto scheme = out.find("://");
        if (scheme == std::string::npos || scheme > at) {
            return k_mask;
        }
        out.replace(scheme + 3, at - scheme - 3, k_mask);
    }
    return out;
}

}  // namespace

std::string Url::host_port(int default_port) const {
    const std::string shown_port = port.empty() ? std::to_string(default_port) : port;
    return ipv6 ? fmt::format("[{}]:{}", host, shown_port) : fmt::format("{}:{}", host, shown_port);
}

std::optional<Url> parse_url(std::string_view text) {
    if (text.find("://") == std::string_view::npos) {
        return std::nullopt;
    }
    UriUriA uri;
    if (!parse(text, uri)) {
        return std::nullopt;
    }
    Url url;
    url.scheme = lowercase(text_of(uri.scheme));
    url.userinfo = text_of(uri.userInfo);
    url.host = text_of(uri.hostText);
    url.ipv6 = uri.hostData.ip6 != nullptr;
    url.port = text_of(uri.portText);
    for (const UriPathSegmentA* segment = uri.pathHead; segment != nullptr;
         segment = segment->next) {
        if (segment != uri.pathHead) {
            url.path += '/';
        }
        url.path += text_of(segment->text);
    }
    url.query = text_of(uri.query);
    uriFreeUriMembersA(&uri);
    if (url.port.size() > 5 || (!url.port.empty() && std::stoi(url.port) > 65535)) {
        return std::nullopt;
    }
    return url;
}

std::string mask_url(std::string_view text) {
    UriUriA uri;
    if (text.find("://") == std::string_view::npos || !parse(text, uri)) {
        return mask_unparsed(text);
    }
    // Rebuilt from the original text around the parts to hide, so the rest reads as given.
    std::string out;
    const char* cursor = text.data();
    auto keep_until = [&](const char* position) {
        out.append(cursor, position);
        cursor = position;
    };
    if (uri.userInfo.first != nullptr) {
        keep_until(uri.userInfo.first);
        out += mask_userinfo(text_of(uri.userInfo));
        cursor = uri.userInfo.afterLast;
    }
    bool cut = false;
    if (uri.query.first != nullptr) {
        keep_until(uri.query.first);
        out += mask_query(text_of(uri.query), cut);
        cursor = uri.query.afterLast;
    }
    if (!cut) {
        out.append(cursor, text.data() + text.size());
    }
    uriFreeUriMembersA(&uri);
    return out;
}

std::string mask_url_list(std::string_view text) {
    std::vector<std::string> parts;
    for (const auto& part : split(text, '|')) {
        parts.push_back(mask_url(part));
    }
    return join(parts, "|");
}

}  // namespace pallet::util
