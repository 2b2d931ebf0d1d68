// docker's JSON, as inspect and ls print it: whatever it holds, a clean error or records.
#include "docker/engine_socket.h"
#include "docker/records.h"
#include "fuzz_support.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input = pallet::fuzz::text(data, size);
    try {
        for (const auto& record : pallet::docker::parse_container_inspect(input)) {
            record.published_url();
            record.env_value("PATH");
        }
    } catch (const pallet::Error&) {
    }
    try {
        for (const auto& record : pallet::docker::parse_container_summaries(input)) {
            record.published_port();
            pallet::docker::parse_docker_time(record.created);
        }
    } catch (const pallet::Error&) {
    }
    try {
        pallet::docker::parse_image_inspect(input);
    } catch (const pallet::Error&) {
    }
    try {
        pallet::docker::image_tags_from_api(input);
    } catch (const pallet::Error&) {
    }
    try {
        pallet::docker::container_label_values_from_api(input, "io.pallet.env");
    } catch (const pallet::Error&) {
    }
    try {
        pallet::docker::config_names_from_api(input);
    } catch (const pallet::Error&) {
    }
    try {
        pallet::docker::parse_volume_lines(input);
    } catch (const pallet::Error&) {
    }
    pallet::docker::parse_label_string(input);
    pallet::docker::parse_docker_time(input);
    return 0;
}
