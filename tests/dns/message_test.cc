#include "dns/message.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dns/ldns_include.h"

namespace dp::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Header ID 0xbeef, RD, one question "Www.Example.com." A IN; counts patched by the tests.
Bytes plain_query() {
  Bytes wire = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  const std::uint8_t name[] = {3,   'W', 'w', 'w', 7,   'E', 'x', 'a', 'm',
                               'p', 'l', 'e', 3,   'c', 'o', 'm', 0};
  wire.insert(wire.end(), std::begin(name), std::end(name));
  wire.insert(wire.end(), {0, 1, 0, 1});
  return wire;
}

// Appends an OPT RR and bumps ARCOUNT.
void add_opt(Bytes& wire, std::uint16_t udp_size, std::uint8_t version, bool dnssec_ok) {
  wire.insert(wire.end(), {0, 0, 41, static_cast<std::uint8_t>(udp_size >> 8),
                           static_cast<std::uint8_t>(udp_size), 0, version,
                           static_cast<std::uint8_t>(dnssec_ok ? 0x80 : 0), 0, 0, 0});
  ++wire[11];
}

Bytes ldns_query(const char* name, ldns_rr_type type, ldns_rr_class rr_class) {
  ldns_pkt* pkt = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, rr_class, LDNS_RD);
  ldns_pkt_set_id(pkt, 0x1234);
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&data, pkt, &size), LDNS_STATUS_OK);
  Bytes wire(data, data + size);
  free(data);  // NOLINT: ldns allocates with malloc
  ldns_pkt_free(pkt);
  return wire;
}

QueryError parse_error(const Bytes& wire) {
  const auto result = query_parse(wire);
  EXPECT_FALSE(result.has_value());
  return result.has_value() ? QueryError::kTooShort : result.error();
}

TEST(DnsMessageTest, ParsesPlainQuery) {
  Bytes wire = plain_query();
  wire[3] = 0x10;  // CD
  const auto query = query_parse(wire);
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->id, 0xbeef);
  EXPECT_TRUE(query->rd);
  EXPECT_TRUE(query->cd);
  EXPECT_FALSE(query->has_edns);
  EXPECT_FALSE(query->dnssec_ok);
  EXPECT_EQ(query->edns_udp_size, 0);
  EXPECT_EQ(query->question.qtype, 1);
  EXPECT_EQ(query->question.qclass, 1);
  EXPECT_EQ(query->question_wire, std::string(wire.begin() + 12, wire.end()));
}

TEST(DnsMessageTest, ParsesQueryBuiltByLdns) {
  const auto query = query_parse(ldns_query("example.org.", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_CH));
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->id, 0x1234);
  EXPECT_EQ(query->question.qname_lower, std::string("\7example\3org\0", 13));
  EXPECT_EQ(query->question.qtype, 28);
  EXPECT_EQ(query->question.qclass, 3);
}

TEST(DnsMessageTest, ParsesEdns) {
  Bytes wire = plain_query();
  add_opt(wire, 4096, 0, true);
  const auto query = query_parse(wire);
  ASSERT_TRUE(query.has_value());
  EXPECT_TRUE(query->has_edns);
  EXPECT_TRUE(query->dnssec_ok);
  EXPECT_EQ(query->edns_udp_size, 4096);
}

TEST(DnsMessageTest, KeepsCaseInQuestionWireAndLowersKey) {
  const auto query = query_parse(plain_query());
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->question_wire.substr(0, 17), std::string("\3Www\7Example\3com\0", 17));
  EXPECT_EQ(query->question_wire.substr(17), std::string("\0\1\0\1", 4));
  EXPECT_EQ(query->question.qname_lower, std::string("\3www\7example\3com\0", 17));
}

TEST(DnsMessageTest, UdpReplyLimit) {
  Query query;
  query.edns_udp_size = 4096;
  EXPECT_EQ(query.udp_reply_limit(), 512u);  // no EDNS: the size field is meaningless
  query.has_edns = true;
  EXPECT_EQ(query.udp_reply_limit(), 1232u);
  query.edns_udp_size = 1000;
  EXPECT_EQ(query.udp_reply_limit(), 1000u);
  query.edns_udp_size = 100;
  EXPECT_EQ(query.udp_reply_limit(), 512u);
  query.edns_udp_size = 0;
  EXPECT_EQ(query.udp_reply_limit(), 512u);
}

