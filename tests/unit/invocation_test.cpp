#include "plugin/invocation.h"

#include <gtest/gtest.h>

#include <ostream>

#include "util/error.h"

namespace pallet::plugin {
namespace {

using Args = std::vector<std::string>;

struct Case {
    Args argv;
    Args global_args;
    Args args;
    bool help = false;
    bool debug = false;
};

// gtest prints a case as its argv.
void PrintTo(const Case& c, std::ostream* os) {
    for (const auto& word : c.argv) {
        *os << word << ' ';
    }
}

class InvocationTable : public ::testing::TestWithParam<Case> {};

TEST_P(InvocationTable, ParsesGlobalsThenPluginArgs) {
    const Case& c = GetParam();
    Invocation inv = parse_invocation(c.argv);
    EXPECT_EQ(inv.kind, Invocation::Kind::run);
    EXPECT_EQ(inv.global_args, c.global_args);
    EXPECT_EQ(inv.args, c.args);
    EXPECT_EQ(inv.help, c.help);
    EXPECT_EQ(inv.debug, c.debug);
}

INSTANTIATE_TEST_SUITE_P(
    ProtocolCases, InvocationTable,
    ::testing::Values(
        Case{{"pallet", "status"}, {}, {"status"}},
        Case{{"--context", "prod", "pallet", "deploy", "e", "i"},
             {"--context", "prod"},
             {"deploy", "e", "i"}},
        Case{{"--context=prod", "pallet", "status"}, {"--context=prod"}, {"status"}},
        Case{{"-c", "prod", "pallet", "status"}, {"-c", "prod"}, {"status"}},
        Case{{"-cprod", "pallet", "status"}, {"-cprod"}, {"status"}},
        // The plugin's name as a flag value is not the plugin name.
        Case{{"--context", "pallet", "pallet", "status"}, {"--context", "pallet"}, {"status"}},
        Case{{"-H", "unix:///x.sock", "-l", "debug", "pallet", "status"},
             {"-H", "unix:///x.sock", "-l", "debug"},
             {"status"},
             false,
             true},
        Case{{"-D", "pallet", "status"}, {"-D"}, {"status"}, false, true},
        Case{{"-Dl", "info", "pallet", "status"}, {"-Dl", "info"}, {"status"}, false, true},
        Case{{"--debug=false", "pallet", "status"}, {"--debug=false"}, {"status"}},
        Case{{"--tls", "--tlsverify=false", "--tlscacert", "ca.pem", "pallet", "status"},
             {"--tls", "--tlsverify=false", "--tlscacert", "ca.pem"},
             {"status"}},
        Case{{"--config", "/tmp/c", "pallet", "status"}, {"--config", "/tmp/c"}, {"status"}},
        // Help in its three spellings, never passed on to docker.
        Case{{"pallet", "--help"}, {}, {"--help"}},
        Case{{"help", "pallet", "deploy"}, {}, {"deploy"}, true},
        Case{{"--help", "pallet", "deploy"}, {}, {"deploy"}, true},
        Case{{"-Dh", "pallet"}, {"-D"}, {}, true, true},
        // Flags after `pallet` are the plugin's, even with a global's name.
        Case{{"pallet", "logs", "-H", "x"}, {}, {"logs", "-H", "x"}},
        // Standalone use.
        Case{{"status"}, {}, {"status"}},
        Case{{"--dry-run", "deploy", "e", "i"}, {}, {"--dry-run", "deploy", "e", "i"}},
        // A cluster that is not all docker's is the plugin's own: no effect (found by fuzzing).
        Case{{"-Dq", "status"}, {}, {"-Dq", "status"}, false, false}, Case{{}, {}, {}}),
    [](const ::testing::TestParamInfo<Case>& info) { return "case" + std::to_string(info.index); });

TEST(Invocation, MetadataIsTheSingleArgument) {
    EXPECT_EQ(parse_invocation({"docker-cli-plugin-metadata"}).kind, Invocation::Kind::metadata);
    EXPECT_EQ(parse_invocation({"pallet", "docker-cli-plugin-metadata"}).kind,
              Invocation::Kind::run);
}

TEST(Invocation, HooksAndCompletion) {
    EXPECT_EQ(parse_invocation({"pallet", "docker-cli-plugin-hooks", "{}"}).kind,
              Invocation::Kind::hooks);
    Invocation inv = parse_invocation({"__complete", "pallet", "de"});
    EXPECT_EQ(inv.kind, Invocation::Kind::complete);
    EXPECT_EQ(inv.args, Args{"de"});
    EXPECT_TRUE(inv.descriptions);
    inv = parse_invocation({"__completeNoDesc", "env", ""});
    EXPECT_EQ(inv.kind, Invocation::Kind::complete)
        << "as Debian's bash completion runs the plugin";
    EXPECT_EQ(inv.args, (Args{"env", ""}));
    EXPECT_FALSE(inv.descriptions);
}

TEST(Invocation, ConfigDirIsRemembered) {
    EXPECT_EQ(parse_invocation({"--config", "/c", "pallet", "status"}).config_dir, "/c");
    EXPECT_EQ(parse_invocation({"--config=/d", "pallet"}).config_dir, "/d");
}

TEST(Invocation, GlobalFlagWithoutValueIsAUsageError) {
    EXPECT_THROW(parse_invocation({"--context"}), UsageError);
    EXPECT_THROW(parse_invocation({"-H"}), UsageError);
    EXPECT_THROW(parse_invocation({"--tls=maybe", "pallet"}), UsageError);
}

}  // namespace
}  // namespace pallet::plugin
