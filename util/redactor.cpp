#include "util/redactor.h"

#include "util/strings.h"
#include "util/url.h"

namespace pallet::util {
namespace {

std::string percent_decoded(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const std::string hex(text.substr(i + 1, 2));
            if (hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
                out += static_cast<char>(std::stoi(hex, nullptr, 16));
                i += 2;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

}  // namespace

void Redactor::add(std::string_view value) {
    const std::lock_guard lock(m_mutex);
    if (value.size() >= k_min_length) {
        m_values.emplace(value);
    }
    for (const auto& part : split(value, '|')) {
        if (auto url = parse_url(part); url && !url->userinfo.empty()) {
            const auto colon = url->userinfo.find(':');
            const std::string secret =
                colon == std::string::npos ? url->userinfo : url->userinfo.substr(colon + 1);
            for (const std::string& form : {secret, percent_decoded(secret)}) {
                if (form.size() >= k_min_length) {
                    m_values.insert(form);
                }
            }
        }
    }
}

std::string Redactor::redact(std::string_view text) const {
    std::string out(text);
    const std::lock_guard lock(m_mutex);
    for (const auto& value : m_values) {
        for (size_t at = out.find(value); at != std::string::npos; at = out.find(value, at + 4)) {
            out.replace(at, value.size(), "****");
        }
    }
    return out;
}

}  // namespace pallet::util
