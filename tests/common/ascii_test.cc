#include "common/ascii.h"

#include <gtest/gtest.h>

#include <string>

namespace dp {
namespace {

TEST(AsciiLower, LowersExactlyTheUpperCaseLetters) {
  for (int i = 0; i < 256; ++i) {
    const auto c = static_cast<char>(i);
    const char expected = i >= 'A' && i <= 'Z' ? static_cast<char>(i + 32) : c;
    EXPECT_EQ(ascii_lower(c), expected) << i;
  }
}

TEST(AsciiLower, LeavesTheNeighboursOfTheLetterRangeAlone) {
  // '@' and '[' sit just outside A-Z; 0xc1 is 'A' with the top bit set (Latin-1 Á).
  EXPECT_EQ(ascii_lower('@'), '@');
  EXPECT_EQ(ascii_lower('['), '[');
  EXPECT_EQ(ascii_lower(static_cast<char>(0xc1)), static_cast<char>(0xc1));
  static_assert(ascii_lower('Q') == 'q');  // usable at compile time
}

TEST(AsciiLowerEqual, ComparesAWireNameIgnoringCase) {
  const std::string mixed("\3WwW\7ExAmPlE\3CoM\0", 17);
  const std::string lower("\3www\7example\3com\0", 17);
  EXPECT_TRUE(ascii_lower_equal(mixed, lower));
  EXPECT_TRUE(ascii_lower_equal("", ""));
  EXPECT_FALSE(ascii_lower_equal(mixed, lower.substr(0, 16)));  // sizes differ
  EXPECT_FALSE(ascii_lower_equal("\3wwX", "\3www"));
  // `lower` is taken as given: an upper-case letter there never matches.
  EXPECT_FALSE(ascii_lower_equal("A", "A"));
}

}  // namespace
}  // namespace dp
