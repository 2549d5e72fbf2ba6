// The query dotproxy sends upstream for a client's query: our flags and EDNS (keepalive,
// padding), the question lowercased, nothing of the client's hop-by-hop EDNS options.
#pragma once

#include <cstdint>
#include <vector>

#include "dns/message.h"

namespace dp::dns {

// Which EDNS options the query carries; they depend on the transport of its route.
struct UpstreamQueryShape {
  bool keepalive = true;  // RFC 7828 §3.2.1: over TCP only, never over UDP
  bool padding = true;    // RFC 7830: worth it only inside TLS (RFC 8467 §4.1)
  // We validate: DO=1 and CD=1 whatever the client asked (RFC 6840 §5.9), so that the
  // signatures come and the upstream's own validation does not hide what it found bogus.
  bool dnssec = false;
};

// Writes into `out` (replacing its contents, reusing its room) the query sent upstream for
// `query`: ID 0 (the connection sets its own), RD=1, the client's CD, the lowercased qname,
// EDNS0 with the client's DO bit (both set when shape.dnssec), then as `shape` says an empty
// edns-tcp-keepalive and padding to a multiple of 128 bytes.
void upstream_query_build_into(const Query& query, std::vector<std::uint8_t>& out,
                               UpstreamQueryShape shape = {});

}  // namespace dp::dns