TEST(DnsMessageTest, TooShort) {
  EXPECT_EQ(parse_error(Bytes{1, 2, 3, 4, 5}), QueryError::kTooShort);
  EXPECT_EQ(parse_error(Bytes{}), QueryError::kTooShort);
}

TEST(DnsMessageTest, ResponseIsRejected) {
  Bytes wire = plain_query();
  wire[2] |= 0x80;
  EXPECT_EQ(parse_error(wire), QueryError::kIsResponse);
}

TEST(DnsMessageTest, OpcodeCheckedBeforeSections) {
  Bytes notify = plain_query();
  notify[2] = 4 << 3;  // NOTIFY
  EXPECT_EQ(parse_error(notify), QueryError::kNotQuery);
  Bytes update = plain_query();
  update[2] = 5 << 3;  // UPDATE: zone, prerequisite and update counts look like AN/NS
  update[7] = 1;
  update[9] = 1;
  EXPECT_EQ(parse_error(update), QueryError::kNotQuery);
}

TEST(DnsMessageTest, QdCountMustBeOne) {
  Bytes none = plain_query();
  none.resize(12);
  none[5] = 0;
  EXPECT_EQ(parse_error(none), QueryError::kQdCount);
  Bytes two = plain_query();
  two[5] = 2;
  EXPECT_EQ(parse_error(two), QueryError::kQdCount);
}

TEST(DnsMessageTest, AnswerOrAuthorityRejected) {
  Bytes answer = plain_query();
  answer[7] = 1;
  EXPECT_EQ(parse_error(answer), QueryError::kAnswerOrAuthority);
  Bytes authority = plain_query();
  authority[9] = 1;
  EXPECT_EQ(parse_error(authority), QueryError::kAnswerOrAuthority);
}

TEST(DnsMessageTest, TwoOptRecordsRejected) {
  Bytes wire = plain_query();
  add_opt(wire, 1232, 0, false);
  add_opt(wire, 1232, 0, false);
  EXPECT_EQ(parse_error(wire), QueryError::kDuplicateOpt);
}

TEST(DnsMessageTest, MalformedRejected) {
  Bytes truncated_name = plain_query();
  truncated_name.resize(18);  // inside "Example"
  EXPECT_EQ(parse_error(truncated_name), QueryError::kMalformed);

  Bytes header_only = plain_query();
  header_only.resize(12);
  EXPECT_EQ(parse_error(header_only), QueryError::kMalformed);

  Bytes bad_rdlength = plain_query();
  add_opt(bad_rdlength, 1232, 0, false);
  bad_rdlength.back() = 9;  // RDLENGTH 9 with no RDATA
  EXPECT_EQ(parse_error(bad_rdlength), QueryError::kMalformed);

  Bytes missing_ar = plain_query();
  missing_ar[11] = 1;  // ARCOUNT 1, no record
  EXPECT_EQ(parse_error(missing_ar), QueryError::kMalformed);

  Bytes pointer_loop = plain_query();
  pointer_loop.resize(12);
  pointer_loop.insert(pointer_loop.end(), {0xc0, 12, 0, 1, 0, 1});
  EXPECT_EQ(parse_error(pointer_loop), QueryError::kMalformed);
}

TEST(DnsMessageTest, EdnsVersionOneRejected) {
  Bytes wire = plain_query();
  add_opt(wire, 1232, 1, false);
  EXPECT_EQ(parse_error(wire), QueryError::kBadEdnsVersion);
}

TEST(DnsMessageTest, ZoneTransfersRejected) {
  EXPECT_EQ(parse_error(ldns_query("example.com.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN)),
            QueryError::kZoneTransfer);
  EXPECT_EQ(parse_error(ldns_query("example.com.", LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN)),
            QueryError::kZoneTransfer);
}

TEST(DnsMessageTest, ClassMustBeInChOrAny) {
  EXPECT_EQ(parse_error(ldns_query("example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_HS)),
            QueryError::kBadClass);
  EXPECT_TRUE(query_parse(ldns_query("version.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH)));
  EXPECT_TRUE(query_parse(ldns_query("example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_ANY)));
}

TEST(DnsMessageTest, ErrorNamesAreMetricLabels) {
  EXPECT_STREQ(query_error_name(QueryError::kTooShort), "too_short");
  EXPECT_STREQ(query_error_name(QueryError::kIsResponse), "is_response");
  EXPECT_STREQ(query_error_name(QueryError::kDuplicateOpt), "duplicate_opt");
  EXPECT_STREQ(query_error_name(QueryError::kBadClass), "bad_class");
}

}  // namespace
}  // namespace dp::dns
