// Small parsers of user input: durations, listening addresses, host names, image references,
// image users, tar archives from docker cp, health answers.
#include "docker/image_user.h"
#include "docker/reference.h"
#include "fuzz_support.h"
#include "orchestrator/router_nginx.h"
#include "util/strings.h"
#include "util/tar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input = pallet::fuzz::text(data, size);
    if (auto duration = pallet::util::parse_duration(input);
        duration && (duration->count() < 0 || duration->count() > 366LL * 24 * 3600)) {
        pallet::fuzz::broken("durations are from 0 to a year");
    }
    if (auto listen = pallet::util::parse_listen_address(input);
        listen && (listen->port < 1 || listen->port > 65535)) {
        pallet::fuzz::broken("ports are 1 to 65535");
    }
    pallet::util::is_host_name(input);
    pallet::util::is_valid_utf8(input);
    pallet::docker::is_image_reference(input);
    const auto parts = pallet::fuzz::words(input);
    auto user = pallet::docker::parse_image_user(parts[0]);
    pallet::docker::resolve_ids(user, parts.size() > 1 ? parts[1] : "",
                                parts.size() > 2 ? parts[2] : "");
    pallet::util::first_file_in_tar(input);
    auto answer = pallet::orchestrator::parse_health_answer(input);
    if (answer.healthy && (answer.status < 100 || answer.status >= 400)) {
        pallet::fuzz::broken("healthy means a status from 100 to 399");
    }
    return 0;
}
