#include "common/log.h"

#include <gtest/gtest.h>

namespace dp::log {
namespace {

TEST(CommonLogTest, FormatsLogfmtAndQuotesWhatNeedsIt) {
  EXPECT_EQ(format(Level::kWarn, "upstream failed",
                   {{"upstream", "1.1.1.1@853#cloudflare-dns.com"},
                    {"detail", "The certificate is \"NOT\" trusted.\n"}}),
            "level=warn msg=\"upstream failed\" upstream=1.1.1.1@853#cloudflare-dns.com "
            "detail=\"The certificate is \\\"NOT\\\" trusted.\\n\"");
  EXPECT_EQ(format(Level::kInfo, "x", {{"empty", ""}}), "level=info msg=x empty=\"\"");
}

TEST(CommonLogTest, FormatsOneJsonObjectWithEverythingEscaped) {
  EXPECT_EQ(format(Level::kError, "reload rejected", {{"error", "bad \"x\"\\y\n\x01"}, {"n", "3"}},
                   Format::kJson),
            "{\"level\":\"error\",\"msg\":\"reload rejected\","
            "\"error\":\"bad \\\"x\\\"\\\\y\\n\\u0001\",\"n\":\"3\"}");
  EXPECT_EQ(format_parse("json"), Format::kJson);
  EXPECT_EQ(format_parse("logfmt"), Format::kLogfmt);
  EXPECT_FALSE(format_parse("text"));
}

TEST(CommonLogTest, LevelsParseAndFilter) {
  EXPECT_EQ(level_parse("debug"), Level::kDebug);
  EXPECT_EQ(level_parse("warning"), Level::kWarn);
  EXPECT_FALSE(level_parse("verbose"));
  set_level(Level::kWarn);
  EXPECT_TRUE(enabled(Level::kError));
  EXPECT_TRUE(enabled(Level::kWarn));
  EXPECT_FALSE(enabled(Level::kInfo));
  set_level(Level::kInfo);
}

}  // namespace
}  // namespace dp::log
