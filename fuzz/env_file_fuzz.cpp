// Env files as docker reads them: whatever the bytes, a clean error or UTF-8 values.
#include <map>

#include "fuzz_support.h"
#include "phases/phase_env.h"
#include "util/error.h"
#include "util/strings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::map<std::string, std::string> variables;
    try {
        pallet::phases::parse_env_file_text(pallet::fuzz::text(data, size), "fuzz.env", variables);
    } catch (const pallet::Error&) {
        return 0;
    }
    for (const auto& [key, value] : variables) {
        if (key.empty() || !pallet::util::is_valid_utf8(value)) {
            pallet::fuzz::broken("accepted variables have a name and UTF-8 values");
        }
    }
    return 0;
}
