#include "cache/entry.h"

#include <cstring>
#include <limits>
#include <new>

namespace dp::cache {
namespace {

constexpr std::size_t kU16Max = std::numeric_limits<std::uint16_t>::max();

}  // namespace

Entry* Entry::create(std::string_view key, const dns::StoredAnswer& answer, TimePoint now) {
  if (key.size() > kU16Max || answer.wire.size() > kU16Max || answer.ttl_offsets.size() > kU16Max ||
      answer.ede_options.size() > kU16Max) {
    return nullptr;
  }
  const std::size_t offsets_bytes = answer.ttl_offsets.size() * sizeof(std::uint16_t);
  const std::size_t size =
      sizeof(Entry) + offsets_bytes + key.size() + answer.wire.size() + answer.ede_options.size();
  // The offsets come first, right after the header, so they are 2-byte aligned.
  void* memory = ::operator new(size);
  auto* entry = new (memory) Entry();
  entry->allocated_ = static_cast<std::uint32_t>(size);
  entry->ttl_count_ = static_cast<std::uint16_t>(answer.ttl_offsets.size());
  entry->key_size_ = static_cast<std::uint16_t>(key.size());
  entry->wire_size_ = static_cast<std::uint16_t>(answer.wire.size());
  entry->ede_size_ = static_cast<std::uint16_t>(answer.ede_options.size());
  entry->extended_rcode_ = answer.extended_rcode;
  std::uint8_t* out = entry->data();
  // memcpy from an empty vector's null data() is undefined even for 0 bytes: copy only bytes.
  const auto append = [&out](const void* from, std::size_t bytes) {
    if (bytes == 0) return;
    std::memcpy(out, from, bytes);
    out += bytes;
  };
  append(answer.ttl_offsets.data(), offsets_bytes);
  append(key.data(), key.size());
  append(answer.wire.data(), answer.wire.size());
  append(answer.ede_options.data(), answer.ede_options.size());

  entry->stored_at = now;
  entry->ttl_seconds = answer.cache_ttl;
  entry->servable_stale = answer.kind != dns::AnswerKind::kFailure;
  entry->expires_at = now + std::chrono::seconds(answer.cache_ttl);
  return entry;
}

void Entry::destroy(Entry* entry) noexcept {
  if (entry == nullptr) return;
  entry->~Entry();
  ::operator delete(entry);
}

std::string_view Entry::key() const {
  const auto* at = data() + ttl_count_ * sizeof(std::uint16_t);
  return {reinterpret_cast<const char*>(at), key_size_};
}

dns::AnswerView Entry::view() const {
  const std::uint8_t* at = data();
  dns::AnswerView view;
  view.ttl_offsets = {reinterpret_cast<const std::uint16_t*>(at), ttl_count_};
  at += ttl_count_ * sizeof(std::uint16_t) + key_size_;
  view.wire = {at, wire_size_};
  at += wire_size_;
  view.ede_options = {at, ede_size_};
  view.extended_rcode = extended_rcode_;
  return view;
}

}  // namespace dp::cache
