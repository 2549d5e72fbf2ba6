// Packets for the dns tests: hand-built queries and ldns-built upstream answers.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"
#include "dns/message.h"

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

// The OPT RDATA ldns saw (empty without OPT or options).
inline Bytes edns_data(const PacketPtr& pkt) {
  const ldns_rdf* data = ldns_pkt_edns_data(pkt.get());
  if (data == nullptr) return {};
  return Bytes(ldns_rdf_data(data), ldns_rdf_data(data) + ldns_rdf_size(data));
}

inline std::uint16_t u16(const Bytes& wire, std::size_t pos) {
  return static_cast<std::uint16_t>(wire.at(pos) << 8 | wire.at(pos + 1));
}

}  // namespace dp::dns::testing
