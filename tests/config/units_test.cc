#include "config/units.h"

#include <gtest/gtest.h>

namespace dp::config {
namespace {

using std::chrono::milliseconds;

TEST(ConfigUnitsTest, CountParseTakesDecimalDigitsOnly) {
  EXPECT_EQ(count_parse("0"), 0u);
  EXPECT_EQ(count_parse("1024"), 1024u);
  EXPECT_EQ(count_parse("18446744073709551615"), 18446744073709551615u);
  for (const char* bad :
       {"", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "abc", "18446744073709551616"}) {
    EXPECT_EQ(count_parse(bad), std::nullopt) << bad;
  }
}

TEST(ConfigUnitsTest, DurationParseUnits) {
  EXPECT_EQ(duration_parse("500ms"), milliseconds(500));
  EXPECT_EQ(duration_parse("3s"), milliseconds(3'000));
  EXPECT_EQ(duration_parse("1m"), milliseconds(60'000));
  EXPECT_EQ(duration_parse("1h"), milliseconds(3'600'000));
  EXPECT_EQ(duration_parse("1d"), milliseconds(86'400'000));
  EXPECT_EQ(duration_parse("0ms"), milliseconds(0));
}

TEST(ConfigUnitsTest, DurationParseBareNumberIsSeconds) {
  EXPECT_EQ(duration_parse("3"), milliseconds(3'000));
  EXPECT_EQ(duration_parse("0"), milliseconds(0));
}

TEST(ConfigUnitsTest, DurationParseRejectsOtherForms) {
  for (const char* bad : {"", "abc", "s", "ms", "-1s", "+1s", "1.5s", "3 s", " 3s", "3s ", "3S",
                          "3sec", "3us", "1w", "3ss", "3sm"}) {
    EXPECT_EQ(duration_parse(bad), std::nullopt) << bad;
  }
}

TEST(ConfigUnitsTest, DurationParseRejectsOverflow) {
  EXPECT_EQ(duration_parse("9223372036854775807ms"), milliseconds(9223372036854775807LL));
  EXPECT_EQ(duration_parse("9223372036854775808ms"), std::nullopt);
  EXPECT_EQ(duration_parse("106751991167301d"), std::nullopt);
  EXPECT_EQ(duration_parse("99999999999999999999999s"), std::nullopt);
}

TEST(ConfigUnitsTest, DurationFormatPicksLargestExactUnit) {
  EXPECT_EQ(duration_format(milliseconds(500)), "500ms");
  EXPECT_EQ(duration_format(milliseconds(3'000)), "3s");
  EXPECT_EQ(duration_format(milliseconds(90'000)), "90s");
  EXPECT_EQ(duration_format(milliseconds(120'000)), "2m");
  EXPECT_EQ(duration_format(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(duration_format(milliseconds(86'400'000)), "1d");
  EXPECT_EQ(duration_format(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(duration_format(milliseconds(0)), "0ms");
}

TEST(ConfigUnitsTest, DurationFormatRoundTrips) {
  for (const char* text : {"1ms", "999ms", "10s", "59m", "23h", "7d"}) {
    const auto d = duration_parse(text);
    ASSERT_TRUE(d) << text;
    EXPECT_EQ(duration_format(*d), text);
  }
}

TEST(ConfigUnitsTest, SizeParseBinaryUnits) {
  EXPECT_EQ(size_parse("4096"), 4096u);
  EXPECT_EQ(size_parse("512B"), 512u);
  EXPECT_EQ(size_parse("64KiB"), 64u * 1024);
  EXPECT_EQ(size_parse("64MiB"), 64u * 1024 * 1024);
  EXPECT_EQ(size_parse("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(size_parse("64K"), 64u * 1024);
  EXPECT_EQ(size_parse("64M"), 64u * 1024 * 1024);
  EXPECT_EQ(size_parse("2G"), 2ULL * 1024 * 1024 * 1024);
}

TEST(ConfigUnitsTest, SizeParseRejectsOtherForms) {
  for (const char* bad :
       {"", "MiB", "-1", "64m", "64mib", "M", "64 MiB", "64KB", "1.5GiB", "17179869184GiB"}) {
    EXPECT_EQ(size_parse(bad), std::nullopt) << bad;
  }
}

TEST(ConfigUnitsTest, SizeFormatPicksLargestExactUnit) {
  EXPECT_EQ(size_format(64u * 1024 * 1024), "64MiB");
  EXPECT_EQ(size_format(1536), "1536B");
  EXPECT_EQ(size_format(1000), "1000B");
  EXPECT_EQ(size_format(2048), "2KiB");
  EXPECT_EQ(size_format(0), "0B");
}

}  // namespace
}  // namespace dp::config
