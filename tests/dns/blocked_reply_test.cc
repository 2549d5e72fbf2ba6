#include "dns/blocked_reply.h"

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

// plain_query() (ID 0xbeef, "WwW.ExAmple.COM.") asking for `qtype`, with an OPT RR or not.
Bytes query_for(std::uint16_t qtype, bool edns, std::uint16_t qclass = 1) {
  Bytes wire = plain_query();
  wire[29] = static_cast<std::uint8_t>(qtype >> 8);
  wire[30] = static_cast<std::uint8_t>(qtype);
  wire[31] = static_cast<std::uint8_t>(qclass >> 8);
  wire[32] = static_cast<std::uint8_t>(qclass);
  if (edns) add_opt(wire, 4096, 0, 0, /*dnssec_ok=*/true);
  return wire;
}

// The reply checked for what every blocked reply has: the client's ID, its question bytes
// with their 0x20 case, QR, AA (we are the authority for it), RD and RA, and EDE 15 exactly
// when the client sent EDNS.
PacketPtr checked(const Bytes& query_wire, BlockedAnswer answer) {
  const Bytes reply = reply_blocked(parsed(query_wire), answer);
  EXPECT_EQ(u16(reply, 0), 0xbeef);
  const Bytes question = plain_question();
  EXPECT_TRUE(std::equal(question.begin(), question.end() - 4, reply.begin() + 12));
  PacketPtr pkt = ldns_parse(reply);
  EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
  EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
  EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
  EXPECT_TRUE(ldns_pkt_ra(pkt.get()));
  EXPECT_FALSE(ldns_pkt_tc(pkt.get()));
  const bool edns = u16(query_wire, 10) == 1;
  const Bytes options = edns_data(pkt);
  if (edns) {
    // RFC 8914 §2: option 15, length 2, INFO-CODE 15 "Blocked" (§4.16).
    EXPECT_EQ(options, (Bytes{0, 15, 0, 2, 0, 15}));
    EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));  // RFC 3225 §3: DO copied
  } else {
    EXPECT_EQ(ldns_pkt_arcount(pkt.get()), 0);
  }
  return pkt;
}

TEST(BlocklistReplyTest, NxdomainCarriesEde15WhenTheClientSentEdns) {
  for (const bool edns : {true, false}) {
    SCOPED_TRACE(edns ? "EDNS" : "no EDNS");
    auto pkt = checked(query_for(1, edns), BlockedAnswer::kNxDomain);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
    EXPECT_EQ(ldns_pkt_nscount(pkt.get()), 0);
  }
}

TEST(BlocklistReplyTest, NullAnswersTheUnspecifiedAddressForAAndAaaa) {
  struct Case {
    std::uint16_t qtype;
    ldns_rr_type type;
    const char* rdata;
  };
  for (const Case c : {Case{1, LDNS_RR_TYPE_A, "0.0.0.0"}, Case{28, LDNS_RR_TYPE_AAAA, "::"}}) {
    for (const bool edns : {true, false}) {
      SCOPED_TRACE(std::string(c.rdata) + (edns ? " EDNS" : " no EDNS"));
      auto pkt = checked(query_for(c.qtype, edns), BlockedAnswer::kNull);
      EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
      ASSERT_EQ(ldns_pkt_ancount(pkt.get()), 1);
      const ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 0);
      EXPECT_EQ(ldns_rr_get_type(rr), c.type);
      EXPECT_EQ(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
      EXPECT_EQ(ldns_rr_ttl(rr), kBlockedTtl);
      char* owner = ldns_rdf2str(ldns_rr_owner(rr));
      EXPECT_STREQ(owner, "WwW.ExAmple.COM.");  // a pointer to the client's question
      free(owner);                              // NOLINT: ldns allocates with malloc
      char* address = ldns_rdf2str(ldns_rr_rdf(rr, 0));
      EXPECT_STREQ(address, c.rdata);
      free(address);  // NOLINT
    }
  }
}

TEST(BlocklistReplyTest, NullIsNodataForOtherTypesAndClasses) {
  const Bytes queries[] = {query_for(15, true),     // MX
                           query_for(16, false),    // TXT
                           query_for(255, true),    // ANY
                           query_for(1, true, 3)};  // A in class CH
  for (const Bytes& query : queries) {
    auto pkt = checked(query, BlockedAnswer::kNull);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
  }
  // Class ANY asks for every class, IN among them.
  auto any = checked(query_for(28, true, 255), BlockedAnswer::kNull);
  EXPECT_EQ(ldns_pkt_ancount(any.get()), 1);
}

TEST(BlocklistReplyTest, AnswerNamesParseBothWays) {
  EXPECT_EQ(blocked_answer_parse("nxdomain"), BlockedAnswer::kNxDomain);
  EXPECT_EQ(blocked_answer_parse("null"), BlockedAnswer::kNull);
  EXPECT_EQ(blocked_answer_parse("NXDOMAIN"), std::nullopt);
  EXPECT_EQ(blocked_answer_parse(""), std::nullopt);
  EXPECT_EQ(blocked_answer_name(BlockedAnswer::kNull), "null");
  EXPECT_EQ(blocked_answer_name(BlockedAnswer::kNxDomain), "nxdomain");
}

}  // namespace
}  // namespace dp::dns
