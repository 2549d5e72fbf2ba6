#include "dns/reply.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/answer_check.h"
#include "dns/ldns_include.h"
#include "tests/dns/test_packets.h"

namespace dp::dns {
namespace {

using namespace ::dp::dns::testing;  // NOLINT: test helpers

constexpr const char* kName = "www.example.com.";

// Parses `wire` expecting `error` and returns the rejection reply.
Bytes reject(const Bytes& wire, QueryError error) {
  const auto query = query_parse(wire);
  EXPECT_FALSE(query.has_value());
  if (!query.has_value()) {
    EXPECT_EQ(query.error(), error);
  }
  return reply_for_rejection(wire, error);
}

TEST(DnsReplyTest, RejectionDropsShortQueriesAndResponses) {
  EXPECT_TRUE(reject(Bytes{1, 2, 3, 4, 5}, QueryError::kTooShort).empty());
  Bytes response = plain_query();
  response[2] |= 0x80;
  EXPECT_TRUE(reject(response, QueryError::kIsResponse).empty());
}

TEST(DnsReplyTest, RejectionOfTruncatedNameIsFormErrHeaderOnly) {
  Bytes wire = plain_query();
  wire.resize(18);
  const Bytes reply = reject(wire, QueryError::kMalformed);
  ASSERT_EQ(reply.size(), 12u);
  EXPECT_EQ(u16(reply, 0), 0xbeef);
  EXPECT_EQ(reply[2], 0x81);  // QR, opcode QUERY, RD
  EXPECT_EQ(reply[3], 1);     // FORMERR
  EXPECT_EQ(u16(reply, 4), 0);
  EXPECT_EQ(ldns_pkt_get_rcode(ldns_parse(reply).get()), LDNS_RCODE_FORMERR);
}

TEST(DnsReplyTest, RejectionOfTwoQuestionsIsFormErr) {
  Bytes wire = plain_query();
  wire[5] = 2;
  const Bytes reply = reject(wire, QueryError::kQdCount);
  EXPECT_EQ(reply.size(), 12u);
  EXPECT_EQ(reply[3], 1);
}

TEST(DnsReplyTest, RejectionOfAnswerSectionIsFormErrWithQuestion) {
  Bytes wire = plain_query();
  wire[7] = 1;
  const Bytes reply = reject(wire, QueryError::kAnswerOrAuthority);
  EXPECT_EQ(reply[3], 1);
  EXPECT_EQ(u16(reply, 4), 1);
  EXPECT_EQ(u16(reply, 6), 0);
  EXPECT_EQ(Bytes(reply.begin() + 12, reply.end()), plain_question());
}

TEST(DnsReplyTest, RejectionOfTwoOptsIsFormErrWithOpt) {
  Bytes wire = plain_query();
  add_opt(wire, 4096, 0, 0, false);
  add_opt(wire, 4096, 0, 0, false);
  const Bytes reply = reject(wire, QueryError::kDuplicateOpt);
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_FORMERR);
  EXPECT_EQ(u16(reply, 10), 1);
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
}

TEST(DnsReplyTest, RejectionOfNotifyIsNotImp) {
  Bytes wire = plain_query();
  wire[2] = (4 << 3) | 1;
  const Bytes reply = reject(wire, QueryError::kNotQuery);
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_EQ(ldns_pkt_get_opcode(pkt.get()), LDNS_PACKET_NOTIFY);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOTIMPL);
  EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
  EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
  EXPECT_EQ(Bytes(reply.begin() + 12, reply.end()), plain_question());
}

TEST(DnsReplyTest, RejectionOfEdnsVersionOneIsBadVers) {
  Bytes wire = plain_query();
  add_opt(wire, 1232, 0, 1, true);
  const Bytes reply = reject(wire, QueryError::kBadEdnsVersion);
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), 0);  // BADVERS = 16: low bits 0 in the header
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(pkt.get()), 1);
  EXPECT_EQ(ldns_pkt_edns_version(pkt.get()), 0);
  EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
  EXPECT_EQ(u16(reply, 4), 1);
}

