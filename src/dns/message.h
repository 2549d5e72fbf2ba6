// Client queries: parse and validate with ldns, and classify bad input per DESIGN.md's table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"

namespace dp::dns {

inline constexpr std::size_t kHeaderSize = 12;

// Record types and classes used by name (RFC 1035 §3.2.2-3.2.5, RFC 3596, RFC 1995, RFC 5936).
inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeCname = 5;
inline constexpr std::uint16_t kTypeSoa = 6;
inline constexpr std::uint16_t kTypePtr = 12;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kTypeIxfr = 251;
inline constexpr std::uint16_t kTypeAxfr = 252;
inline constexpr std::uint16_t kTypeAny = 255;
inline constexpr std::uint16_t kClassIn = 1;
inline constexpr std::uint16_t kClassCh = 3;
inline constexpr std::uint16_t kClassAny = 255;
// A compression pointer to the question's name, right after the header (RFC 1035 §4.1.4).
inline constexpr std::uint16_t kQnamePointer = 0xc000 | kHeaderSize;
inline constexpr std::size_t kMaxUdpReplyNoEdns = 512;  // RFC 1035 §4.2.1
inline constexpr std::size_t kMaxUdpReplyEdns = 1232;   // DNS flag day 2020 default
inline constexpr std::size_t kMaxMessageSize = 65535;   // TCP length prefix limit

enum class Rcode : std::uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kBadVers = 16,  // extended: needs an OPT RR (RFC 6891 §6.1.3)
};

// Why a client query is not forwarded. Names double as metric labels (query_error_name).
enum class QueryError {
  kTooShort,           // < 12 bytes: dropped
  kIsResponse,         // QR=1: dropped (never answer an answer: reflection loops)
  kMalformed,          // header readable, rest is not: FORMERR
  kQdCount,            // QDCOUNT != 1: FORMERR
  kAnswerOrAuthority,  // ANCOUNT or NSCOUNT != 0: FORMERR
  kDuplicateOpt,       // more than one OPT RR: FORMERR (RFC 6891 §6.1.1)
  kNotQuery,           // opcode != QUERY: NOTIMP
  kBadEdnsVersion,     // EDNS version != 0: BADVERS (RFC 6891 §6.1.3)
  kZoneTransfer,       // AXFR/IXFR: NOTIMP (a stub does not transfer zones)
  kBadClass,           // class not IN, CH or ANY: REFUSED
  kLast = kBadClass,   // keep it the last value: it sizes the per-reason counters
};

const char* query_error_name(QueryError error);

// The question exactly as matched against upstream answers: qname in lowercase wire form.
struct Question {
  std::string qname_lower;  // uncompressed wire form, ASCII letters lowered
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;

  friend bool operator==(const Question&, const Question&) = default;
};

// A validated client query: everything needed to forward it and to answer the client.
struct Query {
  std::uint16_t id = 0;
  bool rd = false;
  bool cd = false;
  bool ad = false;  // RFC 6840 §5.7: the client understands AD without DO
  bool has_edns = false;
  bool dnssec_ok = false;           // EDNS DO bit
  std::uint16_t edns_udp_size = 0;  // as sent by the client (0 without EDNS)
  Question question;
  std::string question_wire;  // qname+qtype+qclass as the client sent them (0x20 case kept)

  // Largest reply the client takes over UDP: 512 without EDNS, else its size clamped to
  // [512, 1232].
  std::size_t udp_reply_limit() const;

  friend bool operator==(const Query&, const Query&) = default;
};

// Parses and validates a client query. Errors: every QueryError above.
// The common shape (one uncompressed question, at most one well-formed root OPT, nothing
// after it) is read straight off the wire; everything else goes to ldns. Both give the same
// Query for the same bytes: tests/dns/message_common_shape_test.cc and the fuzz target check it.
Result<Query, QueryError> query_parse(std::span<const std::uint8_t> wire);
// The same into `query`, reusing its strings' room: the hit path parses without allocating.
// On an error `query` holds a partial parse and must not be used.
Result<void, QueryError> query_parse_into(std::span<const std::uint8_t> wire, Query& query);

// The two halves of query_parse, for the tests and benches that compare them.
// query_parse_ldns: the full validator. query_parse_common_shape: nullopt when the message is
// not of the common shape (not an error: ldns then decides), else exactly what ldns returns.
Result<Query, QueryError> query_parse_ldns(std::span<const std::uint8_t> wire);
std::optional<Result<Query, QueryError>> query_parse_common_shape(
    std::span<const std::uint8_t> wire);

}  // namespace dp::dns
