// Counters of one worker's query handling (exported by the metrics endpoint in a later issue).
#pragma once

#include <array>
#include <cstdint>

namespace dp::proxy {

inline constexpr std::size_t kQueryErrorCount = 10;  // dns::QueryError values

// Plain integers: one per worker thread, summed on read.
struct QueryStats {
  std::uint64_t queries_udp = 0;
  std::uint64_t queries_tcp = 0;
  std::array<std::uint64_t, kQueryErrorCount> rejected{};  // by dns::QueryError
  std::array<std::uint64_t, 24> replies_by_rcode{};        // extended rcodes up to BADVERS+
  std::uint64_t replies_truncated = 0;
  std::uint64_t servfail_upstream = 0;  // SERVFAIL because the upstream gave no answer
  std::uint64_t acl_refused = 0;        // REFUSED + EDE 18: not allowed by the ACL
  std::uint64_t acl_dropped = 0;        // dropped by an ACL "drop" rule
  std::uint64_t rate_limited = 0;       // over the rate limit: dropped
  std::uint64_t rate_slipped = 0;       // over the rate limit: TC=1 instead
  std::uint64_t local_answers = 0;      // answered from a local zone, never sent upstream
  std::uint64_t blocked = 0;            // name on the blocklist: answered here, never upstream

  // The cache path: every query past the guard is one hit or one miss.
  std::uint64_t cache_hits = 0;          // answered from the cache at once (fresh or stale)
  std::uint64_t cache_misses = 0;        // waited for an upstream answer
  std::uint64_t stale_served = 0;        // RFC 8767 stale answers, at once or after the timer
  std::uint64_t prefetches = 0;          // background refreshes of a popular entry
  std::uint64_t coalesced = 0;           // misses that joined an identical query in flight
  std::uint64_t waiting_overloaded = 0;  // SERVFAIL: too many clients waiting already
  std::uint64_t query_log_dropped = 0;   // --query-log lines dropped: the writer was behind
};

}  // namespace dp::proxy