TEST(DnsReplyTest, RejectionOfAxfrIsNotImp) {
  Bytes wire = plain_query();
  wire[wire.size() - 3] = 252;
  const Bytes reply = reject(wire, QueryError::kZoneTransfer);
  EXPECT_EQ(reply[3], 4);
  EXPECT_EQ(u16(reply, 10), 0);  // no OPT without one in the query
}

TEST(DnsReplyTest, RejectionOfClassHsIsRefused) {
  Bytes wire = plain_query();
  wire.back() = 4;
  const Bytes reply = reject(wire, QueryError::kBadClass);
  EXPECT_EQ(reply[3], 5);
  EXPECT_EQ(u16(reply, 4), 1);
  EXPECT_EQ(reply.back(), 4);
}

TEST(DnsReplyTest, ErrorReplyCarriesEdeForEdnsClient) {
  Bytes wire = plain_query();
  wire[3] = 0x10;  // CD
  add_opt(wire, 4096, 0, 0, true);
  const Bytes reply = reply_error(parsed(wire), Rcode::kServFail, Ede::kNetworkError);
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_EQ(ldns_pkt_id(pkt.get()), 0xbeef);
  EXPECT_TRUE(ldns_pkt_qr(pkt.get()) && ldns_pkt_ra(pkt.get()) && ldns_pkt_rd(pkt.get()));
  EXPECT_TRUE(ldns_pkt_cd(pkt.get()));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(Bytes(reply.begin() + 12, reply.begin() + 12 + plain_question().size()),
            plain_question());
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
  EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
  EXPECT_EQ(edns_data(pkt), (Bytes{0, 15, 0, 2, 0, 23}));
}

TEST(DnsReplyTest, ErrorReplyWithoutEdnsHasNoOpt) {
  const Bytes reply = reply_error(parsed(plain_query()), Rcode::kRefused, Ede::kProhibited);
  EXPECT_EQ(reply.size(), 12 + plain_question().size());
  EXPECT_EQ(reply[3], 0x80 | 5);
  EXPECT_EQ(u16(reply, 10), 0);
}

Bytes option(std::uint16_t code, const Bytes& data) {
  Bytes out = {static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code),
               static_cast<std::uint8_t>(data.size() >> 8), static_cast<std::uint8_t>(data.size())};
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Query edns_client(bool dnssec_ok) {
  Bytes wire = plain_query();
  add_opt(wire, 4096, 0, 0, dnssec_ok);
  return parsed(wire);
}

TEST(DnsReplyTest, RewriteSetsClientIdRdAndCase) {
  Bytes client = plain_query();
  client[2] = 0;  // RD=0, while the upstream answer has RD=1
  const Query query = parsed(client);
  const Bytes answer = upstream_answer(2);
  ASSERT_TRUE(answer_check(answer, query.question));
  const Bytes reply = reply_from_answer(answer, query, 512);
  EXPECT_EQ(reply.size(), answer.size());
  EXPECT_EQ(u16(reply, 0), 0xbeef);
  EXPECT_EQ(reply[2], 0x80);  // QR only
  EXPECT_EQ(Bytes(reply.begin() + 12, reply.begin() + 12 + plain_question().size()),
            plain_question());
  const PacketPtr pkt = ldns_parse(reply);
  ASSERT_EQ(ldns_pkt_ancount(pkt.get()), 2);
  // The answers' owners are compressed pointers into the rewritten question: still valid.
  EXPECT_EQ(reply.at(12 + plain_question().size()), 0xc0);
  ldns_rdf* name = ldns_dname_new_frm_str("www.example.com.");
  EXPECT_EQ(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 1)), name),
            0);
  ldns_rdf_deep_free(name);
  EXPECT_FALSE(ldns_pkt_edns(pkt.get()));
}

