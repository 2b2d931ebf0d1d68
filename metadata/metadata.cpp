#include "metadata/metadata.h"

#include <nlohmann/json.hpp>

#include "pallet_version.h"

namespace pallet::metadata {

std::string plugin_metadata_json() {
    nlohmann::ordered_json doc;
    doc["SchemaVersion"] = "0.1.0";
    doc["Vendor"] = k_vendor;
    doc["Version"] = k_version;
    doc["ShortDescription"] = k_short_description;
    doc["URL"] = k_url;
    return doc.dump();
}

}  // namespace pallet::metadata
