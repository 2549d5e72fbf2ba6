#include "dns/answer_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/ldns_include.h"
#include "tests/dns/test_packets.h"

namespace dp::dns {
namespace {

using namespace ::dp::dns::testing;  // NOLINT: test helpers

TEST(DnsAnswerCheckTest, MatchesTheQuestionAndRefusesWhatIsNoAnswer) {
  const Question asked = parsed(plain_query()).question;
  const Bytes answer = upstream_answer(1);
  EXPECT_TRUE(answer_check(answer, asked));

  Question other = asked;
  other.qtype = 28;
  EXPECT_EQ(answer_check(answer, other).error(), AnswerError::kQuestionMismatch);
  other = asked;
  other.qname_lower[1] = 'x';
  EXPECT_EQ(answer_check(answer, other).error(), AnswerError::kQuestionMismatch);

  Bytes upper = answer;  // the upstream may change the case: the match ignores it
  std::transform(upper.begin() + 12, upper.begin() + 28, upper.begin() + 12,
                 [](std::uint8_t c) { return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; });
  ASSERT_NE(upper, answer);
  EXPECT_TRUE(answer_check(upper, asked));

  Bytes query_bit = answer;
  query_bit[2] &= 0x7f;
  EXPECT_EQ(answer_check(query_bit, asked).error(), AnswerError::kNotResponse);
  Bytes notify = answer;
  notify[2] |= 4 << 3;
  EXPECT_EQ(answer_check(notify, asked).error(), AnswerError::kNotResponse);

  Bytes truncated = answer;
  truncated.resize(truncated.size() - 2);
  EXPECT_EQ(answer_check(truncated, asked).error(), AnswerError::kMalformed);
  EXPECT_EQ(answer_check(Bytes{1, 2, 3}, asked).error(), AnswerError::kMalformed);
  EXPECT_STREQ(answer_error_name(AnswerError::kQuestionMismatch), "question_mismatch");
}

TEST(DnsAnswerCheckTest, KeepaliveReadsTheServersIdleTimeout) {
  Bytes answer = upstream_answer(1);
  EXPECT_FALSE(answer_keepalive(answer));  // no OPT at all
  // OPT with a cookie, then keepalive 25 (2.5 s), then padding.
  const Bytes options = {0, 10, 0, 8, 1, 2,  3, 4,  5, 6, 7, 8,
                         0, 11, 0, 2, 0, 25, 0, 12, 0, 2, 0, 0};
  add_opt(answer, 1232, 0, 0, false, options);
  EXPECT_EQ(answer_keepalive(answer), std::chrono::milliseconds(2500));

  Bytes no_timeout = upstream_answer(1);
  add_opt(no_timeout, 1232, 0, 0, false, Bytes{0, 11, 0, 0});  // malformed for a server: ignored
  EXPECT_FALSE(answer_keepalive(no_timeout));

  Bytes truncated_option = upstream_answer(1);
  add_opt(truncated_option, 1232, 0, 0, false, Bytes{0, 11, 0, 9, 0, 25});
  EXPECT_FALSE(answer_keepalive(truncated_option));
}

}  // namespace
}  // namespace dp::dns