// RFC 1035 §4.1.1: an upstream's AA=1 is its own claim, not ours (dns/stored_answer.h).
TEST(DnsReplyTest, RewriteOfAnAuthoritativeAnswerClaimsNoAuthority) {
  const Query query = parsed(plain_query());
  const Bytes answer = with_aa(upstream_answer(1));
  ASSERT_TRUE(answer_check(answer, query.question));
  for (const std::size_t limit : {std::size_t{512}, std::size_t{20}}) {  // whole, and cut (TC)
    const Bytes reply = reply_from_answer(answer, query, limit);
    EXPECT_FALSE(aa_of(reply)) << limit;
    EXPECT_NE(reply[2] & 0x80, 0) << limit;  // still QR
  }
  // Our own replies never claim it either.
  EXPECT_FALSE(aa_of(reply_error(query, Rcode::kServFail)));
  EXPECT_FALSE(aa_of(reply_truncated(query)));
}

TEST(DnsReplyTest, RewriteStripsOptForClientWithoutEdns) {
  Bytes answer = upstream_answer(1);
  const std::size_t plain_size = answer.size();
  add_opt(answer, 1232, 0, 0, true, option(12, Bytes(40, 0)));
  const Query query = parsed(plain_query());
  ASSERT_TRUE(answer_check(answer, query.question));
  const Bytes reply = reply_from_answer(answer, query, 512);
  EXPECT_EQ(reply.size(), plain_size);
  EXPECT_EQ(u16(reply, 10), 0);
  EXPECT_FALSE(ldns_pkt_edns(ldns_parse(reply).get()));
}

TEST(DnsReplyTest, RewriteKeepsOnlyEdeOptions) {
  const Bytes ede = option(15, {0, 3, 's', 't', 'a', 'l', 'e'});
  Bytes options = option(10, Bytes(16, 0xaa));
  for (const Bytes& o : {ede, option(12, Bytes(30, 0)), option(11, {0, 100}), option(65001, {1})}) {
    options.insert(options.end(), o.begin(), o.end());
  }
  Bytes answer = upstream_answer(1);
  add_opt(answer, 4096, 0, 0, true, options);
  const Query query = edns_client(false);
  ASSERT_TRUE(answer_check(answer, query.question));
  const Bytes reply = reply_from_answer(answer, query, 1232);
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_EQ(u16(reply, 10), 1);
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
  // RFC 3225 §3: the DO bit of the query is copied into the response; the key of a cached
  // answer holds DO, so one answer is never handed to clients of both kinds.
  EXPECT_FALSE(ldns_pkt_edns_do(pkt.get()));
  EXPECT_EQ(edns_data(pkt), ede);
}

TEST(DnsReplyTest, RewriteCarriesExtendedRcode) {
  Bytes answer = upstream_answer(0);
  add_opt(answer, 1232, 1, 0, false);  // BADVERS from upstream
  const Bytes with_edns = reply_from_answer(answer, edns_client(false), 1232);
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(ldns_parse(with_edns).get()), 1);
  const Bytes without_edns = reply_from_answer(answer, parsed(plain_query()), 512);
  EXPECT_EQ(without_edns[3] & 0x0f, 2);  // inexpressible without OPT: SERVFAIL
}

TEST(DnsReplyTest, RewriteAddsOptWhenUpstreamHasNone) {
  const Bytes reply = reply_from_answer(upstream_answer(1), edns_client(true), 1232);
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_EQ(u16(reply, 10), 1);
  EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
  EXPECT_TRUE(edns_data(pkt).empty());
}

TEST(DnsReplyTest, RewriteKeepsAdditionalRecordsBeforeOpt) {
  Bytes answer = upstream_answer(1, 2);
  add_opt(answer, 1232, 0, 0, false, option(12, Bytes(8, 0)));
  const Bytes reply = reply_from_answer(answer, edns_client(false), 1232);
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_EQ(u16(reply, 10), 3);  // two glue records + our OPT
  EXPECT_EQ(ldns_pkt_arcount(pkt.get()), 2);
  EXPECT_TRUE(edns_data(pkt).empty());
}

