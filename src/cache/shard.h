// One shard of the cache: an index of entries, an LRU list and an expiry heap, held within
// a byte budget. Eviction is TTL-aware: an expired entry goes first, then the least recently
// used one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "cache/entry.h"
#include "cache/entry_table.h"
#include "common/clock.h"

namespace dp::cache {

// A key with its hash computed once: it picks the shard and the bucket.
struct KeyRef {
  std::string_view bytes;
  std::size_t hash = 0;

  static KeyRef of(std::string_view bytes) { return {bytes, std::hash<std::string_view>{}(bytes)}; }
};

struct ShardStats {
  std::uint64_t inserts = 0;
  std::uint64_t replaced = 0;          // an insert over an entry of the same key
  std::uint64_t evicted_expired = 0;   // made room: an expired entry
  std::uint64_t evicted_lru = 0;       // made room: the least recently used fresh entry
  std::uint64_t removed_too_old = 0;   // expired beyond the stale window, found by a lookup
  std::uint64_t rejected_too_big = 0;  // one answer larger than the whole shard
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;  // held: entries, the index's array, the heap's array
};

// Owned by the Cache; every member is guarded by `mutex`, which the caller holds.
class Shard {
 public:
  explicit Shard(std::size_t budget_bytes);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  std::mutex mutex;

  Entry* find(const KeyRef& key) const;
  // Most recently used now. The LRU order is kept to the second: an entry already moved to
  // the front in this second of its life stays where it is, so a hot entry costs no relinks.
  void touch(Entry* entry, TimePoint now);
  // Takes ownership of `entry`, replacing an entry of the same key, and evicts until the
  // budget holds again. An entry larger than the whole budget is destroyed instead: false.
  bool insert(const KeyRef& key, Entry* entry, TimePoint now);
  void remove_too_old(Entry* entry);  // a lookup found it past the stale window
  // A refresh of `entry` failed: it is served stale at once until `until` (RFC 8767 §4).
  void set_refresh_failing(Entry* entry, TimePoint until);
  bool refresh_failing(const Entry* entry, TimePoint now) const;

  ShardStats stats() const;
  std::size_t held_bytes() const;
  std::size_t budget_bytes() const { return budget_; }

 private:
  void erase(Entry* entry);  // unlinks and destroys
  void evict_one(TimePoint now);
  void lru_unlink(Entry* entry);
  void lru_push_newest(Entry* entry);
  void heap_push(Entry* entry);
  void heap_remove(Entry* entry);
  void heap_sift_up(std::size_t index);
  void heap_sift_down(std::size_t index);
  void heap_swap(std::size_t a, std::size_t b);

  std::size_t budget_;
  std::size_t entry_bytes_ = 0;  // the entries, as malloc holds them
  EntryTable table_;
  Entry* newest_ = nullptr;
  Entry* oldest_ = nullptr;
  // Min-heap on expiry: heap_[0] expires first. The time sits in the slot, so sifting
  // compares without touching the entries (each would be a cache miss in a large cache).
  struct HeapSlot {
    TimePoint expires_at;
    Entry* entry;
  };
  std::vector<HeapSlot> heap_;
  // Retry times after a failed refresh: a few entries at a time, so here rather than 8 bytes
  // in every entry. An entry's flag says whether it has one.
  std::unordered_map<const Entry*, TimePoint> retry_at_;
  ShardStats stats_;
};

}  // namespace dp::cache
