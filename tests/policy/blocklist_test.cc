#include "policy/blocklist.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dns/message.h"
#include "dns/test_packets.h"
#include "fakes/test_pki.h"
#include "policy/blocklist_names.h"

namespace dp::policy {
namespace {

using testing::generated_names;
using testing::wire;

Blocklist list_of(std::string_view text, BlocklistFileReport* report = nullptr) {
  Blocklist list;
  auto added = list.add_text(text, "test.list");
  EXPECT_TRUE(added.has_value());
  if (report != nullptr && added.has_value()) *report = *added;
  return list;
}

TEST(BlocklistTest, ANameBlocksItselfAndEveryNameUnderIt) {
  const Blocklist list = list_of("ads.example.com\ntracker.test.\n");
  EXPECT_EQ(list.size(), 2u);
  EXPECT_TRUE(list.blocked(wire("ads.example.com")));
  EXPECT_TRUE(list.blocked(wire("x.ads.example.com")));
  EXPECT_TRUE(list.blocked(wire("a.b.c.d.ads.example.com")));
  EXPECT_TRUE(list.blocked(wire("tracker.test")));  // the trailing dot in the file is optional
  EXPECT_TRUE(list.blocked(wire("cdn.tracker.test")));
  EXPECT_FALSE(list.blocked(wire("example.com")));  // the parent is not blocked
  EXPECT_FALSE(list.blocked(wire("www.example.com")));
  EXPECT_FALSE(list.blocked(wire("test")));
}

TEST(BlocklistTest, OnlyWholeLabelsMatchNotTrailingCharacters) {
  const Blocklist list = list_of("example.com\n");
  EXPECT_TRUE(list.blocked(wire("example.com")));
  EXPECT_FALSE(list.blocked(wire("notexample.com")));
  EXPECT_FALSE(list.blocked(wire("www.notexample.com")));
  EXPECT_FALSE(list.blocked(wire("xample.com")));
  EXPECT_FALSE(list.blocked(wire("example.com.evil")));
  EXPECT_FALSE(list.blocked(wire("example.co")));
  EXPECT_FALSE(list.blocked(wire("com")));
}

TEST(BlocklistTest, HostsFileLinesGiveTheirNamesAndSkipTheBoilerplate) {
  BlocklistFileReport report;
  const Blocklist list = list_of(
      "127.0.0.1 localhost\n"
      "127.0.0.1\tlocalhost.localdomain localhost\n"
      "255.255.255.255 broadcasthost\n"
      "::1 localhost ip6-localhost ip6-loopback\n"
      "fe80::1%lo0 localhost\n"  // zone index: not an address we read, and two words: bad
      "ff02::1 ip6-allnodes\n"
      "0.0.0.0 0.0.0.0\n"
      "0.0.0.0 ads.example.com\n"
      "127.0.0.1 a.example b.example   c.example\n"
      ":: v6.example\n",
      &report);
  EXPECT_EQ(list.size(), 5u);
  for (const char* name :
       {"ads.example.com", "a.example", "b.example", "c.example", "v6.example", "sub.c.example"}) {
    EXPECT_TRUE(list.blocked(wire(name))) << name;
  }
  for (const char* name : {"localhost", "localhost.localdomain", "broadcasthost", "ip6-localhost",
                           "ip6-allnodes", "0.0.0.0", "example"}) {
    EXPECT_FALSE(list.blocked(wire(name))) << name;
  }
  EXPECT_EQ(report.bad_lines, 1u);
  EXPECT_EQ(report.first_bad_line, 5u);
  EXPECT_EQ(report.names, 5u);
  EXPECT_EQ(report.lines, 10u);
}

TEST(BlocklistTest, CommentsBlankLinesAndLineEndingsAreIgnored) {
  BlocklistFileReport report;
  const Blocklist list = list_of(
      "\xef\xbb\xbf# a list with a byte order mark\n"
      "\n"
      "   \t  \n"
      "# 0.0.0.0 commented.example\n"
      "one.example   # trailing comment\n"
      "0.0.0.0 two.example#no space before it\n"
      "  three.example  \r\n"
      "four.example",  // no final newline
      &report);
  EXPECT_EQ(report.bad_lines, 0u);
  EXPECT_EQ(report.first_bad_line, 0u);
  EXPECT_EQ(list.size(), 4u);
  for (const char* name : {"one.example", "two.example", "three.example", "four.example"}) {
    EXPECT_TRUE(list.blocked(wire(name))) << name;
  }
  EXPECT_FALSE(list.blocked(wire("commented.example")));
}

TEST(BlocklistTest, MalformedLinesAreSkippedCountedAndTheRestLoads) {
  BlocklistFileReport report;
  const std::string long_label(64, 'a');
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(63, 'b') + ".";  // 256 bytes in wire form
  const std::string text = std::string("good.example\n") +
                           "||adblock.example^\n" +               // 2: adblock syntax
                           "two words.example\n" +                // 3
                           "0.0.0.0\n" +                          // 4: an address, no name
                           "empty..label.example\n" +             // 5
                           ".leading.example\n" +                 // 6
                           ".\n" +                                // 7: the root
                           long_label + ".example\n" +            // 8: a 64-byte label
                           long_name + "\n" +                     // 9: over 255 bytes
                           "http://url.example/path\n" +          // 10
                           "*.wildcard.example\n" +               // 11
                           "caf\xc3\xa9.example\n" +              // 12: not ASCII
                           "0.0.0.0 ok.example bad!.example\n" +  // 13: ok.example is kept
                           "also-good_1.example\n";
  const Blocklist list = list_of(text, &report);
  EXPECT_EQ(report.bad_lines, 12u);
  EXPECT_EQ(report.first_bad_line, 2u);
  EXPECT_EQ(report.lines, 14u);
  EXPECT_EQ(report.names, 3u);
  EXPECT_EQ(list.size(), 3u);
  EXPECT_TRUE(list.blocked(wire("good.example")));
  EXPECT_TRUE(list.blocked(wire("ok.example")));
  EXPECT_TRUE(list.blocked(wire("also-good_1.example")));
  EXPECT_FALSE(list.blocked(wire("label.example")));
  EXPECT_FALSE(list.blocked(wire("words.example")));
  // The longest names that fit are taken: 63-byte labels, 255 bytes in wire form.
  const std::string longest = std::string(63, 'c') + "." + std::string(63, 'c') + "." +
                              std::string(63, 'c') + "." + std::string(61, 'c');
  EXPECT_TRUE(list_of(longest + "\n").blocked(wire(longest)));
}

TEST(BlocklistTest, NamesMatchWhateverTheirCase) {
  const Blocklist list = list_of("Ads.EXAMPLE.com\n0.0.0.0 TRACKER.Test\n");
  EXPECT_TRUE(list.blocked(wire("ads.example.com")));
  EXPECT_TRUE(list.blocked(wire("tracker.test")));
  // A client's 0x20 mixed case reaches the list lowercased by query_parse.
  const dns::Query query = dns::testing::parsed(dns::testing::plain_query());  // WwW.ExAmple.COM
  EXPECT_TRUE(list_of("EXAMPLE.com").blocked(query.question.qname_lower));
  EXPECT_FALSE(list_of("ExAmple.net").blocked(query.question.qname_lower));
}

TEST(BlocklistTest, ATldCanBeBlockedTheRootCannot) {
  BlocklistFileReport report;
  const Blocklist list = list_of("zip\n.\n", &report);
  EXPECT_EQ(report.bad_lines, 1u);  // "." would block everything: surely a mistake
  EXPECT_EQ(report.first_bad_line, 2u);
  EXPECT_TRUE(list.blocked(wire("zip")));
  EXPECT_TRUE(list.blocked(wire("files.zip")));
  EXPECT_FALSE(list.blocked(wire("zipper")));
  EXPECT_FALSE(list.blocked(wire("zip.com")));
  EXPECT_FALSE(list.blocked(wire(".")));           // the root name itself
  EXPECT_FALSE(list.blocked(std::string_view()));  // not a wire name at all
  EXPECT_FALSE(Blocklist().blocked(wire("zip")));  // an empty list
  // The deepest names there are: 255 bytes in wire form, 126 labels under "zip" and 127
  // one-byte labels under "z". One label more is no DNS name and blocks nothing.
  std::string deep;
  for (int i = 0; i < 125; ++i) deep += "a.";
  EXPECT_TRUE(list.blocked(wire(deep + "zip")));
  EXPECT_FALSE(list.blocked(wire(deep + "zipx")));
  const Blocklist z = list_of("z\n");
  EXPECT_TRUE(z.blocked(wire(deep + "a.z")));
  EXPECT_FALSE(z.blocked(wire(deep + "a.a.z")));
}

TEST(BlocklistTest, DuplicatesAreCountedOnceAcrossFiles) {
  Blocklist list;
  auto first = list.add_text("a.example\nb.example\na.example\n", "one");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->names, 2u);
  EXPECT_EQ(first->duplicates, 1u);
  auto second = list.add_text("0.0.0.0 B.example c.example\n", "two");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->names, 1u);
  EXPECT_EQ(second->duplicates, 1u);
  EXPECT_EQ(list.size(), 3u);
  ASSERT_EQ(list.reports().size(), 2u);
  EXPECT_EQ(list.reports()[1].source, "two");
}