// Pointers in records after the OPT could point past the bytes we remove: they go with it.
TEST(DnsReplyTest, RewriteDropsRecordsAfterUpstreamOpt) {
  Bytes answer = upstream_answer(1);
  add_opt(answer, 1232, 0, 0, false);
  answer.insert(answer.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 192, 0, 2, 99});
  ++answer[11];
  const Query query = edns_client(false);
  ASSERT_TRUE(answer_check(answer, query.question));
  const Bytes reply = reply_from_answer(answer, query, 1232);
  EXPECT_EQ(u16(reply, 10), 1);  // our OPT only
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_EQ(ldns_pkt_arcount(pkt.get()), 0);
  EXPECT_TRUE(ldns_pkt_edns(pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 1);
}

TEST(DnsReplyTest, RewriteTruncatesToClientLimit) {
  const Bytes answer = upstream_answer(100);
  ASSERT_GT(answer.size(), 1232u);
  const Query plain = parsed(plain_query());
  const Bytes small = reply_from_answer(answer, plain, plain.udp_reply_limit());
  EXPECT_EQ(small.size(), 12 + plain_question().size());
  EXPECT_NE(small[2] & 0x02, 0);  // TC
  PacketPtr pkt = ldns_parse(small);
  EXPECT_TRUE(ldns_pkt_tc(pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
  EXPECT_EQ(ldns_pkt_qdcount(pkt.get()), 1);
  EXPECT_FALSE(ldns_pkt_edns(pkt.get()));

  const Query edns = edns_client(true);
  const Bytes large = reply_from_answer(answer, edns, edns.udp_reply_limit());
  EXPECT_LE(large.size(), 1232u);
  pkt = ldns_parse(large);
  EXPECT_TRUE(ldns_pkt_tc(pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
  EXPECT_EQ(u16(large, 10), 1);
  EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
  EXPECT_EQ(ldns_pkt_id(pkt.get()), 0xbeef);
}

TEST(DnsReplyTest, RewriteDoesNotTruncateWhatFits) {
  const Bytes reply = reply_from_answer(upstream_answer(10), parsed(plain_query()), 512);
  const PacketPtr pkt = ldns_parse(reply);
  EXPECT_FALSE(ldns_pkt_tc(pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 10);
}

TEST(DnsReplyTest, RebuildLowersEveryTtlByTheAgeButNeverBelowZero) {
  const auto s = stored(
      a_answer({"www.example.com. 60 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}));
  EXPECT_EQ(ttls_of(built(s, query_build(kName, LDNS_RR_TYPE_A), ReplyShape{.age_seconds = 2})),
            (std::vector<std::uint32_t>{58, 298}));
  EXPECT_EQ(ttls_of(built(s, query_build(kName, LDNS_RR_TYPE_A), ReplyShape{.age_seconds = 100})),
            (std::vector<std::uint32_t>{0, 200}));
}

TEST(DnsReplyTest, RebuildOfAStaleAnswerHasTtl30AndEde3) {
  const auto s = stored(a_answer({"www.example.com. 60 IN A 192.0.2.1"}));
  const Bytes reply = built(s, query_build(kName, LDNS_RR_TYPE_A, 1232),
                            ReplyShape{.age_seconds = 500, .stale = true});
  EXPECT_EQ(ttls_of(reply), (std::vector<std::uint32_t>{kStaleTtl}));
  EXPECT_EQ(edns_data(ldns_parse(reply)), (Bytes{0, 15, 0, 2, 0, 3}));  // RFC 8914 §4.4
  const Bytes plain = built(s, query_build(kName, LDNS_RR_TYPE_A), ReplyShape{.stale = true});
  EXPECT_EQ(ttls_of(plain), (std::vector<std::uint32_t>{kStaleTtl}));
  EXPECT_EQ(u16(plain, 10), 0);  // no OPT for a client without EDNS
}

TEST(DnsReplyTest, RebuildCarriesTheClientsIdRdAndQuestionCase) {
  const auto s = stored(a_answer({"www.example.com. 60 IN A 192.0.2.1"}));
  const Bytes query = query_build("WwW.eXaMpLe.CoM.", LDNS_RR_TYPE_A);
  const Bytes reply = built(s, query);
  EXPECT_EQ(u16(reply, 0), 0x1234);
  EXPECT_TRUE(std::equal(query.begin() + 12, query.end(), reply.begin() + 12));
  EXPECT_EQ(ldns_pkt_ancount(ldns_parse(reply).get()), 1);
}

TEST(DnsReplyTest, RebuildTruncatesPerClient) {
  std::vector<std::string> many;
  for (int i = 0; i < 100; ++i)
    many.push_back("www.example.com. 60 IN A 192.0.2." + std::to_string(i));
  const auto s = stored(a_answer(many));
  const Bytes plain_query = query_build(kName, LDNS_RR_TYPE_A);
  const Bytes edns_query = query_build(kName, LDNS_RR_TYPE_A, 4096);
  const Bytes udp = built(s, plain_query, ReplyShape{.max_size = 512});
  EXPECT_LE(udp.size(), 512u);
  EXPECT_NE(udp[2] & 0x02, 0);  // TC
  EXPECT_EQ(ldns_pkt_ancount(ldns_parse(udp).get()), 0);
  const Bytes edns = built(s, edns_query, ReplyShape{.max_size = 1232});
  EXPECT_LE(edns.size(), 1232u);
  EXPECT_NE(edns[2] & 0x02, 0);
  EXPECT_EQ(u16(edns, 10), 1);  // our OPT survives the cut
  const Bytes tcp = built(s, plain_query);
  EXPECT_EQ(tcp[2] & 0x02, 0);
  EXPECT_EQ(ldns_pkt_ancount(ldns_parse(tcp).get()), 100);
}

TEST(DnsReplyTest, RebuildForAQuestionOfAnotherLengthIsServfail) {
  const auto s = stored(a_answer({"www.example.com. 60 IN A 192.0.2.1"}));
  const Bytes reply = built(s, query_build("other.example.", LDNS_RR_TYPE_A));
  EXPECT_EQ(ldns_pkt_get_rcode(ldns_parse(reply).get()), LDNS_RCODE_SERVFAIL);
}

// RFC 6840 §5.8: AD goes to a client that set DO or AD, never to one that set neither; CD
// is the client's own, not the upstream's (which saw CD=1 when we validate).
TEST(DnsReplyTest, AdOnlyForAClientWithDoOrAdAndCdIsTheClients) {
  Bytes upstream = with_ad(a_answer({"www.example.com. 300 IN A 192.0.2.1"}));
  upstream.at(3) |= 0x10;  // CD from the upstream query
  const StoredAnswer answer = stored(upstream);
  const Bytes neither = query_build("www.example.com.", LDNS_RR_TYPE_A);
  Bytes ad = neither;
  ad.at(3) |= 0x20;
  Bytes cd = neither;
  cd.at(3) |= 0x10;
  EXPECT_FALSE(ad_of(built(answer, neither)));
  EXPECT_TRUE(ad_of(built(answer, ad)));
  EXPECT_FALSE(built(answer, neither).at(3) & 0x10);
  EXPECT_TRUE(built(answer, cd).at(3) & 0x10);
}

TEST(DnsReplyTest, AnEdeOptionCarriesItsCodeAndText) {
  const Bytes option = ede_option_build(6, "signature over www.example. does not verify");
  ASSERT_EQ(option.size(), 6 + 43u);
  EXPECT_EQ(u16(option, 0), 15);
  EXPECT_EQ(u16(option, 2), 2 + 43);
  EXPECT_EQ(u16(option, 4), 6);
  EXPECT_EQ(ede_option_build(7, std::string(500, 'x')).size(), 6 + kEdeTextMax);
}

}  // namespace
}  // namespace dp::dns
