// Feeds random and mutated bytes to every parser that sees outside input: nothing may crash,
// and what comes back must still be a well-formed reply.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "dns/answer_check.h"
#include "dns/ldns_include.h"
#include "dns/message.h"
#include "dns/reply.h"
#include "dns/wire.h"
#include "tests/dns/test_packets.h"

namespace dp::dns {
namespace {

using namespace ::dp::dns::testing;  // NOLINT: test helpers

Bytes mutate(const Bytes& seed, std::mt19937& rng) {
  Bytes out = seed;
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    switch (rng() % 4) {
      case 0:  // flip a byte
        if (!out.empty()) out[rng() % out.size()] = static_cast<std::uint8_t>(rng());
        break;
      case 1:  // cut
        out.resize(rng() % (out.size() + 1));
        break;
      case 2:  // insert
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(rng() % (out.size() + 1)),
                   static_cast<std::uint8_t>(rng()));
        break;
      default:  // nudge a header count
        if (out.size() >= 12) out[5 + 2 * (rng() % 4)] = static_cast<std::uint8_t>(rng() % 4);
        break;
    }
  }
  return out;
}

bool ldns_accepts(const Bytes& wire) {
  ldns_pkt* pkt = nullptr;
  const bool ok = ldns_wire2pkt(&pkt, wire.data(), wire.size()) == LDNS_STATUS_OK;
  ldns_pkt_free(pkt);
  return ok;
}

TEST(DnsRobustnessTest, RandomQueriesGetWellFormedRepliesOrNone) {
  std::mt19937 rng(20240601);
  Bytes with_opt = plain_query();
  add_opt(with_opt, 4096, 0, 0, true, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
  const std::vector<Bytes> seeds = {plain_query(), with_opt, upstream_answer(3, 1)};
  int accepted = 0;
  int rejected_with_reply = 0;
  for (int i = 0; i < 6000; ++i) {
    Bytes input;
    if (i % 5 == 0) {
      input.resize(rng() % 64);
      for (auto& byte : input) byte = static_cast<std::uint8_t>(rng());
    } else {
      input = mutate(seeds[rng() % seeds.size()], rng);
    }
    const auto query = query_parse(input);
    if (query.has_value()) {
      ++accepted;
      EXPECT_EQ(query->question_wire.size(), query->question.qname_lower.size() + 4);
      const Bytes upstream = upstream_query_of(*query);
      EXPECT_EQ(upstream.size() % 128, 0u);
      EXPECT_TRUE(ldns_accepts(upstream));
      EXPECT_TRUE(ldns_accepts(reply_error(*query, Rcode::kServFail, Ede::kNetworkError)));
      continue;
    }
    const Bytes reply = reply_for_rejection(input, query.error());
    if (query.error() == QueryError::kTooShort || query.error() == QueryError::kIsResponse) {
      EXPECT_TRUE(reply.empty());
      continue;
    }
    ++rejected_with_reply;
    ASSERT_GE(reply.size(), 12u);
    EXPECT_EQ(wire_get_id(reply), wire_get_id(input));
    EXPECT_NE(reply[2] & 0x80, 0);
    EXPECT_TRUE(ldns_accepts(reply)) << "rejection " << query_error_name(query.error());
  }
  // The corpus must reach both paths, or this test proves nothing.
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected_with_reply, 1000);
}

TEST(DnsRobustnessTest, RandomAnswersNeverBreakTheRewrite) {
  std::mt19937 rng(7);
  const Query query = parsed(plain_query());
  Bytes with_opt = upstream_answer(5, 2);
  add_opt(with_opt, 1232, 0, 0, true, {0, 15, 0, 2, 0, 3, 0, 12, 0, 4, 0, 0, 0, 0});
  const std::vector<Bytes> seeds = {upstream_answer(1), upstream_answer(40), with_opt};
  int checked = 0;
  for (int i = 0; i < 6000; ++i) {
    const Bytes input = mutate(seeds[rng() % seeds.size()], rng);
    if (!answer_check(input, query.question)) continue;
    ++checked;
    for (const std::size_t limit : {512u, 1232u, 65535u}) {
      const Bytes reply = reply_from_answer(input, query, limit);
      ASSERT_GE(reply.size(), 12u);
      EXPECT_LE(reply.size(), limit);
      EXPECT_EQ(wire_get_id(reply), query.id);
    }
  }
  EXPECT_GT(checked, 500);
}

// Found by the fuzzer: a query with several TSIG RRs made ldns 1.8.3 leak every TSIG but
// the last (its wire2pkt overwrites the packet's TSIG pointer). Rejected before ldns sees it;
// the sanitizer build of this test catches the leak if that check goes.
TEST(DnsRobustnessTest, SeveralTsigRecordsAreFormerrAndNeverReachLdns) {
  const std::vector<std::uint8_t> wire = {
      0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00,
      0x00, 0x01, 0x00, 0x47, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x2c, 0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x04, 0x54, 0x65, 0x2f, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x2c, 0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x04, 0x54, 0x65, 0x2f, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x2b, 0x2c, 0x12,
      0x34, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x00,
      0x00, 0x00, 0x2c, 0x12, 0x2f, 0x60, 0x3d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xfa, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b, 0x2c, 0x12, 0x34, 0x01, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x12, 0x2f,
      0x60, 0x3d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x6b, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xfa, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb4, 0xe4, 0x00, 0x77,
      0xe4, 0x00, 0x00, 0x2c, 0x12, 0x57, 0x36, 0x00,
  };
  auto query = query_parse(wire);
  ASSERT_FALSE(query.has_value());
  EXPECT_EQ(query.error(), QueryError::kMalformed);
  Question question;
  question.qname_lower = std::string("\0", 1);
  question.qtype = 1;
  question.qclass = 1;
  EXPECT_FALSE(answer_check(wire, question));
}

// Found by the fuzzer after the check above: a TSIG that our walker reads, followed by RRs it
// cannot read but ldns partly can. Anything our walker cannot read never reaches ldns either.
TEST(DnsRobustnessTest, ATsigBeforeAnUnreadableTailNeverReachesLdns) {
  const std::vector<std::uint8_t> wire = {
      0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5f, 0x00, 0x00, 0x00,
      0x00, 0x01, 0x00, 0x00, 0xfa, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x12, 0x33,
      0x01, 0x00, 0x01, 0x04, 0x00, 0x29, 0x04, 0x34, 0x01, 0x12, 0x33, 0x01, 0x00, 0x01, 0x04,
      0x00, 0x29, 0x04, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x04, 0xd0, 0x00, 0x00,
      0x00, 0x10, 0x00, 0x00, 0x12, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x04, 0xd0, 0x00, 0x00,
      0x00, 0x10, 0x00, 0x00, 0x12, 0x34, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xfa, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0xb4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x13, 0x40, 0x00,
  };
  auto query = query_parse(wire);
  ASSERT_FALSE(query.has_value());
  EXPECT_EQ(query.error(), QueryError::kMalformed);
}

}  // namespace
}  // namespace dp::dns