TEST(BlocklistTest, LoadReadsEveryFileAndAFileThatCannotBeReadIsAnError) {
  testing::TempDir dir("dotproxy-blocklist");
  const std::string one = dir.file("one.list");
  const std::string two = dir.file("two.hosts");
  std::ofstream(one) << "one.example\nbad line here\n";
  std::ofstream(two) << "0.0.0.0 two.example\n";
  const std::vector<std::string> both = {one, two};
  auto list = Blocklist::load(both);
  ASSERT_TRUE(list.has_value()) << list.error();
  EXPECT_EQ(list->size(), 2u);
  EXPECT_TRUE(list->blocked(wire("www.one.example")));
  EXPECT_TRUE(list->blocked(wire("two.example")));
  ASSERT_EQ(list->reports().size(), 2u);
  EXPECT_EQ(list->reports()[0].source, one);
  EXPECT_EQ(list->reports()[0].bad_lines, 1u);
  EXPECT_EQ(list->reports()[0].first_bad_line, 2u);
  EXPECT_GT(list->memory_bytes(), 0u);

  const std::string missing = dir.file("missing.list");
  const std::vector<std::string> with_missing = {one, missing};
  auto failed = Blocklist::load(with_missing);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error(), "cannot read '" + missing + "': No such file or directory");
  const std::vector<std::string> directory = {dir.path()};
  auto not_file = Blocklist::load(directory);
  ASSERT_FALSE(not_file.has_value());
  EXPECT_EQ(not_file.error(), "cannot read '" + dir.path() + "': Is a directory");
  EXPECT_TRUE(Blocklist::load({}).has_value());  // no files: an empty list
}

