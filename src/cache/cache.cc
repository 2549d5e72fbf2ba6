#include "cache/cache.h"

#include <bit>

#include "common/check.h"
#include "dns/reply.h"

namespace dp::cache {
namespace {

constexpr std::size_t kMaxShards = 64;             // more buys nothing on 2-64 workers
constexpr std::size_t kMinShardBytes = 256 << 10;  // a small budget is not cut into crumbs

std::uint32_t whole_seconds(Clock::duration d) {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

}  // namespace

Cache::Cache(const CacheOptions& options) : options_(options) {
  const std::size_t wanted = std::max<std::size_t>(1, options.max_bytes / kMinShardBytes);
  const std::size_t count = std::min(kMaxShards, std::bit_floor(wanted));
  for (std::size_t i = 0; i < count; ++i) {
    shards_.push_back(std::make_unique<Shard>(options.max_bytes / count));
  }
  // The shard comes from the hash's top bits; the map's bucket from its low bits.
  shard_shift_ = static_cast<unsigned>(64 - std::countr_zero(count));
}

Shard& Cache::shard_for(const KeyRef& key) const {
  if (shards_.size() == 1) return *shards_[0];
  return *shards_[static_cast<std::uint64_t>(key.hash) >> shard_shift_];
}

bool Cache::stale_servable(const Entry& entry, TimePoint now) const {
  return options_.serve_stale && entry.servable_stale &&
         now < entry.expires_at() + options_.max_stale;
}

Lookup Cache::lookup(std::string_view key_bytes, TimePoint now, const dns::Query& query,
                     std::size_t max_size, bool build_stale, std::vector<std::uint8_t>& out) {
  const KeyRef key = KeyRef::of(key_bytes);
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  Entry* entry = shard.find(key);
  if (entry == nullptr) return {};

  Lookup result;
  if (now < entry->expires_at()) {
    Shard::touch(entry);
    dns::reply_build(entry->view(), query,
                     dns::ReplyShape{.age_seconds = whole_seconds(now - entry->stored_at()),
                                     .max_size = max_size},
                     out);
    result.state = Freshness::kFresh;
    result.built = true;
    using std::chrono::milliseconds;
    const auto left = std::chrono::duration_cast<milliseconds>(entry->expires_at() - now);
    const auto lifetime =
        std::chrono::duration_cast<milliseconds>(entry->expires_at() - entry->stored_at());
    result.prefetch_due = left.count() * 100 <= lifetime.count() * options_.prefetch_percent;
    return result;
  }
  if (!stale_servable(*entry, now)) {
    shard.remove_too_old(entry);
    return {};
  }
  Shard::touch(entry);
  result.state = Freshness::kStale;
  result.refresh_failing = shard.refresh_failing(entry, now);
  if (build_stale || result.refresh_failing) {
    dns::reply_build(entry->view(), query, dns::ReplyShape{.stale = true, .max_size = max_size},
                     out);
    result.built = true;
  }
  return result;
}

bool Cache::insert(std::string_view key_bytes, const dns::StoredAnswer& answer, TimePoint now) {
  if (answer.cache_ttl == 0) return false;
  Entry* entry = Entry::create(key_bytes, answer, now);
  // answer_check has matched the question to the query the key was made from.
  if (DP_BUG(entry == nullptr)) return false;
  const KeyRef key = KeyRef::of(key_bytes);
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  return shard.insert(key, entry, now);
}

bool Cache::refresh_failed(std::string_view key_bytes, TimePoint now, TimePoint retry_at) {
  const KeyRef key = KeyRef::of(key_bytes);
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  Entry* entry = shard.find(key);
  if (entry == nullptr) return false;
  if (now < entry->expires_at()) return true;  // still fresh (a prefetch failed): nothing to do
  if (!stale_servable(*entry, now)) return false;
  shard.set_refresh_failing(entry, retry_at);
  return true;
}

bool QuestionMatch::matches(std::string_view question) const {
  constexpr std::size_t kTail = 4;  // QTYPE, QCLASS
  if (question.size() <= kTail) return false;
  const std::string_view name = question.substr(0, question.size() - kTail);
  if (qtype) {
    const auto at = question.size() - kTail;
    const auto type = static_cast<std::uint16_t>(static_cast<unsigned char>(question[at]) << 8 |
                                                 static_cast<unsigned char>(question[at + 1]));
    if (type != *qtype) return false;
  }
  if (!subtree) return name == qname;
  // Under qname: the same labels from some label boundary on (wire form, both lowercased).
  if (name.size() < qname.size()) return false;
  for (std::size_t pos = 0; pos < name.size();) {
    const std::size_t left = name.size() - pos;
    if (left == qname.size()) return name.substr(pos) == qname;
    if (left < qname.size()) return false;
    pos += 1 + static_cast<unsigned char>(name[pos]);
  }
  return false;
}

std::size_t Cache::remove(const QuestionMatch& match, std::size_t slice_slots) {
  const auto pred = [&match](const Entry& entry) { return match.matches(entry.question()); };
  std::size_t removed = 0;
  for (const auto& shard : shards_) {
    std::size_t slot = 0;
    std::uint64_t layout = 0;
    int rescans = 0;
    bool whole = false;
    for (;;) {
      std::lock_guard lock(shard->mutex);
      if (slot > 0 && shard->layout() != layout) {
        slot = 0;  // an entry may have moved behind the cursor
        whole = ++rescans > kMaxRescans;
      }
      const std::size_t count = shard->slot_count();
      const std::size_t end = whole ? count : std::min(count, slot + slice_slots);
      removed += shard->remove_in(slot, end, pred);
      slot = end;
      layout = shard->layout();  // after its own erases, which moved what it looked at again
      if (slot >= count) break;
    }
  }
  return removed;
}

std::size_t Cache::remove_all() {
  std::size_t removed = 0;
  for (const auto& shard : shards_) {
    EntryTable taken;
    {
      std::lock_guard lock(shard->mutex);
      taken = shard->take_all();
    }
    removed += Shard::destroy_all(taken);  // the frees, without the lock
  }
  return removed;
}

EntryInfo Cache::entry_info(const Entry& entry, TimePoint now) const {
  EntryInfo info;
  info.question = entry.question();
  info.key_flags = entry.key_flags();
  info.route_tag = entry.route_tag();
  info.ttl_left_seconds =
      std::chrono::floor<std::chrono::seconds>(entry.expires_at() - now).count();
  info.stale_servable = now >= entry.expires_at() && stale_servable(entry, now);
  const dns::AnswerView view = entry.view();
  info.rcode = view.wire.size() > 3 ? (view.wire[3] & 0x0f) : 0;
  info.bytes = entry.footprint();
  return info;
}

ShardStats Cache::stats() const {
  ShardStats total;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->stats();
  }
  return total;
}

}  // namespace dp::cache
