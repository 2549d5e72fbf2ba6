// The test server's answers: a synthetic `test.` zone built with ldns, echoing the question.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dp::testing {

inline constexpr std::uint16_t kZoneEdnsUdpSize = 1232;  // advertised in every answer OPT
inline constexpr std::size_t kZonePaddingBlock = 468;    // RFC 8467 §4.1 response block size
inline constexpr std::uint16_t kEdnsKeepaliveCode = 11;  // RFC 7828 edns-tcp-keepalive
inline constexpr std::uint16_t kEdnsPaddingCode = 12;    // RFC 7830 padding

// Extras for zone_answer() that depend on the server's state rather than on the query.
struct ZoneAnswerOptions {
  // RFC 7828: put edns-tcp-keepalive with this TIMEOUT (units of 100 ms) into the answer's OPT,
  // before the padding. Ignored when the query had no OPT RR.
  std::optional<std::uint16_t> keepalive_timeout_units;
};

// Answers one wire query (no length prefix). The question is echoed byte for byte (case kept),
// with the ID, opcode and RD copied; QR=1, AA=1, RA=1. Zone contents:
//   at or under test.:   A 192.0.2.1, AAAA 2001:db8::1, TXT "hello" (TTL 60);
//                        test. SOA answered; other types NODATA (SOA in authority)
//   big.test. A:         100 A records 198.51.100.0..99, TTL 300 (> 1232 bytes)
//   at or under nx.test: NXDOMAIN, SOA in authority
//   at or under servfail.test: SERVFAIL, no records
//   anything else:       REFUSED (also for classes other than IN)
// SOA: test. 3600 IN SOA ns.test. admin.test. 1 3600 600 86400 300.
// QDCOUNT != 1 or an unparsable query (>= 12 bytes): FORMERR with the header ID; opcode other
// than QUERY: NOTIMP. If the query had an OPT RR, the answer ends with an OPT (UDP size 1232,
// DO copied) holding an RFC 7830 padding option that fills the answer to a multiple of 468.
// Returns an empty vector for input under 12 bytes (nothing to answer).
std::vector<std::uint8_t> zone_answer(std::span<const std::uint8_t> query,
                                      const ZoneAnswerOptions& options = {});

// The data of EDNS option `code` in the query's OPT RR (empty for a zero-length option), or
// nullopt if the query has no OPT, lacks that option or does not parse. For checking what a
// client sends, e.g. edns-tcp-keepalive or padding (the padded size is the query's size).
std::optional<std::vector<std::uint8_t>> query_option(std::span<const std::uint8_t> query,
                                                      std::uint16_t code);
inline bool query_has_option(std::span<const std::uint8_t> query, std::uint16_t code) {
  return query_option(query, code).has_value();
}

// The name in the query's first question, lowercase and without the final dot (the root stays
// "."), as the servers' per-name counters key it; nullopt if the query does not parse or has
// no question.
std::optional<std::string> query_name(std::span<const std::uint8_t> query);

}  // namespace dp::testing
