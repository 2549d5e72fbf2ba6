// Per-client query rate limit: a token bucket per client network, like Unbound's ip-ratelimit
// and dnsdist's MaxQPSIPRule. Over the limit a query is dropped or, every Nth time, "slipped":
// answered with TC=1 so that a real client retries over TCP, which a spoofed source cannot
// (the BIND RRL idea; RFC 7766 §5 makes TCP the fallback for any truncated answer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

#include "common/clock.h"
#include "common/socket_address.h"

namespace dp::policy {

struct RateLimitOptions {
  double queries_per_second = 0;    // 0: off
  double burst = 0;                 // bucket size in queries; 0: = queries_per_second (min 1)
  unsigned ipv4_prefix = 24;        // clients are grouped per /24 (clamped to 32)
  unsigned ipv6_prefix = 56;        // and per /56, a typical end-site delegation (clamped to 128)
  std::size_t max_buckets = 65536;  // table bound; beyond it the least recently used bucket is
                                    // evicted (counted); at least 1
  unsigned slip = 2;  // over the limit: every Nth query gets a TC=1 reply (0: drop all)
};

enum class RateDecision {
  kPass,
  kDrop,
  kSlip,  // answer with TC=1 and no records so a real client retries over TCP
};

// One per worker, owned by it and used on its thread only: not thread-safe. Pure: the caller
// passes `now`, nothing here reads a clock.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimitOptions options);

  // Amortised O(1): one hash lookup and a list splice. Allocates only while the table grows;
  // once it holds max_buckets entries, a new client reuses the evicted entry's nodes.
  RateDecision check(const SocketAddress& client, TimePoint now);

  std::uint64_t evictions() const { return evictions_; }
  std::size_t buckets() const { return index_.size(); }
  bool enabled() const { return options_.queries_per_second > 0; }

 private:
  // A client network as 128 bits; IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d, masked.
  struct Key {
    std::uint64_t hi = 0, lo = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::uint64_t seed;
    std::size_t operator()(const Key& k) const;
  };
  // The token bucket in its GCRA form (ITU-T I.371): instead of a token count refilled by
  // elapsed time, the time at which the bucket would be full again. Same decisions, integer
  // arithmetic, no rounding drift.
  struct Bucket {
    Key key;
    TimePoint tat;           // "theoretical arrival time": now + (burst - tokens) * interval
    std::uint32_t over = 0;  // queries over the limit so far, for the slip rotation
  };
  using Lru = std::list<Bucket>;  // front: most recently used

  Key key_of(const SocketAddress& client) const;

  RateLimitOptions options_;
  std::chrono::nanoseconds interval_{};  // one token's worth of time: 1 / queries_per_second
  std::chrono::nanoseconds
      tolerance_{};  // how far tat may run ahead of now: (burst - 1) * interval
  Lru lru_;
  std::unordered_map<Key, Lru::iterator, KeyHash> index_;
  std::uint64_t evictions_ = 0;
};

}  // namespace dp::policy
