#include "dns/reply.h"

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

TEST(DnsReplyTest, UpstreamQueryIsPaddedAndLowercased) {
  for (const char* name : {"a.", "WwW.ExAmple.COM.",
                           "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0."
                           "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0."
                           "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0.XX."}) {
    PacketPtr client(ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_AAAA,
                                        LDNS_RR_CLASS_IN, LDNS_CD));
    ldns_pkt_set_edns_udp_size(client.get(), 4096);
    ldns_pkt_set_edns_do(client.get(), true);
    const Query query = parsed(to_wire(client.get()));
    const Bytes upstream = upstream_query_build(query);
    SCOPED_TRACE(name);
    EXPECT_EQ(upstream.size() % 128, 0u);
    const PacketPtr pkt = ldns_parse(upstream);
    ASSERT_NE(pkt, nullptr);
    EXPECT_EQ(ldns_pkt_id(pkt.get()), 0);
    EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
    EXPECT_TRUE(ldns_pkt_cd(pkt.get()));
    EXPECT_FALSE(ldns_pkt_qr(pkt.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
    EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
    const ldns_rdf* owner = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0));
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner)),
        query.question.qname_lower);
    // Two options: an empty edns-tcp-keepalive (RFC 7828 §3.2.1), then padding (code 12)
    // filling the rest of the RDATA.
    const Bytes options = edns_data(pkt);
    ASSERT_GE(options.size(), 8u);
    EXPECT_EQ(u16(options, 0), 11);
    EXPECT_EQ(u16(options, 2), 0);
    EXPECT_EQ(u16(options, 4), 12);
    EXPECT_EQ(u16(options, 6), options.size() - 8);
  }
}

TEST(DnsReplyTest, AnswerKeepaliveReadsTheServersIdleTimeout) {
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

TEST(DnsReplyTest, AnswerCheck) {
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

TEST(DnsReplyTest, WireHelpers) {
  Bytes wire = plain_query();
  EXPECT_EQ(wire_get_id(wire), 0xbeef);
  wire_set_id(wire, 0x0102);
  EXPECT_EQ(wire[0], 1);
  EXPECT_EQ(wire[1], 2);
  wire[3] = 0x83;
  EXPECT_EQ(wire_get_rcode(wire), Rcode::kNxDomain);
  Bytes one = {7};
  wire_set_id(one, 5);  // too short: left alone
  EXPECT_EQ(one[0], 7);
  EXPECT_EQ(wire_get_id(one), 0);
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

}  // namespace
}  // namespace dp::dns
