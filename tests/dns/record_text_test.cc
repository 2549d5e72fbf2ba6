#include "dns/record_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dp::dns {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

std::string wire(std::initializer_list<std::string> labels) {
  std::string out;
  for (const std::string& l : labels) {
    out.push_back(static_cast<char>(l.size()));
    out += l;
  }
  out.push_back('\0');
  return out;
}

TEST(RecordTextTest, NameTypeRdataWithDefaultTtl) {
  const auto r = record_text_parse("Printer.LAN A 10.0.0.5");
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->owner, wire({"printer", "lan"}));  // absolute, lowercased
  EXPECT_EQ(r->type, 1);
  EXPECT_EQ(r->ttl, 3600u);
  EXPECT_EQ(r->rdata, (Bytes{10, 0, 0, 5}));
}

TEST(RecordTextTest, TtlClassAndTrailingDot) {
  const auto r = record_text_parse("host.lan. 60 IN AAAA fd00::1");
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->owner, wire({"host", "lan"}));
  EXPECT_EQ(r->type, 28);
  EXPECT_EQ(r->ttl, 60u);
  EXPECT_EQ(r->rdata.size(), 16u);
  EXPECT_EQ(record_text_parse("x.lan A 1.2.3.4", 120)->ttl, 120u);
}

TEST(RecordTextTest, RdataNamesAreAbsoluteAndKeepTheirCase) {
  const auto mx = record_text_parse("lan MX 10 Mail.lan");
  ASSERT_TRUE(mx.has_value()) << mx.error();
  std::string expected = std::string("\x00\x0a", 2) + wire({"Mail", "lan"});
  EXPECT_EQ(std::string(mx->rdata.begin(), mx->rdata.end()), expected);
  const auto txt = record_text_parse("t.lan TXT \"a, b\" c");
  ASSERT_TRUE(txt.has_value()) << txt.error();
  EXPECT_EQ(txt->rdata, (Bytes{4, 'a', ',', ' ', 'b', 1, 'c'}));
}

TEST(RecordTextTest, ErrorsKeepLdnsText) {
  EXPECT_EQ(record_text_parse("x.lan A 10.0.0.300").error(),
            "Syntax error, could not parse the RR's rdata");
  EXPECT_EQ(record_text_parse("x.lan A").error(), "Syntax error, value expected");
  EXPECT_EQ(record_text_parse("x.lan A 1.2.3.4 extra").error(),
            "Syntax error, superfluous text present");
  EXPECT_THAT(record_text_parse("x.lan 60 IN").error(), HasSubstr("type"));
  EXPECT_FALSE(record_text_parse("").has_value());
}

TEST(RecordTextTest, OnlyClassInAndNoMetaTypes) {
  EXPECT_EQ(record_text_parse("x.lan CH A 1.2.3.4").error(), "class CH: only IN");
  EXPECT_THAT(record_text_parse("x.lan TYPE255 \\# 0").error(), HasSubstr("cannot be data"));
  EXPECT_THAT(record_text_parse("x.lan TYPE41 \\# 0").error(), HasSubstr("cannot be data"));
}

}  // namespace
}  // namespace dp::dns
