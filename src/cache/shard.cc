#include "cache/shard.h"

namespace dp::cache {

Shard::Shard(std::size_t budget_bytes) : budget_(budget_bytes) {}

Shard::~Shard() {
  table_.for_each([](Entry* entry) { Entry::destroy(entry); });
}

Entry* Shard::find(const KeyRef& key) const { return table_.find(key.bytes, key.hash); }

bool Shard::insert(const KeyRef& key, Entry* entry, TimePoint now) {
  const std::size_t cost = entry->footprint();
  if (cost > budget_) {
    ++stats_.rejected_too_big;
    Entry::destroy(entry);
    return false;
  }
  if (Entry* old = find(key)) {
    ++stats_.replaced;
    erase(old);
  }
  if (!table_.insert(entry, key.hash)) {
    ++stats_.rejected_too_big;  // an address beyond 48 bits: not seen on Linux without asking
    Entry::destroy(entry);
    return false;
  }
  entry_bytes_ += cost;
  ++stats_.inserts;
  bool kept = true;  // marked used, it is spared by the first lap, not always by a second
  while (held_bytes() > budget_ && !table_.empty()) {
    if (evict_one(now, kept ? entry : nullptr)) kept = false;
  }
  return kept;
}

void Shard::remove_too_old(Entry* entry) {
  ++stats_.removed_too_old;
  erase(entry);
}

void Shard::set_refresh_failing(Entry* entry, TimePoint until) {
  retry_at_[entry] = until;
  entry->refresh_failing = true;
}

bool Shard::refresh_failing(const Entry* entry, TimePoint now) const {
  if (!entry->refresh_failing) return false;
  const auto it = retry_at_.find(entry);
  return it != retry_at_.end() && now < it->second;
}

EntryTable Shard::take_all() {
  stats_.flushed += table_.size();
  retry_at_.clear();
  entry_bytes_ = 0;
  return table_.take_all();
}

std::size_t Shard::destroy_all(EntryTable& taken) {
  const std::size_t count = taken.size();
  taken.for_each([](Entry* entry) { Entry::destroy(entry); });
  taken = EntryTable();
  return count;
}

ShardStats Shard::stats() const {
  ShardStats out = stats_;
  out.entries = table_.size();
  out.bytes = held_bytes();
  return out;
}

std::size_t Shard::held_bytes() const {
  // A retry record is a hash-map node (next pointer, key, time, cached hash) and its bucket.
  constexpr std::size_t kRetryRecord = malloc_footprint(4 * sizeof(void*)) + sizeof(void*);
  return entry_bytes_ + table_.held_bytes() + retry_at_.size() * kRetryRecord;
}

void Shard::erase(Entry* entry) {
  if (entry->refresh_failing) retry_at_.erase(entry);
  table_.erase(entry);
  entry_bytes_ -= entry->footprint();
  Entry::destroy(entry);
}

bool Shard::evict_one(TimePoint now, const Entry* watched) {
  // Each step past an entry clears a mark that a use or an insert set, so on average a step
  // per use; but when every entry is marked (a cache just filled, or all of it hot) a lap
  // would read every entry under the lock. After kMaxSpared the hand takes the one it is at.
  constexpr int kMaxSpared = 64;  // about 64 cache misses, some 10 µs: the worst one insert pays
  for (int spared = 0;; ++spared) {
    Entry* entry = table_.hand_entry();
    const bool expired = now >= entry->expires_at();  // no second chance
    if (expired || !entry->recently_used || spared == kMaxSpared) {
      ++(expired ? stats_.evicted_expired : stats_.evicted_lru);
      const bool was_watched = entry == watched;
      erase(entry);  // a later entry of its run may move in under the hand
      return was_watched;
    }
    entry->recently_used = false;
    table_.hand_advance();
  }
}

}  // namespace dp::cache
