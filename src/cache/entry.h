// One cached answer in one allocation: this header, then its TTL offsets, key, wire bytes and
// EDE options. A hit reads it in place; nothing is parsed again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/clock.h"
#include "dns/stored_answer.h"

namespace dp::cache {

// Bytes glibc's malloc takes for a request of `n`: an 8-byte header, 16-byte granules, at
// least 32. The budget counts what is held, not what was asked for.
constexpr std::size_t malloc_footprint(std::size_t n) {
  const std::size_t chunk = (n + 8 + 15) & ~std::size_t{15};
  return chunk < 32 ? 32 : chunk;
}

// Owned by one cache shard and touched only under its lock.
class Entry {
 public:
  // Null when the answer is too large to describe (never for a DNS message).
  static Entry* create(std::string_view key, const dns::StoredAnswer& answer, TimePoint now);
  static void destroy(Entry* entry) noexcept;
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

  std::string_view key() const;
  dns::AnswerView view() const;
  std::size_t footprint() const { return malloc_footprint(allocated_); }

  TimePoint stored_at{};
  TimePoint expires_at{};             // fresh before it
  TimePoint refresh_failing_until{};  // a refresh failed: serve it stale at once until then
  std::uint32_t ttl_seconds = 0;
  // RFC 8767 is about data: an expired failure is never served stale, only dropped.
  bool servable_stale = true;

  // Links of the shard's LRU list and its place in the shard's expiry heap.
  Entry* lru_newer = nullptr;
  Entry* lru_older = nullptr;
  std::size_t heap_index = 0;
  std::uint32_t touched_second = 0;  // second of its life it was last moved to the LRU front

 private:
  Entry() = default;
  const std::uint8_t* data() const { return reinterpret_cast<const std::uint8_t*>(this + 1); }
  std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(this + 1); }

  std::uint32_t allocated_ = 0;
  std::uint16_t ttl_count_ = 0;
  std::uint16_t key_size_ = 0;
  std::uint16_t wire_size_ = 0;
  std::uint16_t ede_size_ = 0;
  std::uint8_t extended_rcode_ = 0;
};

}  // namespace dp::cache
