// The cache key (DESIGN.md): DO + CD, then the question lowercased (qname in wire form, qtype,
// qclass), packed into bytes. Built into a buffer the caller keeps, so a lookup allocates
// nothing; compared whole on every hit, never only by its hash. An entry keeps no copy of it:
// its stored answer's question, lowercased, is the key's tail (cache/entry.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "dns/message.h"

namespace dp::cache {

inline constexpr std::size_t kKeyFlagsSize = 1;  // the flags byte that leads every key

// Writes `query`'s key into `out` (replacing its contents): a flags byte (DO, CD), then the
// lowercased question. EDNS options never enter it (hop-by-hop).
void cache_key_build(const dns::Query& query, std::string& out);

// The question part of a key: the lowercased question section of what it answers.
inline std::string_view key_question(std::string_view key) { return key.substr(kKeyFlagsSize); }

}  // namespace dp::cache
