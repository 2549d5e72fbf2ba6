// An upstream answer in the form every reply is rebuilt from (dns/reply.h) and the cache holds:
// its records without the OPT, the offset of every TTL, the EDNS parts a client may see, AA
// cleared; plus the TTL maths that decide how long it may be cached (RFC 1035, 2181, 2308,
// 9520). Parsed once per upstream answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "dns/answer_check.h"
#include "dns/message.h"

namespace dp::dns {

// How long answers live, in seconds.
struct TtlPolicy {
  std::uint32_t min_ttl = 0;               // floor for positive answers
  std::uint32_t max_ttl = 86'400;          // ceiling for positive answers
  std::uint32_t max_negative_ttl = 3'600;  // ceiling for NXDOMAIN/NODATA (RFC 2308 §5)
  std::uint32_t failure_ttl = 5;           // SERVFAIL and other failures (RFC 9520 §3.2)
};

enum class AnswerKind {
  kPositive,  // NOERROR with answer records
  kNegative,  // NXDOMAIN, or NOERROR without answer records (NODATA), RFC 2308
  kFailure,   // SERVFAIL, REFUSED, NOTIMP, FORMERR and other rcodes: cached briefly
};

// A read-only view of a stored answer, from a StoredAnswer or from a cache entry's bytes.
struct AnswerView {
  std::span<const std::uint8_t> wire;          // header + question + records, no OPT/TSIG
  std::span<const std::uint16_t> ttl_offsets;  // where each record's TTL sits in `wire`
  std::span<const std::uint8_t> ede_options;   // the upstream's EDE options, whole TLVs
  std::uint8_t extended_rcode = 0;             // upper 8 bits of the upstream's rcode
};

struct StoredAnswer {
  std::vector<std::uint8_t> wire;
  std::vector<std::uint16_t> ttl_offsets;
  std::vector<std::uint8_t> ede_options;
  std::uint8_t extended_rcode = 0;
  AnswerKind kind = AnswerKind::kPositive;
  // Seconds it may be cached; 0: must not be (TTL 0, TC=1, negative without SOA).
  std::uint32_t cache_ttl = 0;

  AnswerView view() const { return {wire, ttl_offsets, ede_options, extended_rcode}; }
};

// Turns an answer that passed answer_check into its stored form, AA cleared (RFC 1035 §4.1.1:
// we are no authority for what an upstream says), with every record TTL rewritten per `policy` (RFC
// 2181 §8: a TTL with the top bit set counts as 0), and works out cache_ttl: positive, the smallest
// record TTL (RFC 2181 §5.2); negative, min(SOA TTL, SOA MINIMUM) (RFC 2308 §5), not cached without
// an SOA; failures, policy.failure_ttl; TC=1 never. Errors: kMalformed when the records cannot be
// walked.
Result<StoredAnswer, AnswerError> stored_answer_make(std::span<const std::uint8_t> answer,
                                                     const TtlPolicy& policy);
// The same into `out`, reusing the capacity of its buffers, so that a worker that keeps one
// allocates nothing here per answer. False when the records cannot be walked (kMalformed);
// `out` then holds nothing usable.
bool stored_answer_make_into(std::span<const std::uint8_t> answer, const TtlPolicy& policy,
                             StoredAnswer& out);

// Clears AD (RFC 4035 §3.2.3): for answers from a hop that authenticated nothing (plain DNS).
void stored_answer_clear_ad(StoredAnswer& answer);

}  // namespace dp::dns
