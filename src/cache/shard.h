// One shard of the cache: an index of entries held within a byte budget. Eviction is CLOCK
// (second chance), an approximation of least recently used that needs no list: a hand goes
// round the index and evicts the first entry not used since it last passed (or, past 64 used
// ones in a row, the one it is at). TTL-aware: an expired entry it meets goes at once, with no
// second chance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "cache/entry.h"
#include "cache/entry_table.h"
#include "common/clock.h"
#include "metrics/counters.h"

namespace dp::cache {

// A key with its hash computed once: it picks the shard and the bucket.
struct KeyRef {
  std::string_view bytes;
  std::size_t hash = 0;

  static KeyRef of(std::string_view bytes) { return {bytes, std::hash<std::string_view>{}(bytes)}; }
};

// clang-format off
#define DP_CACHE_STATS_COUNTS(X) \
  X(metrics::Count, inserts, "dotproxy_cache_inserts_total", "", "Answers stored.") \
  /* An insert over an entry of the same key (no sample of its own). */ \
  X(metrics::Count, replaced, "", "", "") \
  /* Made room: an expired entry. */ \
  X(metrics::Count, evicted_expired, "dotproxy_cache_evictions_total", "reason=expired", \
    "Entries removed: expired or lru to make room, too_old past the stale window.") \
  /* Made room: a fresh entry not used for a lap of the hand. */ \
  X(metrics::Count, evicted_lru, "dotproxy_cache_evictions_total", "reason=lru", "") \
  /* Expired beyond the stale window, found by a lookup. */ \
  X(metrics::Count, removed_too_old, "dotproxy_cache_evictions_total", "reason=too_old", "") \
  /* Removed by the control channel's flush, flush-zone or flush-all. */ \
  X(metrics::Count, flushed, "dotproxy_cache_evictions_total", "reason=flushed", "") \
  /* One answer larger than the whole shard. */ \
  X(metrics::Count, rejected_too_big, "dotproxy_cache_rejected_total", "", \
    "Answers larger than a cache shard.") \
  X(metrics::Count, entries, "dotproxy_cache_entries", "", "Entries held.") \
  /* Held: entries, the index's array, retry records. */ \
  X(metrics::Count, bytes, "dotproxy_cache_bytes", "", "Bytes held: entries and their index.")
// clang-format on

struct ShardStats {
  DP_CACHE_STATS_COUNTS(DP_METRICS_DECLARE)

  ShardStats& operator+=(const ShardStats& other) {
    DP_CACHE_STATS_COUNTS(DP_METRICS_ADD)
    return *this;
  }
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
  // Used now: the clock hand spares it once more. Writes only when the mark is not yet set,
  // so a hot entry's cache line stays clean.
  static void touch(Entry* entry) {
    if (!entry->recently_used) entry->recently_used = true;
  }
  // Takes ownership of `entry`, replacing an entry of the same key, and evicts until the
  // budget holds again. False if `entry` is not held after: larger than the whole budget (it
  // is destroyed at once), or evicted itself in making room (it fits only without the index).
  bool insert(const KeyRef& key, Entry* entry, TimePoint now);
  void remove_too_old(Entry* entry);  // a lookup found it past the stale window
  // A refresh of `entry` failed: it is served stale at once until `until` (RFC 8767 §4).
  void set_refresh_failing(Entry* entry, TimePoint until);
  bool refresh_failing(const Entry* entry, TimePoint now) const;

  // The control channel's (never the hot path). Slots [from, to) of the index (to at most
  // slot_count()): erases each entry for which pred(const Entry&) is true; returns how many.
  template <class Pred>
  std::size_t remove_in(std::size_t from, std::size_t to, Pred&& pred) {
    std::size_t removed = 0;
    for (std::size_t i = from; i < to;) {
      Entry* entry = table_.slot_entry(i);
      if (entry == nullptr || !pred(static_cast<const Entry&>(*entry))) {
        ++i;
        continue;
      }
      erase(entry);  // a later entry of the run may move into slot i: look at it again
      ++stats_.flushed;
      ++removed;
    }
    return removed;
  }
  // Every entry, out of the shard in O(1): the caller destroys them with destroy_all() once it
  // has let go of the lock.
  EntryTable take_all();
  static std::size_t destroy_all(EntryTable& taken);  // returns how many
  std::size_t slot_count() const { return table_.slot_count(); }
  const Entry* slot_entry(std::size_t i) const { return table_.slot_entry(i); }
  std::uint64_t layout() const { return table_.layout(); }

  ShardStats stats() const;
  std::size_t held_bytes() const;
  std::size_t budget_bytes() const { return budget_; }

 private:
  void erase(Entry* entry);  // unlinks and destroys
  // Evicts one entry: true if it was `watched`.
  bool evict_one(TimePoint now, const Entry* watched);

  std::size_t budget_;
  std::size_t entry_bytes_ = 0;  // the entries, as malloc holds them
  EntryTable table_;             // also the clock's ring
  // Retry times after a failed refresh: a few entries at a time, so here rather than 8 bytes
  // in every entry. An entry's flag says whether it has one.
  std::unordered_map<const Entry*, TimePoint> retry_at_;
  ShardStats stats_;
};

}  // namespace dp::cache
