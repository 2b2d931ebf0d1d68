#include "util/strings.h"

#include <gtest/gtest.h>

#include "util/text_table.h"

namespace pallet::util {
namespace {

TEST(Strings, ShellQuote) {
    EXPECT_EQ(shell_quote("plain-word_1.2:/x"), "plain-word_1.2:/x");
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(shell_quote("a b"), "'a b'");
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_join({"docker", "run", "{{json .}}"}), "docker run '{{json .}}'");
}

TEST(Strings, ReplaceAll) {
    EXPECT_EQ(replace_all(":/export/{volume}/x{volume}", "{volume}", "storage"),
              ":/export/storage/xstorage");
    EXPECT_EQ(replace_all("none", "{volume}", "static"), "none");
    EXPECT_EQ(replace_all("aaa", "a", "aa"), "aaaaaa");
}

TEST(Strings, UtcTime) {
    EXPECT_EQ(utc_time(0, "%Y-%m-%dT%H:%M:%SZ"), "1970-01-01T00:00:00Z");
    EXPECT_EQ(utc_time(86400 * 365, "%Y-%m-%d"), "1971-01-01");
}

TEST(Strings, DnsLabels) {
    EXPECT_TRUE(is_dns_label("staging"));
    EXPECT_TRUE(is_dns_label("pr-42"));
    EXPECT_FALSE(is_dns_label(""));
    EXPECT_FALSE(is_dns_label("-x"));
    EXPECT_FALSE(is_dns_label("x-"));
    EXPECT_FALSE(is_dns_label("Prod"));
    EXPECT_FALSE(is_dns_label("a_b"));
    EXPECT_FALSE(is_dns_label(std::string(64, 'a')));
}

TEST(Strings, Durations) {
    EXPECT_EQ(parse_duration("90")->count(), 90);
    EXPECT_EQ(parse_duration("90s")->count(), 90);
    EXPECT_EQ(parse_duration("5m")->count(), 300);
    EXPECT_EQ(parse_duration("1h1m30s")->count(), 3690);
    EXPECT_EQ(parse_duration("3d")->count(), 3 * 86400);
    EXPECT_EQ(parse_duration("1d12h")->count(), 36 * 3600);
    EXPECT_FALSE(parse_duration("367d").has_value());
    EXPECT_FALSE(parse_duration("").has_value());
    EXPECT_FALSE(parse_duration("m").has_value());
    EXPECT_FALSE(parse_duration("5x").has_value());
    EXPECT_EQ(format_duration(std::chrono::seconds(5)), "5s");
    EXPECT_EQ(format_duration(std::chrono::seconds(125)), "2m05s");
    EXPECT_EQ(format_duration(std::chrono::seconds(3720)), "1h02m");
    EXPECT_EQ(format_duration(std::chrono::seconds(86400)), "24h00m");
    EXPECT_EQ(format_duration(std::chrono::seconds(3 * 86400 + 4 * 3600 + 5)), "3d04h");
}

TEST(Strings, SplitJoinTrim) {
    EXPECT_EQ(split("a|b||c", '|'), (std::vector<std::string>{"a", "b", "", "c"}));
    EXPECT_EQ(join({"a", "b"}, ", "), "a, b");
    EXPECT_EQ(trim("  x y \n"), "x y");
}

TEST(TextTable, PadsLikeDocker) {
    TextTable table({"NAME", "KIND"});
    table.add_row({"staging", "dev"});
    EXPECT_EQ(table.render(), "NAME      KIND\nstaging   dev\n");
}

}  // namespace
}  // namespace pallet::util

namespace pallet::util {
namespace {

TEST(Strings, NonEmptyLinesAreTrimmed) {
    EXPECT_EQ(nonempty_lines("a\n\n  b \r\n\t\nc"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(nonempty_lines("\n \n").empty());
}

TEST(Strings, AddressPortBracketsIpv6) {
    EXPECT_EQ(address_port("127.0.0.1", "8080"), "127.0.0.1:8080");
    EXPECT_EQ(address_port("::1", "8080"), "[::1]:8080");
    EXPECT_EQ(address_port("127.0.0.1", ""), "127.0.0.1:")
        << "docker's --publish with any free port";
}

}  // namespace
}  // namespace pallet::util

namespace pallet::util {
TEST(Strings, OneLineOfUserText) {
    EXPECT_TRUE(is_one_line("before the big import", 200));
    EXPECT_TRUE(is_one_line("", 200));
    EXPECT_FALSE(is_one_line("a\nb", 200)) << "a newline";
    EXPECT_FALSE(is_one_line("a\tb", 200)) << "a control character";
    EXPECT_FALSE(is_one_line(std::string(201, 'x'), 200)) << "too long";
    EXPECT_TRUE(is_one_line(std::string(200, 'x'), 200));
}

TEST(Strings, JoinAndAsASentenceSaysThem) {
    EXPECT_EQ(join_and({}), "");
    EXPECT_EQ(join_and({"a"}), "a");
    EXPECT_EQ(join_and({"a", "b"}), "a and b");
    EXPECT_EQ(join_and({"a", "b", "c"}), "a, b and c");
}
}  // namespace pallet::util
