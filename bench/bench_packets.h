// What every bench needs to make DNS packets with ldns: wire bytes out of an ldns_pkt, and the
// queries and answers the benches outside bench/dns use (only bench/dns includes ldns itself).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"

namespace dp::bench {

using Bytes = std::vector<std::uint8_t>;
using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;

inline Bytes to_wire(const ldns_pkt* pkt) {
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
  ldns_pkt2wire(&data, pkt, &size);
  Bytes wire(data, data + size);
  std::free(data);  // NOLINT: ldns allocates with malloc
  return wire;
}

// A query for `name` A with RD set, `id`, and EDNS0 (UDP size 1232).
inline Bytes query_wire(const std::string& name, std::uint16_t id = 0) {
  ldns_pkt* raw = nullptr;
  ldns_pkt_query_new_frm_str(&raw, name.c_str(), LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
  PacketPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), id);
  ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  return to_wire(pkt.get());
}

// The upstream's answer to query_wire(name, id): RA set, `records` A records of TTL 3600
// (192.0.2.0/24), with its OPT.
inline Bytes answer_wire(const std::string& name, int records = 1, std::uint16_t id = 0) {
  ldns_pkt* raw = nullptr;
  ldns_pkt_query_new_frm_str(&raw, name.c_str(), LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
  PacketPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), id);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_ra(pkt.get(), true);
  ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  for (int i = 0; i < records; ++i) {
    ldns_rr* rr = nullptr;
    const std::string text = name + " 3600 IN A 192.0.2." + std::to_string(i % 250);
    ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr);
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
  }
  return to_wire(pkt.get());
}

}  // namespace dp::bench
