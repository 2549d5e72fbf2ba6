// The query dotproxy sends upstream for a client's query: our flags and EDNS (keepalive,
// padding), the question lowercased, nothing of the client's hop-by-hop EDNS options.
#pragma once

#include <cstdint>
#include <vector>

#include "dns/message.h"

namespace dp::dns {

// Writes into `out` (replacing its contents, reusing its room) the query sent upstream for
// `query`: ID 0 (the connection sets its own), RD=1, the client's CD, the lowercased qname,
// EDNS0 with the client's DO bit and an empty edns-tcp-keepalive (RFC 7828 §3.2.1), padded to
// a multiple of 128 bytes (RFC 8467 §4.1).
void upstream_query_build_into(const Query& query, std::vector<std::uint8_t>& out);

}  // namespace dp::dns
