// Packets for the dns tests: hand-built queries, ldns-built upstream answers, and the stored
// form and client reply of an answer as the resolver makes them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"
#include "dns/message.h"
#include "dns/reply.h"
#include "dns/stored_answer.h"
#include "dns/upstream_query.h"

namespace dp::dns::testing {

using Bytes = std::vector<std::uint8_t>;
using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;

// ID 0xbeef, RD, one question "WwW.ExAmple.COM." A IN (0x20 mixed case).
inline Bytes plain_query() {
  Bytes wire = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  const std::uint8_t name[] = {3,   'W', 'w', 'W', 7,   'E', 'x', 'A', 'm',
                               'p', 'l', 'e', 3,   'C', 'O', 'M', 0};
  wire.insert(wire.end(), std::begin(name), std::end(name));
  wire.insert(wire.end(), {0, 1, 0, 1});
  return wire;
}

// The question section of plain_query().
inline Bytes plain_question() {
  const Bytes wire = plain_query();
  return Bytes(wire.begin() + 12, wire.end());
}

// Appends an OPT RR with `options` as RDATA and bumps ARCOUNT.
inline void add_opt(Bytes& wire, std::uint16_t udp_size, std::uint8_t ext_rcode,
                    std::uint8_t version, bool dnssec_ok, const Bytes& options = {}) {
  wire.insert(
      wire.end(),
      {0, 0, 41, static_cast<std::uint8_t>(udp_size >> 8), static_cast<std::uint8_t>(udp_size),
       ext_rcode, version, static_cast<std::uint8_t>(dnssec_ok ? 0x80 : 0), 0,
       static_cast<std::uint8_t>(options.size() >> 8), static_cast<std::uint8_t>(options.size())});
  wire.insert(wire.end(), options.begin(), options.end());
  ++wire[11];
}

inline Query parsed(const Bytes& wire) {
  auto query = query_parse(wire);
  EXPECT_TRUE(query.has_value());
  return query.has_value() ? *query : Query{};
}

inline PacketPtr ldns_parse(const Bytes& wire) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  return PacketPtr(pkt);
}

inline Bytes to_wire(const ldns_pkt* pkt) {
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&data, pkt, &size), LDNS_STATUS_OK);
  Bytes wire(data, data + size);
  std::free(data);  // NOLINT: ldns allocates with malloc
  return wire;
}

// An upstream answer to www.example.com. A IN (lowercase, as we ask): `count` A records and
// `glue` additional A records; ID 0x4242, RD and RA set.
inline Bytes upstream_answer(int count, int glue = 0) {
  PacketPtr pkt(ldns_pkt_new());
  ldns_pkt_set_id(pkt.get(), 0x4242);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_rd(pkt.get(), true);
  ldns_pkt_set_ra(pkt.get(), true);
  ldns_rr* question = ldns_rr_new();
  ldns_rr_set_owner(question, ldns_dname_new_frm_str("www.example.com."));
  ldns_rr_set_type(question, LDNS_RR_TYPE_A);
  ldns_rr_set_class(question, LDNS_RR_CLASS_IN);
  ldns_rr_set_question(question, true);
  ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_QUESTION, question);
  for (int i = 0; i < count + glue; ++i) {
    ldns_rr* rr = nullptr;
    const std::string text = (i < count ? "www.example.com." : "ns.example.com.") +
                             std::string(" 300 IN A 192.0.2.") + std::to_string(i % 250);
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK);
    ldns_pkt_push_rr(pkt.get(), i < count ? LDNS_SECTION_ANSWER : LDNS_SECTION_ADDITIONAL, rr);
  }
  return to_wire(pkt.get());
}

// Records of an answer, by section, in zone-file text ("a.example. 60 IN A 192.0.2.1").
struct Records {
  std::vector<std::string> answer;
  std::vector<std::string> authority;
  std::vector<std::string> additional;
};

// An upstream answer to `qname` `qtype` IN (as we ask: lowercase) with `rcode` and `records`;
// ID 0x4242, QR, RD and RA set; `truncated` sets TC.
inline Bytes answer_build(const std::string& qname, ldns_rr_type qtype, ldns_pkt_rcode rcode,
                          const Records& records, bool truncated = false) {
  PacketPtr pkt(ldns_pkt_new());
  ldns_pkt_set_id(pkt.get(), 0x4242);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_rd(pkt.get(), true);
  ldns_pkt_set_ra(pkt.get(), true);
  ldns_pkt_set_tc(pkt.get(), truncated);
  ldns_pkt_set_rcode(pkt.get(), rcode);
  ldns_rr* question = ldns_rr_new();
  ldns_rr_set_owner(question, ldns_dname_new_frm_str(qname.c_str()));
  ldns_rr_set_type(question, qtype);
  ldns_rr_set_class(question, LDNS_RR_CLASS_IN);
  ldns_rr_set_question(question, true);
  ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_QUESTION, question);
  const std::pair<ldns_pkt_section, const std::vector<std::string>*> sections[] = {
      {LDNS_SECTION_ANSWER, &records.answer},
      {LDNS_SECTION_AUTHORITY, &records.authority},
      {LDNS_SECTION_ADDITIONAL, &records.additional}};
  for (const auto& [section, texts] : sections) {
    for (const std::string& text : *texts) {
      ldns_rr* rr = nullptr;
      EXPECT_EQ(ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK)
          << text;
      ldns_pkt_push_rr(pkt.get(), section, rr);
    }
  }
  return to_wire(pkt.get());
}

