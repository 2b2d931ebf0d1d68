#include "plugin/completion.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

namespace pallet::plugin {
namespace {

// A command tree shaped like the plugin's: groups, positionals, flags with choices, FILE.
class Completion : public ::testing::Test {
  protected:
    Completion() {
        root.add_flag("--dry-run", flag, "Print, do not run");
        auto* env = root.add_subcommand("env", "Manage environments");
        auto* create = env->add_subcommand("create", "Create an environment");
        create->add_option("ENV", text, "Environment name");
        create->add_option("--kind", text, "Its kind")->check(CLI::IsMember({"dev", "prod"}));
        create->add_option("--tls-cert", text, "A certificate")->type_name("FILE");
        create->add_option("--from", text, "A copy of this environment");
        create->add_option("--service", texts, "A service")
            ->expected(1)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        env->add_subcommand("show", "Show one")->add_option("ENV", text, "Environment name");
        auto* deploy = root.add_subcommand("deploy", "Deploy a version");
        deploy->add_option("ENV", text, "Environment name");
        deploy->add_option("IMAGE", text, "The image")
            ->check(CLI::Validator([](std::string&) { return std::string(); }, "IMAGE"));
        deploy->add_option("--wait", text, "Wait")->expected(0, 1);
        deploy->add_option("-e,--env", texts, "A variable");
        sources.environments = [this] {
            ++engine_calls;
            return std::vector<std::string>{"prod", "staging"};
        };
        sources.images = [this] {
            ++engine_calls;
            return std::vector<std::string>{"shop:1", "shop:2"};
        };
        sources.services = [] { return std::vector<std::string>{"postgres", "redis"}; };
    }
    std::string complete_words(const std::vector<std::string>& args) {
        return complete(root, args, sources, false);
    }

    CLI::App root{"test", "pallet"};
    bool flag = false;
    std::string text;
    std::vector<std::string> texts;
    CompletionSources sources;
    int engine_calls = 0;
};

TEST_F(Completion, CommandsWithTheirDescriptions) {
    EXPECT_EQ(complete(root, {""}, sources),
              "env\tManage environments\ndeploy\tDeploy a version\n:4\n");
    EXPECT_EQ(complete_words({"de"}), "deploy\n:4\n");
    EXPECT_EQ(complete_words({"env", "s"}), "show\n:4\n");
    EXPECT_EQ(engine_calls, 0) << "commands need no engine";
}

TEST_F(Completion, ArgumentsFromTheEngine) {
    EXPECT_EQ(complete_words({"env", "show", "st"}), "staging\n:4\n");
    EXPECT_EQ(complete_words({"deploy", "prod", ""}), "shop:1\nshop:2\n:4\n")
        << "IMAGE: local images";
    EXPECT_EQ(complete_words({"deploy", "--wait", "prod", "shop:"}), "shop:1\nshop:2\n:4\n")
        << "--wait takes no separate value";
    EXPECT_EQ(complete_words({"deploy", "-e", "A=1", "p"}), "prod\n:4\n")
        << "-e takes the next word";
    EXPECT_EQ(complete_words({"--dry-run", "deploy", "prod", "shop:1", ""}), ":4\n")
        << "nothing more to offer";
    EXPECT_EQ(complete_words({"deploy", "prod", "shop:1", "--", ""}), ":4\n")
        << "the application's arguments";
}

TEST_F(Completion, FlagsAndTheirValues) {
    EXPECT_EQ(complete_words({"env", "create", "x", "--k"}), "--kind\n:4\n");
    EXPECT_EQ(complete_words({"env", "create", "x", "--kind", ""}), "dev\nprod\n:4\n");
    EXPECT_EQ(complete_words({"env", "create", "x", "--kind=p"}), "--kind=prod\n:4\n");
    EXPECT_EQ(complete_words({"env", "create", "x", "--service", "r"}), "redis\n:4\n");
    EXPECT_EQ(complete_words({"env", "create", "pr-1", "--from", "st"}), "staging\n:4\n")
        << "--from: an environment";
    EXPECT_EQ(complete_words({"env", "create", "x", "--tls-cert", ""}), ":0\n")
        << "FILE: the shell completes files";
    EXPECT_EQ(complete_words({"--d"}), "--dry-run\n:4\n") << "the plugin's own flags";
    EXPECT_EQ(complete_words({"deploy", "-"}), "--help\n-h\n--wait\n--env\n-e\n--dry-run\n:4\n");
    const std::string again =
        complete_words({"env", "create", "x", "--kind", "dev", "--service", "redis", "--"});
    EXPECT_EQ(again.find("--kind"), std::string::npos)
        << "a once-only flag given already is not offered again";
    EXPECT_NE(again.find("--service"), std::string::npos) << "a repeatable one is";
}

}  // namespace
}  // namespace pallet::plugin
