// The cache key (DESIGN.md): DO + CD, the route, then the question lowercased (qname in wire
// form, qtype, qclass), packed into bytes. Built into a buffer the caller keeps, so a lookup
// allocates nothing; compared whole on every hit, never only by its hash. An entry keeps no copy of
// it: its stored answer's question, lowercased, is the key's tail (cache/entry.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dns/message.h"

namespace dp::cache {

// Every key starts with a flags byte (DO, CD) and the route's tag (2 bytes, big-endian).
inline constexpr std::size_t kKeyPrefixSize = 3;

inline constexpr std::uint8_t kKeyFlagDo = 0x01;  // the client set DO (RFC 3225)
inline constexpr std::uint8_t kKeyFlagCd = 0x02;  // the client set CD (RFC 4035 §3.2.2)

// Writes `query`'s key into `out` (replacing its contents): the flags byte, `route_tag`, then
// the lowercased question. EDNS options never enter it (hop-by-hop). The route tag keeps the
// answers of different routes (the default upstreams: 0; each forward zone its own) apart, so
// an internal server's answer is never served for a name routed elsewhere after a reload.
void cache_key_build(const dns::Query& query, std::string& out, std::uint16_t route_tag = 0);

// The question part of a key: the lowercased question section of what it answers.
inline std::string_view key_question(std::string_view key) { return key.substr(kKeyPrefixSize); }
inline std::uint16_t key_route_tag(std::string_view key) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(key[1]) << 8) |
                                    static_cast<unsigned char>(key[2]));
}

}  // namespace dp::cache
