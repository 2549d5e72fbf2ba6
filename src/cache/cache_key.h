// The cache key (DESIGN.md): lowercased qname + qtype + qclass + DO + CD, packed into bytes.
// Built into a buffer the caller keeps, so a lookup allocates nothing; compared whole on every
// hit, never only by its hash.
#pragma once

#include <string>

#include "dns/message.h"

namespace dp::cache {

// Writes `query`'s key into `out` (replacing its contents): qtype, qclass, a flags byte (DO,
// CD), then the lowercased qname in wire form. EDNS options never enter it (hop-by-hop).
void cache_key_build(const dns::Query& query, std::string& out);

}  // namespace dp::cache