// A client query for `qname` `qtype` IN with ID 0x1234 and RD, the name as written (its case
// kept); with EDNS (UDP size `udp_size`, DO as given) unless udp_size is 0.
inline Bytes query_build(const std::string& qname, ldns_rr_type qtype, std::uint16_t udp_size = 0,
                         bool dnssec_ok = false) {
  ldns_pkt* raw = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, qname.c_str(), qtype, LDNS_RR_CLASS_IN, LDNS_RD),
            LDNS_STATUS_OK);
  PacketPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), 0x1234);
  Bytes wire = to_wire(pkt.get());
  if (udp_size != 0) add_opt(wire, udp_size, 0, 0, dnssec_ok);
  return wire;
}

// The TTL of every record in the answer, authority and additional sections (OPT left out).
inline std::vector<std::uint32_t> ttls_of(const Bytes& wire) {
  std::vector<std::uint32_t> out;
  const PacketPtr pkt = ldns_parse(wire);
  for (const ldns_rr_list* list : {ldns_pkt_answer(pkt.get()), ldns_pkt_authority(pkt.get()),
                                   ldns_pkt_additional(pkt.get())}) {
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      out.push_back(ldns_rr_ttl(ldns_rr_list_rr(list, i)));
    }
  }
  return out;
}

// The OPT RDATA ldns saw (empty without OPT or options).
inline Bytes edns_data(const PacketPtr& pkt) {
  const ldns_rdf* data = ldns_pkt_edns_data(pkt.get());
  if (data == nullptr) return {};
  return Bytes(ldns_rdf_data(data), ldns_rdf_data(data) + ldns_rdf_size(data));
}

// `wire` with AA set, as an authoritative server sends its answers (RFC 1035 §4.1.1).
inline Bytes with_aa(Bytes wire) {
  wire.at(2) |= 0x04;
  return wire;
}
inline bool aa_of(const Bytes& wire) { return (wire.at(2) & 0x04) != 0; }
inline Bytes with_ad(Bytes wire) {
  wire.at(3) |= 0x20;
  return wire;
}
inline bool ad_of(const Bytes& wire) { return (wire.at(3) & 0x20) != 0; }

inline std::uint16_t u16(const Bytes& wire, std::size_t pos) {
  return static_cast<std::uint16_t>(wire.at(pos) << 8 | wire.at(pos + 1));
}

// The query sent upstream for `query` (dns/upstream_query.h), in a buffer of its own.
inline Bytes upstream_query_of(const Query& query) {
  Bytes out;
  upstream_query_build_into(query, out);
  return out;
}

// An upstream answer to www.example.com. A IN with these answer and authority records.
inline Bytes a_answer(std::vector<std::string> answer, std::vector<std::string> authority = {}) {
  return answer_build("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR,
                      Records{std::move(answer), std::move(authority), {}});
}

// The stored form of a checked upstream answer (dns/stored_answer.h); a test failure if none.
inline StoredAnswer stored(const Bytes& answer, const TtlPolicy& policy = {}) {
  auto result = stored_answer_make(answer, policy);
  EXPECT_TRUE(result.has_value());
  return result.has_value() ? *result : StoredAnswer{};
}

// The reply reply_build writes from `answer` for the client query `query_wire`.
inline Bytes built(const StoredAnswer& answer, const Bytes& query_wire, ReplyShape shape = {}) {
  Bytes out;
  reply_build(answer.view(), parsed(query_wire), shape, out);
  return out;
}

// A checked upstream answer as a client gets it on a miss: stored with its TTLs as sent (no
// clamps), rebuilt for `query`, cut to `max_size`; SERVFAIL when it cannot be stored.
inline Bytes reply_from_answer(std::span<const std::uint8_t> answer, const Query& query,
                               std::size_t max_size) {
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  const TtlPolicy as_sent{
      .min_ttl = 0, .max_ttl = kMax, .max_negative_ttl = kMax, .failure_ttl = kMax};
  const auto form = stored_answer_make(answer, as_sent);
  if (!form) return reply_error(query, Rcode::kServFail);
  Bytes out;
  reply_build(form->view(), query, ReplyShape{.max_size = max_size}, out);
  return out;
}

}  // namespace dp::dns::testing
