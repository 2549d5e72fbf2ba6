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
  std::array<std::uint64_t, 24> replies_by_rcode{};          // extended rcodes up to BADVERS+
  std::uint64_t replies_truncated = 0;
  std::uint64_t servfail_upstream = 0;  // SERVFAIL because the upstream gave no answer
};

}  // namespace dp::proxy
