#include "cache/shard.h"

#include <utility>

namespace dp::cache {

Shard::Shard(std::size_t budget_bytes) : budget_(budget_bytes) {}

Shard::~Shard() {
  table_.for_each([](Entry* entry) { Entry::destroy(entry); });
}

Entry* Shard::find(const KeyRef& key) const { return table_.find(key.bytes, key.hash); }

void Shard::touch(Entry* entry, TimePoint now) {
  // Mod 2^16: a wrapped match once in 18 hours of an entry's life skips one relink.
  const auto second = static_cast<std::uint16_t>(
      std::chrono::duration_cast<std::chrono::seconds>(now - entry->stored_at).count());
  if (entry == newest_ || second == entry->touched_second) return;
  entry->touched_second = second;
  lru_unlink(entry);
  lru_push_newest(entry);
}

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
  lru_push_newest(entry);
  heap_push(entry);
  ++stats_.inserts;
  while (held_bytes() > budget_ && !table_.empty()) evict_one(now);
  return find(key) == entry;
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

ShardStats Shard::stats() const {
  ShardStats out = stats_;
  out.entries = table_.size();
  out.bytes = held_bytes();
  return out;
}

std::size_t Shard::held_bytes() const {
  // A retry record is a hash-map node (next pointer, key, time, cached hash) and its bucket.
  constexpr std::size_t kRetryRecord = malloc_footprint(4 * sizeof(void*)) + sizeof(void*);
  return entry_bytes_ + table_.held_bytes() + heap_.capacity() * sizeof(HeapSlot) +
         retry_at_.size() * kRetryRecord;
}

void Shard::erase(Entry* entry) {
  if (entry->refresh_failing) retry_at_.erase(entry);
  table_.erase(entry);
  lru_unlink(entry);
  heap_remove(entry);
  entry_bytes_ -= entry->footprint();
  Entry::destroy(entry);
}

void Shard::evict_one(TimePoint now) {
  // Expired entries first (the stale ones are the least worth keeping), then the LRU one.
  if (!heap_.empty() && heap_.front().expires_at <= now) {
    ++stats_.evicted_expired;
    erase(heap_.front().entry);
    return;
  }
  ++stats_.evicted_lru;
  erase(oldest_);
}

void Shard::lru_unlink(Entry* entry) {
  // No newer neighbour: it was the newest; no older one: it was the oldest.
  (entry->lru_newer != nullptr ? entry->lru_newer->lru_older : newest_) = entry->lru_older;
  (entry->lru_older != nullptr ? entry->lru_older->lru_newer : oldest_) = entry->lru_newer;
  entry->lru_newer = entry->lru_older = nullptr;
}

void Shard::lru_push_newest(Entry* entry) {
  entry->lru_older = newest_;
  entry->lru_newer = nullptr;
  (newest_ != nullptr ? newest_->lru_newer : oldest_) = entry;
  newest_ = entry;
}

void Shard::heap_push(Entry* entry) {
  entry->heap_index = static_cast<std::uint32_t>(heap_.size());
  heap_.push_back(HeapSlot{entry->expires_at(), entry});
  heap_sift_up(entry->heap_index);
}

void Shard::heap_remove(Entry* entry) {
  const std::size_t index = entry->heap_index;
  const std::size_t last = heap_.size() - 1;
  if (index != last) {
    heap_swap(index, last);
    heap_.pop_back();
    heap_sift_up(index);
    heap_sift_down(index);
  } else {
    heap_.pop_back();
  }
}

void Shard::heap_sift_up(std::size_t index) {
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (heap_[parent].expires_at <= heap_[index].expires_at) return;
    heap_swap(parent, index);
    index = parent;
  }
}

void Shard::heap_sift_down(std::size_t index) {
  for (;;) {
    std::size_t smallest = index;
    for (const std::size_t child : {2 * index + 1, 2 * index + 2}) {
      if (child < heap_.size() && heap_[child].expires_at < heap_[smallest].expires_at) {
        smallest = child;
      }
    }
    if (smallest == index) return;
    heap_swap(index, smallest);
    index = smallest;
  }
}

void Shard::heap_swap(std::size_t a, std::size_t b) {
  std::swap(heap_[a], heap_[b]);
  heap_[a].entry->heap_index = static_cast<std::uint32_t>(a);
  heap_[b].entry->heap_index = static_cast<std::uint32_t>(b);
}

}  // namespace dp::cache