TEST(BlocklistTest, EveryNameOfAGrowingTableStaysFound) {
  const auto names = generated_names(50'000);  // the table doubles many times on the way
  std::string text;
  for (const auto& name : names) text += name + "\n";
  const Blocklist list = list_of(text);
  ASSERT_EQ(list.size(), names.size());
  for (const auto& name : names) {
    ASSERT_TRUE(list.blocked(wire(name))) << name;
    ASSERT_TRUE(list.blocked(wire("www." + name))) << name;
    ASSERT_FALSE(list.blocked(wire("x" + name))) << name;
    ASSERT_FALSE(list.blocked(wire(name.substr(name.find('.') + 1)))) << name;  // the parent
  }
}

// The bar: a million names in about a second in a release build (0.55 s measured);
// the bound leaves room for a busy machine. Debug and ASan builds are about 7x slower (3.5 s
// measured), so there the test checks only that the load finishes. The figure is printed.
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
constexpr double kMillionLoadBoundSeconds = 5.0;
#else
constexpr double kMillionLoadBoundSeconds = 60.0;
#endif

TEST(BlocklistTest, AMillionNamesLoadWithinBounds) {
  testing::TempDir dir("dotproxy-blocklist");
  const std::string path = dir.file("million.list");
  const auto names = generated_names(1'000'000);
  {
    std::ofstream out(path);
    for (const auto& name : names) out << name << '\n';
  }
  const std::vector<std::string> paths = {path};
  const auto started = std::chrono::steady_clock::now();
  auto list = Blocklist::load(paths);
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  ASSERT_TRUE(list.has_value()) << list.error();
  EXPECT_EQ(list->size(), 1'000'000u);
  EXPECT_EQ(list->reports()[0].bad_lines, 0u);
  std::printf("[ blocklist ] 1,000,000 names loaded in %.0f ms, %.1f MiB\n", took.count() * 1e3,
              static_cast<double>(list->memory_bytes()) / (1024.0 * 1024.0));
  EXPECT_LT(took.count(), kMillionLoadBoundSeconds);
  // About 40 bytes a name: the names' wire bytes and a half-empty table of 8-byte slots.
  EXPECT_LT(list->memory_bytes(), 64u * 1024 * 1024);
  EXPECT_TRUE(list->blocked(wire(names.front())));
  EXPECT_TRUE(list->blocked(wire("deep.sub." + names.back())));
  EXPECT_FALSE(list->blocked(wire("not-listed.example.com")));
}

}  // namespace
}  // namespace dp::policy
