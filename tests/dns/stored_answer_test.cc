#include "dns/stored_answer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "dns/test_packets.h"

namespace dp::dns {
namespace {

using testing::a_answer;
using testing::answer_build;
using testing::built;
using testing::Bytes;
using testing::edns_data;
using testing::ldns_parse;
using testing::query_build;
using testing::Records;
using testing::stored;
using testing::ttls_of;
using testing::u16;

constexpr const char* kName = "www.example.com.";
const std::string kSoa = "example.com. 3600 IN SOA ns.example.com. admin.example.com. 1 2 3 4 300";

TEST(DnsStoredAnswerTest, PositiveTtlIsTheSmallestOfAllRecords) {
  // RFC 2181 §5.2: the answer lives as long as its shortest-lived record.
  const auto s =
      stored(a_answer({"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 60 IN A 192.0.2.2"},
                      {"example.com. 3600 IN NS ns.example.com."}));
  EXPECT_EQ(s.kind, AnswerKind::kPositive);
  EXPECT_EQ(s.cache_ttl, 60u);
  EXPECT_EQ(s.ttl_offsets.size(), 3u);
  EXPECT_EQ(ttls_of(built(s, query_build(kName, LDNS_RR_TYPE_A))),
            (std::vector<std::uint32_t>{300, 60, 3600}));
}

TEST(DnsStoredAnswerTest, TtlWithTheTopBitSetCountsAsZero) {
  Bytes answer = a_answer({"www.example.com. 60 IN A 192.0.2.1"});
  const auto ttl_at = answer.size() - 4 - 2 - 4;  // TTL, RDLENGTH, 4 bytes of RDATA
  answer[ttl_at] = 0x80;                          // RFC 2181 §8
  EXPECT_EQ(stored(answer).cache_ttl, 0u);        // TTL 0: not cached
  const TtlPolicy floor30{.min_ttl = 30};
  EXPECT_EQ(stored(answer, floor30).cache_ttl, 30u);
}

TEST(DnsStoredAnswerTest, PositiveTtlsAreClampedToMinAndMax) {
  const TtlPolicy policy{.min_ttl = 30, .max_ttl = 100};
  const auto s = stored(
      a_answer({"www.example.com. 5 IN A 192.0.2.1", "www.example.com. 3600 IN A 192.0.2.2"}),
      policy);
  EXPECT_EQ(s.cache_ttl, 30u);
  // Clients are told the clamped TTLs too: none may cache longer than we do.
  EXPECT_EQ(ttls_of(built(s, query_build(kName, LDNS_RR_TYPE_A))),
            (std::vector<std::uint32_t>{30, 100}));
}

TEST(DnsStoredAnswerTest, NegativeTtlIsTheLesserOfSoaTtlAndMinimum) {
  // RFC 2308 §5. SOA TTL 3600, MINIMUM 300: 300.
  const Bytes nx =
      answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, Records{{}, {kSoa}, {}});
  auto s = stored(nx);
  EXPECT_EQ(s.kind, AnswerKind::kNegative);
  EXPECT_EQ(s.cache_ttl, 300u);
  EXPECT_EQ(ttls_of(built(s, query_build(kName, LDNS_RR_TYPE_A))),
            (std::vector<std::uint32_t>{300}));
  // SOA TTL 100 below MINIMUM: 100.
  const std::string short_soa =
      "example.com. 100 IN SOA ns.example.com. admin.example.com. 1 2 3 4 300";
  EXPECT_EQ(
      stored(answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, Records{{}, {short_soa}, {}}))
          .cache_ttl,
      100u);
  // Clamped by max_negative_ttl, and min_ttl (a floor for positive answers) does not raise it.
  EXPECT_EQ(stored(nx, TtlPolicy{.max_negative_ttl = 60}).cache_ttl, 60u);
  EXPECT_EQ(stored(nx, TtlPolicy{.min_ttl = 600}).cache_ttl, 300u);
  EXPECT_EQ(stored(nx, TtlPolicy{.max_negative_ttl = 0}).cache_ttl, 0u);
}

TEST(DnsStoredAnswerTest, NodataIsNegativeWithTheSoaTtl) {
  const auto s =
      stored(answer_build(kName, LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, Records{{}, {kSoa}, {}}));
  EXPECT_EQ(s.kind, AnswerKind::kNegative);
  EXPECT_EQ(s.cache_ttl, 300u);
}

TEST(DnsStoredAnswerTest, NegativeWithoutSoaIsNotCached) {
  const auto s = stored(answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, Records{}));
  EXPECT_EQ(s.kind, AnswerKind::kNegative);
  EXPECT_EQ(s.cache_ttl, 0u);  // RFC 2308 §5
  // A referral-like NODATA (NS, no SOA) neither.
  EXPECT_EQ(stored(answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR,
                                Records{{}, {"example.com. 3600 IN NS ns.example.com."}, {}}))
                .cache_ttl,
            0u);
}

TEST(DnsStoredAnswerTest, TruncatedAnswerIsNeverCached) {
  const auto s = stored(answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR,
                                     Records{{"www.example.com. 60 IN A 192.0.2.1"}, {}, {}},
                                     /*truncated=*/true));
  EXPECT_EQ(s.cache_ttl, 0u);
}

