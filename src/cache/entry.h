// One cached answer in one allocation: this header, then its TTL offsets, wire bytes and EDE
// options. A hit reads it in place; nothing is parsed again. The key is not stored apart: it
// is the flags byte and route tag here plus the answer's question, kept lowercased in the wire
// bytes.
// Per-entry bytes are what a large cache is made of (RSS after 1M names, bench/RESULTS.md),
// so the header is packed to 28 bytes: expiry derived from the store time, no list links
// (eviction is a clock sweep over the shard's index, shard.h), and the rare retry time after a
// failed refresh kept by the shard instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
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
  // `key` as cache_key_build writes it. Null when the answer's question, lowercased, is not
  // the key's (an entry must answer exactly what it is found by), or when the answer is too
  // large to describe (never for a DNS message).
  static Entry* create(std::string_view key, const dns::StoredAnswer& answer, TimePoint now);
  static void destroy(Entry* entry) noexcept;
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

  bool has_key(std::string_view key) const;
  dns::AnswerView view() const;
  // The key's parts, for the control channel's flush and dump (never the hot path).
  std::string_view question() const;  // lowercased qname (wire form), QTYPE, QCLASS
  std::uint8_t key_flags() const { return key_flags_; }  // cache_key.h: DO 0x01, CD 0x02
  std::uint16_t route_tag() const { return route_tag_; }
  std::size_t footprint() const { return malloc_footprint(allocated_size()); }

  TimePoint stored_at() const {
    Clock::rep ticks;
    std::memcpy(&ticks, stored_at_, sizeof ticks);
    return TimePoint(Clock::duration(ticks));
  }
  TimePoint expires_at() const { return stored_at() + std::chrono::seconds(ttl_seconds); }

  std::uint32_t ttl_seconds = 0;  // fresh before stored_at() + this
  std::uint32_t table_hash = 0;   // low bits of its key's hash: its home in the shard's index

 private:
  Entry() = default;
  std::size_t allocated_size() const;
  std::size_t offsets_bytes() const { return ttl_count_ * sizeof(std::uint16_t); }
  const std::uint8_t* data() const { return reinterpret_cast<const std::uint8_t*>(this + 1); }
  std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(this + 1); }
  void set_stored_at(TimePoint at) {
    const Clock::rep ticks = at.time_since_epoch().count();
    std::memcpy(stored_at_, &ticks, sizeof ticks);
  }

  // The store time as bytes: an 8-byte member would align the header to 8 and pad it to 32.
  unsigned char stored_at_[sizeof(Clock::rep)] = {};
  std::uint16_t ttl_count_ = 0;
  std::uint16_t wire_size_ = 0;
  std::uint16_t ede_size_ = 0;
  std::uint16_t route_tag_ = 0;  // fills what was the header's padding: still 28 bytes
  std::uint8_t qname_size_ = 0;
  std::uint8_t key_flags_ = 0;
  std::uint8_t extended_rcode_ = 0;

 public:  // last, so that they pack into the header's final byte
  // RFC 8767 is about data: an expired failure is never served stale, only dropped.
  bool servable_stale : 1 = true;
  bool refresh_failing : 1 = false;  // the shard holds a retry time for it (Shard::retry_at)
  // Used since the shard's clock hand last passed it (or stored since): spared once more.
  bool recently_used : 1 = true;
};

}  // namespace dp::cache
