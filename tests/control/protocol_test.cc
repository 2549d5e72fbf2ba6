#include "control/protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace dp::control {
namespace {

using namespace std::string_literals;

TEST(ControlRequestParseTest, EachCommandWithItsArguments) {
  auto flush = request_parse("flush WWW.Example.COM.");
  ASSERT_TRUE(flush) << flush.error();
  EXPECT_EQ(flush->command, Command::kFlush);
  EXPECT_EQ(flush->qname,
            "\x03www\x07"
            "example\x03"
            "com\x00"s);
  EXPECT_FALSE(flush->qtype);

  auto typed = request_parse("flush www.example.com aaaa");
  ASSERT_TRUE(typed) << typed.error();
  EXPECT_EQ(typed->qtype, 28);

  auto generic = request_parse("flush www.example.com TYPE65534");
  ASSERT_TRUE(generic) << generic.error();
  EXPECT_EQ(generic->qtype, 65534);

  auto zone = request_parse("  flush-zone\texample.com  ");
  ASSERT_TRUE(zone) << zone.error();
  EXPECT_EQ(zone->command, Command::kFlushZone);

  auto root = request_parse("flush-zone .");
  ASSERT_TRUE(root) << root.error();
  EXPECT_EQ(root->qname, "\x00"s);

  for (const auto& [line, command] :
       std::vector<std::pair<std::string, Command>>{{"flush-all", Command::kFlushAll},
                                                    {"cache-dump", Command::kCacheDump},
                                                    {"cache-dump example.com", Command::kCacheDump},
                                                    {"upstreams", Command::kUpstreams},
                                                    {"stats", Command::kStats},
                                                    {"reload", Command::kReload},
                                                    {"status", Command::kStatus}}) {
    auto parsed = request_parse(line);
    ASSERT_TRUE(parsed) << line << ": " << parsed.error();
    EXPECT_EQ(parsed->command, command) << line;
    EXPECT_STREQ(command_name(command), line.substr(0, line.find(' ')).c_str());
  }
}

TEST(ControlRequestParseTest, WrongArgumentCountsGiveTheUsage) {
  EXPECT_EQ(request_parse("flush").error(), "usage: flush NAME [TYPE]");
  EXPECT_EQ(request_parse("flush a b c").error(), "usage: flush NAME [TYPE]");
  EXPECT_EQ(request_parse("flush-zone").error(), "usage: flush-zone NAME");
  EXPECT_EQ(request_parse("flush-all now").error(), "usage: flush-all");
  EXPECT_EQ(request_parse("status x").error(), "usage: status");
  EXPECT_EQ(request_parse("cache-dump a b").error(), "usage: cache-dump [NAME]");
}

TEST(ControlRequestParseTest, EmptyUnknownAndControlCharactersAreErrors) {
  EXPECT_EQ(request_parse("").error(), "empty request");
  EXPECT_EQ(request_parse("   ").error(), "empty request");
  const std::string unknown = request_parse("FLUSH x").error();
  EXPECT_EQ(unknown.rfind("unknown command 'FLUSH' (try: flush, flush-zone", 0), 0u) << unknown;
  EXPECT_EQ(request_parse("status\x01").error(), "request has control characters");
  EXPECT_EQ(request_parse("flush a\0b"s).error(), "request has control characters");
  EXPECT_EQ(request_parse("flush \x7f").error(), "request has control characters");
  // A long unknown word is cut so the reason stays short.
  EXPECT_LT(request_parse(std::string(900, 'x')).error().size(), 200u);
}

TEST(ControlRequestParseTest, BadNamesAndTypesSayWhy) {
  EXPECT_EQ(request_parse("flush a..b").error(), "bad name 'a..b': empty label");
  EXPECT_EQ(request_parse("flush " + std::string(64, 'a')).error(),
            "bad name '" + std::string(64, 'a') + "': label longer than 63 bytes");
  EXPECT_EQ(request_parse("flush a\\046b").error(),
            "bad name 'a\\046b': escapes are not supported");
  EXPECT_EQ(request_parse("flush caf\xc3\xa9").error(),
            "bad name 'caf\xc3\xa9': not printable ASCII");
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";  // 305 bytes of wire
  EXPECT_EQ(request_parse("flush " + long_name).error(),
            "bad name '" + long_name.substr(0, 300) + "': longer than 255 bytes");  // cut
  EXPECT_EQ(request_parse("flush a.example NOTATYPE").error(), "unknown type 'NOTATYPE'");
  EXPECT_EQ(request_parse("flush a.example TYPE70000").error(), "unknown type 'TYPE70000'");
  EXPECT_EQ(request_parse("flush a.example TYPE").error(), "unknown type 'TYPE'");
}

TEST(ControlNameParseTest, LowercasesAndTakesAFinalDotOrNone) {
  EXPECT_EQ(*name_parse("A.b"),
            "\x01"
            "a\x01"
            "b\x00"s);
  EXPECT_EQ(*name_parse("a.b."),
            "\x01"
            "a\x01"
            "b\x00"s);
  EXPECT_EQ(*name_parse("_dmarc.x-y.example"),
            "\x06_dmarc\x03x-y\x07"
            "example\x00"s);
  EXPECT_FALSE(name_parse(""));
  EXPECT_FALSE(name_parse(".a"));
  EXPECT_FALSE(name_parse("a.."));
}

TEST(ControlJsonEscapeTest, QuotesBackslashesControlAndHighBytes) {
  EXPECT_EQ(json_escape("www.example."), "www.example.");
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escape("a\nb\tc\r"), "a\\nb\\tc\\r");
  EXPECT_EQ(json_escape("\x01\x1f"), "\\u0001\\u001f");
  EXPECT_EQ(json_escape("\x7f\xff"), "\\u007f\\u00ff");
  EXPECT_EQ(json_escape("a\0b"s), "a\\u0000b");
  EXPECT_EQ(json_string("x\"y"), "\"x\\\"y\"");
}

TEST(ControlReplyTest, FinalLinesAreOneLineEach) {
  EXPECT_EQ(reply_ok(), "ok\n");
  EXPECT_EQ(reply_ok("removed 3"), "ok removed 3\n");
  EXPECT_EQ(reply_error("bad\nthing\r"), "error bad thing \n");
}

}  // namespace
}  // namespace dp::control