TEST(DnsStoredAnswerTest, FailuresLiveTheFailureTtl) {
  for (const auto rcode : {LDNS_RCODE_SERVFAIL, LDNS_RCODE_REFUSED, LDNS_RCODE_NOTIMPL}) {
    const auto s =
        stored(answer_build(kName, LDNS_RR_TYPE_A, rcode, Records{}), TtlPolicy{.failure_ttl = 7});
    EXPECT_EQ(s.kind, AnswerKind::kFailure) << rcode;
    EXPECT_EQ(s.cache_ttl, 7u) << rcode;
  }
}

TEST(DnsStoredAnswerTest, UpstreamOptIsDroppedAndOnlyItsEdeKept) {
  Bytes answer = a_answer({"www.example.com. 60 IN A 192.0.2.1"});
  const Bytes ede = {0, 15, 0, 2, 0, 18};
  Bytes options = {0, 12, 0, 3, 0, 0, 0};  // padding
  options.insert(options.end(), ede.begin(), ede.end());
  testing::add_opt(answer, 1232, 0, 0, false, options);
  const auto s = stored(answer);
  EXPECT_EQ(u16(s.wire, 10), 0);  // ARCOUNT: the OPT is not stored
  EXPECT_EQ(s.ede_options, ede);
  // A client with EDNS gets our OPT with the upstream's EDE; one without gets no OPT.
  const auto with_edns = ldns_parse(built(s, query_build(kName, LDNS_RR_TYPE_A, 4096)));
  EXPECT_EQ(ldns_pkt_edns_udp_size(with_edns.get()), kMaxUdpReplyEdns);
  EXPECT_EQ(edns_data(with_edns), ede);
  const Bytes plain = built(s, query_build(kName, LDNS_RR_TYPE_A));
  EXPECT_EQ(u16(plain, 10), 0);
}

// RFC 1035 §4.1.1: we are no authority for what an upstream says. Cleared in the stored form,
// which the miss's reply and every cache hit are built from.
TEST(DnsStoredAnswerTest, AaIsClearedAndEveryOtherFlagKept) {
  const Bytes answer = testing::with_aa(a_answer({"www.example.com. 60 IN A 192.0.2.1"}));
  ASSERT_TRUE(testing::aa_of(answer));
  const auto s = stored(answer);
  EXPECT_FALSE(testing::aa_of(s.wire));
  EXPECT_EQ(s.wire[2], answer[2] & ~0x04);  // QR, opcode, TC, RD as they were
  EXPECT_EQ(s.wire[3], answer[3]);
  StoredAnswer reused = stored(a_answer({"www.example.com. 60 IN A 192.0.2.1"}));
  ASSERT_TRUE(stored_answer_make_into(answer, TtlPolicy{}, reused));
  EXPECT_FALSE(testing::aa_of(reused.wire));
}

TEST(DnsStoredAnswerTest, UnwalkableAnswerIsMalformed) {
  Bytes answer = a_answer({"www.example.com. 60 IN A 192.0.2.1"});
  answer.resize(answer.size() - 2);  // RDATA cut short
  EXPECT_FALSE(stored_answer_make(answer, TtlPolicy{}).has_value());
  EXPECT_FALSE(stored_answer_make(Bytes{1, 2, 3}, TtlPolicy{}).has_value());
}

}  // namespace
}  // namespace dp::dns

namespace dp::dns {
namespace {

// A worker reuses one StoredAnswer for every upstream answer: nothing of the one before may
// show through, whatever the order of positive, negative, failure and malformed answers.
TEST(DnsStoredAnswerTest, MakingIntoAReusedAnswerEqualsMakingAFreshOne) {
  Records negative;
  negative.authority.push_back(kSoa);
  const std::vector<Bytes> answers = {
      a_answer(
          {std::string(kName) + " 600 IN A 192.0.2.1", std::string(kName) + " 60 IN A 192.0.2.2"}),
      answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, negative),
      answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL, Records{}),
      a_answer({std::string(kName) + " 30 IN A 192.0.2.3"}),
  };
  StoredAnswer reused;
  for (int round = 0; round < 2; ++round) {
    for (const Bytes& answer : answers) {
      ASSERT_TRUE(stored_answer_make_into(answer, TtlPolicy{}, reused));
      const StoredAnswer fresh = stored(answer);
      EXPECT_EQ(reused.wire, fresh.wire);
      EXPECT_EQ(reused.ttl_offsets, fresh.ttl_offsets);
      EXPECT_EQ(reused.ede_options, fresh.ede_options);
      EXPECT_EQ(reused.extended_rcode, fresh.extended_rcode);
      EXPECT_EQ(reused.kind, fresh.kind);
      EXPECT_EQ(reused.cache_ttl, fresh.cache_ttl);
    }
  }
  const Bytes cut(answers[0].begin(), answers[0].end() - 3);  // the last record's RDATA cut
  EXPECT_FALSE(stored_answer_make_into(cut, TtlPolicy{}, reused));
  EXPECT_FALSE(stored_answer_make(cut, TtlPolicy{}).has_value());
  EXPECT_EQ(reused.cache_ttl, 0u);  // nothing of the answer before is left to be cached
}

}  // namespace
}  // namespace dp::dns
