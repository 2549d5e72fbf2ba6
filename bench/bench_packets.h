// What every bench needs to make DNS packets with ldns: wire bytes out of an ldns_pkt.
#pragma once

#include <cstdint>
#include <cstdlib>
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

}  // namespace dp::bench
