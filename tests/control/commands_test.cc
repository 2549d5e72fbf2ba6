#include "control/commands.h"

#include <gtest/gtest.h>

#include <string>

namespace dp::control {
namespace {

using namespace std::string_literals;

cache::EntryInfo info(const std::string& question) {
  cache::EntryInfo e;
  e.question = question;
  e.ttl_left_seconds = 42;
  e.bytes = 160;
  return e;
}

TEST(ControlDumpLineTest, EveryFieldOfAnEntry) {
  const std::string question =
      "\x03www\x07"
      "example\x00\x00\x1c\x00\x01"s;  // AAAA IN
  cache::EntryInfo e = info(question);
  e.key_flags = cache::kKeyFlagDo;
  EXPECT_EQ(dump_line(e, ""),
            "{\"name\":\"www.example.\",\"type\":\"AAAA\",\"class\":\"IN\",\"do\":true,"
            "\"cd\":false,\"ttl\":42,\"state\":\"fresh\",\"rcode\":\"NOERROR\",\"bytes\":160,"
            "\"route_tag\":0}\n");
}

TEST(ControlDumpLineTest, StaleExpiredRcodeAndZone) {
  const std::string question =
      "\x01x\x07"
      "cluster\x05local\x00\x00\x01\x00\x01"s;
  cache::EntryInfo e = info(question);
  e.ttl_left_seconds = -5;
  e.stale_servable = true;
  e.rcode = 3;
  e.route_tag = 4;
  e.key_flags = cache::kKeyFlagCd;
  const std::string stale = dump_line(e, "cluster.local");
  EXPECT_NE(stale.find("\"state\":\"stale\""), std::string::npos) << stale;
  EXPECT_NE(stale.find("\"rcode\":\"NXDOMAIN\""), std::string::npos) << stale;
  EXPECT_NE(stale.find("\"cd\":true"), std::string::npos) << stale;
  EXPECT_NE(stale.find("\"route_tag\":4,\"zone\":\"cluster.local\"}"), std::string::npos) << stale;
  e.stale_servable = false;
  EXPECT_NE(dump_line(e, "").find("\"state\":\"expired\""), std::string::npos);
  EXPECT_NE(dump_line(e, "").find("\"zone\":null"), std::string::npos);  // a retired route
}

// Names are bytes: quotes, backslashes and control bytes in a label must not break the line.
TEST(ControlDumpLineTest, ANameWithQuotesBackslashesAndControlBytesStaysOneValidJsonString) {
  const std::string question =
      "\x05"
      "a\"b\\\x01\x07"
      "example\x00\x00\x10\x00\x03"s;  // TXT CH
  const std::string line = dump_line(info(question), "");
  EXPECT_NE(line.find("\"name\":\"a\\\"b\\\\092\\\\001.example.\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"type\":\"TXT\",\"class\":\"CH\""), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  for (const char c : line.substr(0, line.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << line;
  }
}

TEST(ControlDumpLineTest, AnUnknownTypeAndClassAreGeneric) {
  const std::string question = "\x00\xff\xfe\x00\x2a"s;  // the root, TYPE65534, CLASS42
  const std::string line = dump_line(info(question), "");
  EXPECT_NE(line.find("\"name\":\".\",\"type\":\"TYPE65534\",\"class\":\"CLASS42\""),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace dp::control
