// The response cache shared by all workers: sharded, one lock per shard, bounded in bytes.
// A hit is rebuilt for its client under the shard's lock, straight from the stored bytes;
// a hit never waits on the network. Pure: every call takes `now`.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_key.h"
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

// Which entries a flush removes: every DO/CD variant and every route of the questions it names.
struct QuestionMatch {
  std::string qname;                   // lowercased wire form, e.g. "\x03www\x04test\x00"
  std::optional<std::uint16_t> qtype;  // unset: every type
  bool subtree = false;                // also every name under qname (flush-zone)

  // `question`: an entry's lowercased qname (wire form), QTYPE, QCLASS.
  bool matches(std::string_view question) const;
};

// One entry as the control channel's cache-dump shows it.
struct EntryInfo {
  std::string_view question;   // lowercased qname (wire form), QTYPE, QCLASS; valid in the call
  std::uint8_t key_flags = 0;  // kKeyFlagDo, kKeyFlagCd
  std::uint16_t route_tag = 0;
  std::int64_t ttl_left_seconds = 0;  // negative: expired that long ago
  bool stale_servable = false;        // expired, and would be served stale now
  std::uint8_t rcode = 0;             // the header's 4 bits
  std::size_t bytes = 0;              // held, as the budget counts it
};

// Where a sliced visit of the cache is: shard, then slot of its index.
struct VisitCursor {
  std::size_t shard = 0;
  std::size_t slot = 0;
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

  // The control channel's; never on the hot path. Each holds one shard's lock at a time.
  //
  // Removes the entries `match` names from every shard, visiting each shard's index
  // `slice_slots` slots per taking of its lock. A shard whose index changed layout between
  // two slices (which may move an entry behind the cursor) is visited again from its start;
  // after kMaxRescans such restarts the rest of it is done under one taking of the lock.
  // Answers stored while it runs (a query already upstream) may stay. Returns how many.
  // Slots looked at per taking of a shard's lock: a bound on how long a worker may wait for it
  // (not measured; of the order of a few thousand cache lines read).
  static constexpr std::size_t kSliceSlots = 1024;
  static constexpr int kMaxRescans = 4;
  std::size_t remove(const QuestionMatch& match, std::size_t slice_slots = kSliceSlots);
  // Removes everything: each shard emptied in O(1) under its lock, its entries freed after.
  std::size_t remove_all();
  // Calls fn(const EntryInfo&) for the entries in at most `max_slots` slots of the index from
  // `cursor`, under one shard's lock, and moves the cursor on. False once every shard is done.
  // Not a snapshot: an entry stored, evicted or moved between two calls may be missed or seen
  // twice.
  template <class Fn>
  bool visit(VisitCursor& cursor, std::size_t max_slots, TimePoint now, Fn&& fn) const {
    if (cursor.shard >= shards_.size()) return false;
    Shard& shard = *shards_[cursor.shard];
    std::lock_guard lock(shard.mutex);
    const std::size_t end = std::min(shard.slot_count(), cursor.slot + max_slots);
    for (std::size_t i = cursor.slot; i < end; ++i) {
      if (const Entry* entry = shard.slot_entry(i)) fn(entry_info(*entry, now));
    }
    cursor.slot = end;
    if (end >= shard.slot_count()) {
      ++cursor.shard;
      cursor.slot = 0;
    }
    return cursor.shard < shards_.size();
  }

  ShardStats stats() const;  // summed over the shards
  const CacheOptions& options() const { return options_; }

 private:
  Shard& shard_for(const KeyRef& key) const;
  EntryInfo entry_info(const Entry& entry, TimePoint now) const;
  // An expired entry that may still be served stale at `now`.
  bool stale_servable(const Entry& entry, TimePoint now) const;

  CacheOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;  // a power of two of them
  unsigned shard_shift_ = 0;                    // hash >> shift picks the shard
};

}  // namespace dp::cache
