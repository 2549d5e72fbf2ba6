// The response cache shared by all workers: sharded, one lock per shard, bounded in bytes.
// A hit is rebuilt for its client under the shard's lock, straight from the stored bytes;
// a hit never waits on the network. Pure: every call takes `now`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "cache/shard.h"
#include "common/clock.h"
#include "dns/message.h"
#include "dns/stored_answer.h"

namespace dp::cache {

struct CacheOptions {
  std::size_t max_bytes = 64 << 20;        // everything held, entries and index, stays under it
  bool serve_stale = true;                 // RFC 8767
  std::chrono::seconds max_stale{86'400};  // an answer expired longer ago is not served
  unsigned prefetch_percent = 10;  // a hit in the last this-% of its TTL is refreshed; 0: off
};

enum class Freshness {
  kMiss,   // nothing usable
  kFresh,  // within its TTL
  kStale,  // expired less than max_stale ago, serve_stale on
};

struct Lookup {
  Freshness state = Freshness::kMiss;
  bool built = false;            // `out` holds the reply
  bool prefetch_due = false;     // fresh, in the last prefetch_percent of its TTL
  bool refresh_failing = false;  // stale, and its last refresh failed recently
};

// Owned by the Server, shared by every worker thread; all methods are thread-safe.
class Cache {
 public:
  explicit Cache(const CacheOptions& options);
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // Finds `key`. Fresh: builds the reply to `query` with TTLs lowered by the entry's age.
  // Stale: builds the stale reply (TTL 30, EDE 3) when build_stale is set or its refresh is
  // failing; else only says so, for the caller to ask upstream first. `out` is untouched when
  // nothing is built.
  Lookup lookup(std::string_view key, TimePoint now, const dns::Query& query, std::size_t max_size,
                bool build_stale, std::vector<std::uint8_t>& out);

  // Stores `answer` under `key` (replacing what was there) unless its cache_ttl is 0.
  // Returns whether it is held.
  bool insert(std::string_view key, const dns::StoredAnswer& answer, TimePoint now);

  // A refresh of `key` failed. If an answer is still held (fresh or within the stale window),
  // it is kept, an expired one served stale at once until `retry_at`, and true is returned.
  bool refresh_failed(std::string_view key, TimePoint now, TimePoint retry_at);

  ShardStats stats() const;  // summed over the shards
  const CacheOptions& options() const { return options_; }

 private:
  Shard& shard_for(const KeyRef& key) const;
  // An expired entry that may still be served stale at `now`.
  bool stale_servable(const Entry& entry, TimePoint now) const;

  CacheOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;  // a power of two of them
  unsigned shard_shift_ = 0;                    // hash >> shift picks the shard
};

}  // namespace dp::cache
