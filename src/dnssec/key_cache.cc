#include "dnssec/key_cache.h"

#include <iterator>

namespace dp::dnssec {

const ZoneEntry* KeyCache::find(std::string_view name, std::uint32_t now) {
  const auto it = entries_.find(std::string(name));
  if (it == entries_.end()) {
    ++misses_;
    return nullptr;
  }
  // RFC 1982 serial arithmetic is not needed: both are Unix seconds of this century.
  if (it->second.entry.expires <= now) {
    erase(it);
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return &it->second.entry;
}

void KeyCache::insert(std::string_view name, ZoneEntry entry) {
  const std::string key(name);
  if (const auto old = entries_.find(key); old != entries_.end()) erase(old);
  const std::size_t bytes = footprint(name, entry);
  while (!oldest_first_.empty() && bytes_ + bytes > max_bytes_) {
    erase(entries_.find(oldest_first_.front()));
  }
  oldest_first_.push_back(key);
  Slot slot{std::move(entry), bytes, std::prev(oldest_first_.end())};
  entries_.emplace(key, std::move(slot));
  bytes_ += bytes;
}

void KeyCache::clear() {
  entries_.clear();
  oldest_first_.clear();
  bytes_ = 0;
}

std::size_t KeyCache::forget(std::string_view name, bool subtree) {
  if (!subtree) {
    const auto it = entries_.find(std::string(name));
    if (it == entries_.end()) return 0;
    erase(it);
    return 1;
  }
  std::size_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto next = std::next(it);
    if (name_is_under(it->first, name)) {
      erase(it);
      ++removed;
    }
    it = next;
  }
  return removed;
}

std::size_t KeyCache::footprint(std::string_view name, const ZoneEntry& entry) {
  // What the maps and vectors hold, roughly: enough to bound memory, not to account it.
  std::size_t bytes = 2 * name.size() + sizeof(Slot) + 64 + entry.verdict.reason.size();
  if (entry.keys) {
    for (const Dnskey& key : *entry.keys) bytes += sizeof(Dnskey) + key.rdata.size();
  }
  for (const Ds& ds : entry.ds) bytes += sizeof(Ds) + ds.digest.size();
  return bytes;
}

void KeyCache::erase(std::unordered_map<std::string, Slot>::iterator it) {
  if (it == entries_.end()) return;
  bytes_ -= it->second.bytes;
  oldest_first_.erase(it->second.age);
  entries_.erase(it);
}

}  // namespace dp::dnssec
