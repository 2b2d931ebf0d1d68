#pragma once

#include <map>
#include <optional>
#include <string>

namespace pallet::plugin {

// The plugin's own settings: PALLET_<NAME> variables, then `plugins.pallet` in the docker
// config.json (docker's map of plugin settings). Command-line flags win over both; callers apply
// them. The config file is read on first use only, never for metadata or help.
class Settings {
  public:
    // `config_dir`: docker's --config, else $DOCKER_CONFIG, else ~/.docker.
    explicit Settings(std::optional<std::string> config_dir);

    // "router-image" is read from PALLET_ROUTER_IMAGE, then plugins.pallet["router-image"].
    std::optional<std::string> get(const std::string& name);

    // Reads config.json now; throws an Error that says what is wrong with it.
    void check() {
        if (!m_loaded) {
            load();
        }
    }

    // The resolved docker config directory.
    const std::string& config_dir() const { return m_config_dir; }

    // The context `docker context use` chose (config.json's currentContext), "" when none.
    const std::string& current_context() {
        check();
        return m_current_context;
    }

  private:
    void load();

    std::string m_config_dir;
    bool m_loaded = false;
    std::map<std::string, std::string> m_file_values;
    std::string m_current_context;
};

}  // namespace pallet::plugin
