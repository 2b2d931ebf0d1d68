#include "metadata/metadata.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pallet::metadata {
namespace {

TEST(Metadata, OneObjectWithTheRequiredFields) {
    const std::string text = plugin_metadata_json();
    EXPECT_EQ(text.find('\n'), std::string::npos);
    auto doc = nlohmann::json::parse(text);
    EXPECT_EQ(doc.at("SchemaVersion"), "0.1.0");
    EXPECT_FALSE(doc.at("Vendor").get<std::string>().empty());
    EXPECT_FALSE(doc.at("Version").get<std::string>().empty());
    EXPECT_FALSE(doc.at("ShortDescription").get<std::string>().empty());
    EXPECT_FALSE(doc.contains("Experimental"));
}

}  // namespace
}  // namespace pallet::metadata
