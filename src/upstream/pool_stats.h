// Counters of one worker's upstream pool (read by the metrics endpoint in a later issue).
#pragma once

#include <array>
#include <cstdint>

namespace dp::upstream {

inline constexpr std::size_t kUpstreamErrorCount = 8;

// Plain integers: one pool per worker thread, so no atomics on the hot path.
struct PoolStats {
  std::uint64_t queries = 0;        // resolve() calls
  std::uint64_t answers = 0;        // answers delivered
  std::uint64_t retries = 0;        // queries re-sent after their connection failed
  std::uint64_t hedges = 0;         // queries also sent to a second upstream (slow first)
  std::uint64_t rcode_retries = 0;  // SERVFAIL/REFUSED answers retried elsewhere
  std::array<std::uint64_t, kUpstreamErrorCount> failures{};  // by UpstreamError
  std::uint64_t connections_opened = 0;
  std::uint64_t handshakes = 0;
  std::uint64_t handshakes_resumed = 0;
  std::uint64_t answers_unknown_id = 0;  // late (after timeout) or never asked
  std::uint64_t answers_mismatched = 0;  // ID known, question or format wrong: discarded

  PoolStats& operator+=(const PoolStats& other) {
    queries += other.queries;
    answers += other.answers;
    retries += other.retries;
    hedges += other.hedges;
    rcode_retries += other.rcode_retries;
    for (std::size_t i = 0; i < failures.size(); ++i) failures[i] += other.failures[i];
    connections_opened += other.connections_opened;
    handshakes += other.handshakes;
    handshakes_resumed += other.handshakes_resumed;
    answers_unknown_id += other.answers_unknown_id;
    answers_mismatched += other.answers_mismatched;
    return *this;
  }
};

}  // namespace dp::upstream
