#include "orchestrator/engine/services.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>

#include "docker/failure.h"
#include "orchestrator/router_nginx.h"
#include "state/labels.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/together.h"

namespace pallet::orchestrator::engine {
namespace {

std::string data_volume(const std::string& scope, const std::string& kind) {
    return fmt::format("pallet-{}-{}-data", scope, kind);
}

std::string image_for(Context& context, const ServiceSite& site,
                      const services::ServiceKind& kind) {
    if (auto it = site.image_overrides.find(kind.name); it != site.image_overrides.end()) {
        return it->second;
    }
    return context.setting(kind.name + "-image").value_or(kind.default_image);
}

void ensure_shared_network(Context& context, const ServiceSite& site) {
    if (!context.docker
             .list_networks(
                 {std::string(state::label::k_warm) + "=" + site.labels.at(state::label::k_warm)})
             .empty()) {
        return;
    }
    try {
        context.docker.create_network(site.network, site.labels);
    } catch (const docker::DockerError& e) {
        if (e.failure() != docker::Failure::exists) {
            throw;
        }
    }
}

}  // namespace

void provision_services(Context& context, const ServiceSite& site, ServiceMap& services,
                        const std::vector<docker::ContainerRecord>* known) {
    const std::string& host_scope = site.host_scope.empty() ? site.scope : site.host_scope;
    std::vector<std::string> started_containers;
    std::vector<std::string> created_volumes;
    struct Pending {
        services::ServiceConfig* service;
        std::string container;
    };
    std::vector<Pending> pending;
    struct Start {
        services::ServiceConfig* service;
        docker::ContainerSpec spec;
        std::optional<docker::StartOutcome> outcome;  // once it was asked for
    };
    std::vector<Start> starts;
    // A running container keeps the admin password it was made with.
    auto adopt = [&](services::ServiceConfig& service, const docker::ContainerRecord& record) {
        const std::string variable = services::admin_password_variable(service.kind);
        if (!variable.empty() && !record.env_value(variable).empty()) {
            service.admin_password = record.env_value(variable);
            context.docker.redactor().add(service.admin_password);
        }
    };
    try {
        for (auto& [name, service] : services) {
            if (!service.provisioned()) {
                continue;
            }
            const services::ServiceKind& kind = *services::find_kind(name);
            const std::string container = service_container(host_scope, name);
            pending.push_back({&service, container});
            std::optional<docker::ContainerRecord> existing;
            if (known != nullptr) {
                for (const auto& record : *known) {
                    if (record.name == container) {
                        existing = record;
                    }
                }
            } else {
                existing = context.docker.inspect_container(container);
            }
            if (existing && existing->running) {
                adopt(service, *existing);
                continue;
            }
            if (existing) {
                context.docker.remove_containers({container});  // stopped: start afresh
            }
            docker::ContainerSpec spec;
            spec.name = container;
            spec.image = image_for(context, site, kind);
            resolve_image(context, spec.image);
            spec.env = services::container_variables(service);
            spec.labels = site.labels;
            spec.labels[state::label::k_phase] = state::phase::k_service;
            spec.labels[state::label::k_service] = name;
            spec.network = site.network;
            spec.network_aliases = {};
            if (site.keep_data && !kind.data_path.empty()) {
                const std::string volume = data_volume(host_scope, name);
                if (context.docker
                        .list_volumes({fmt::format("{}={}", state::label::k_service_data, volume)})
                        .empty()) {
                    created_volumes.push_back(volume);
                }
                docker::Labels volume_labels = site.labels;
                volume_labels[state::label::k_service_data] = volume;
                context.docker.create_volume(volume, volume_labels);
                spec.mounts = {{volume, kind.data_path, false}};
            }
            if (site.keep_data) {
                spec.restart = k_serving_restart_policy;
                if (kind.web_port != 0) {
                    spec.publish = fmt::format("127.0.0.1::{}", kind.web_port);
                }
            }
            if (site.ensure_network) {
                ensure_shared_network(context, site);
            }
            starts.push_back({&service, std::move(spec), std::nullopt});
        }
        // The containers start at once (a dry run says them in order).
        std::vector<std::function<void()>> lanes;
        for (auto& start : starts) {
            lanes.emplace_back([&context, &start] {
                context.step("starting {} ({})", start.service->kind, start.spec.image);
                start.outcome = context.docker.run_detached(start.spec);
            });
        }
        if (context.docker.dry_run()) {
            for (const auto& lane : lanes) {
                lane();
            }
            return;
        }
        try {
            util::run_together(lanes);
        } catch (...) {
            for (const auto& start : starts) {
                if (start.outcome == docker::StartOutcome::started) {
                    started_containers.push_back(start.spec.name);  // those that did start go
                }
            }
            throw;
        }
        for (auto& start : starts) {
            if (start.outcome == docker::StartOutcome::name_taken) {
                // Started by a concurrent command just now: use that one.
                if (auto theirs = context.docker.inspect_container(start.spec.name)) {
                    adopt(*start.service, *theirs);
                }
                continue;
            }
            started_containers.push_back(start.spec.name);
        }
        // Each is asked at once: an environment's PostgreSQL and Redis get ready side by side.
        const auto deadline = cancel::now() + site.ready_timeout;
        const auto wait_ready = [&](const Pending& item) {
            const services::Endpoint endpoint{item.container, site.scope, site.test_run,
                                              !site.host_scope.empty()};
            const std::string script = services::ready_script(*item.service, endpoint);
            bool announced = false;
            std::string output;
            while (!context.docker.exec_script(item.container, script, &output)) {
                auto record = context.docker.inspect_container(item.container);
                if (!record || !record->running || cancel::now() > deadline) {
                    throw Error(fmt::format(
                        "the service {} did not get ready{} (container {}). Its last output:\n{}",
                        item.service->kind,
                        record && record->running
                            ? fmt::format(" within {}s; allow more with --service-timeout",
                                          site.ready_timeout.count())
                            : fmt::format(": it exited (exit {})", record ? record->exit_code : -1),
                        item.container, context.docker.logs_tail(item.container, 15)));
                }
                if (!announced) {
                    context.step("waiting for {} to get ready (at most {}s)", item.service->kind,
                                 site.ready_timeout.count());
                    announced = true;
                }
                cancel::sleep(std::chrono::milliseconds(250));
            }
            if (endpoint.shared && item.service->kind == "redis") {
                item.service->db_index = services::leased_db_index(output);
            }
        };
        std::vector<std::function<void()>> waits;
        for (const auto& item : pending) {
            waits.emplace_back([&wait_ready, &item] { wait_ready(item); });
        }
        util::run_together(waits);
    } catch (...) {
        context.docker.remove_containers(started_containers);
        context.docker.remove_volumes(created_volumes);
        throw;
    }
}

void release_services(Context& context, const ServiceSite& site, const ServiceMap& services) {
    const std::string& host_scope = site.host_scope.empty() ? site.scope : site.host_scope;
    for (const auto& [kind, service] : services) {
        if (!service.provisioned()) {
            continue;
        }
        const std::string command = services::drop_command(
            service, services::Endpoint{"", site.scope, site.test_run, true});
        // Detached: the server drops it while this command ends.
        if (!command.empty() && !context.docker.exec_detached(service_container(host_scope, kind),
                                                              {"sh", "-c", command})) {
            context.note("docker-pallet: warning: could not drop what this run had in {}", kind);
        }
    }
}

void check_external_services(Context& context, const std::string& network,
                             const ServiceMap& services) {
    // nc where the image has it (alpine's busybox), bash's /dev/tcp otherwise (Debian).
    static constexpr const char* k_probe =
        "for target in \"$@\"; do host=${target%:*}; port=${target##*:}; host=${host#[}; "
        "host=${host%]}; "
        "if command -v nc >/dev/null 2>&1; then nc -z -w 3 \"$host\" \"$port\"; "
        "else timeout 3 bash -c 'exec 3<>/dev/tcp/$0/$1' \"$host\" \"$port\"; fi 2>/dev/null "
        "|| { echo \"$target\"; exit 1; }; done";
    for (const auto& [kind, service] : services) {
        auto targets = services::tcp_targets(service);
        if (targets.empty()) {
            continue;
        }
        docker::ContainerSpec spec;
        spec.image = router_image(context);
        resolve_image(context, spec.image);
        spec.command = {"sh", "-c", k_probe, "probe"};
        spec.command.insert(spec.command.end(), targets.begin(), targets.end());
        spec.network = network;
        spec.remove_on_exit = true;
        spec.labels = {{state::label::k_managed, "true"}, {state::label::k_phase, "check"}};
        context.step("checking {} at {}", kind, util::join(targets, ", "));
        std::string output;
        const int code = context.docker.run_captured(spec, output);
        if (code != 0) {
            throw Error(fmt::format(
                "the {} server {} does not accept connections (checked from "
                "the engine{}); check the URL, or add it without --check",
                kind, util::trim(output).empty() ? util::join(targets, ", ") : util::trim(output),
                network.empty() ? "" : " on network " + network));
        }
    }
}

void provide_environment_services(Context& context, const state::Environment& env,
                                  const std::vector<docker::ContainerRecord>* known) {
    ServiceSite site;
    site.scope = env.name;
    site.network = state::network_name(env.name);
    site.labels = state::base_labels(env.name, state::phase::k_service);
    site.ready_timeout = std::chrono::seconds(env.service_timeout);
    ServiceMap services = env.services;
    provision_services(context, site, services, known);
}

void remove_services(Context& context, const std::string& scope, const ServiceMap& services,
                     bool volumes) {
    std::vector<std::string> containers;
    std::vector<std::string> data;
    for (const auto& [name, service] : services) {
        if (service.provisioned()) {
            containers.push_back(service_container(scope, name));
            data.push_back(data_volume(scope, name));
        }
    }
    context.docker.remove_containers(containers);
    if (volumes) {
        context.docker.remove_volumes(data);
    }
}

}  // namespace pallet::orchestrator::engine
