#include "state/labels.h"

#include <fmt/format.h>

#include <chrono>
#include <random>

namespace pallet::state {

namespace label {
const std::vector<std::string>& container_keys() {
    static const std::vector<std::string> keys = {k_managed,
                                                  k_env,
                                                  k_phase,
                                                  k_version,
                                                  k_image_id,
                                                  k_user,
                                                  k_host,
                                                  k_started,
                                                  k_generation,
                                                  k_settings,
                                                  k_result,
                                                  k_detail,
                                                  k_duration,
                                                  k_service,
                                                  k_service_data,
                                                  k_warm,
                                                  k_process,
                                                  k_processes,
                                                  k_services_required,
                                                  k_services_optional,
                                                  k_test_run,
                                                  k_role,
                                                  k_router_config,
                                                  k_job,
                                                  k_finished,
                                                  k_edge_http,
                                                  k_edge_https};
    return keys;
}
}  // namespace label

std::string network_name(const std::string& env) { return "pallet-" + env; }
std::string storage_volume(const std::string& env) { return "pallet-" + env + "-storage"; }
std::string static_volume(const std::string& env) { return "pallet-" + env + "-static"; }
std::string deploy_container(const std::string& env) { return "pallet-" + env + "-deploy"; }
std::string router_container(const std::string& env) { return "pallet-" + env + "-router"; }
std::string router_volume(const std::string& env) { return "pallet-" + env + "-router"; }
std::string backups_volume(const std::string& env) { return "pallet-" + env + "-backups"; }
std::string acme_container(const std::string& env) { return "pallet-acme-" + env; }

std::string env_filter(const std::string& env) { return fmt::format("{}={}", label::k_env, env); }
std::string phase_filter(const std::string& phase) {
    return fmt::format("{}={}", label::k_phase, phase);
}

docker::Labels base_labels(const std::string& env, const std::string& phase) {
    return {{label::k_managed, "true"}, {label::k_env, env}, {label::k_phase, phase}};
}

long long now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

long long now_millis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string random_id() {
    std::random_device device;
    return fmt::format("{:08x}", device());
}

}  // namespace pallet::state
