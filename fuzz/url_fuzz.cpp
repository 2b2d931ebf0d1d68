// URL parsing and masking. Property: a password a URL carries is shown less often after masking
// than before (it may also stand elsewhere in the URL, in its host say).
#include "fuzz_support.h"
#include "util/redactor.h"
#include "util/url.h"

namespace {

size_t count(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input = pallet::fuzz::text(data, size);
    const std::string masked = pallet::util::mask_url(input);
    pallet::util::mask_url_list(input);
    if (auto url = pallet::util::parse_url(input)) {
        url->host_port(1);
        const auto colon = url->userinfo.find(':');
        const std::string password =
            colon == std::string::npos ? url->userinfo : url->userinfo.substr(colon + 1);
        if (password.size() >= 4 && password.find('*') == std::string::npos &&
            count(masked, password) >= count(input, password)) {
            pallet::fuzz::broken("mask_url shows a URL's password");
        }
    }
    pallet::util::Redactor redactor;
    redactor.add(input);
    if (input.size() >= pallet::util::Redactor::k_min_length &&
        redactor.redact("[" + input + "]").find(input) != std::string::npos) {
        pallet::fuzz::broken("the redactor shows a value it was given");
    }
    return 0;
}
