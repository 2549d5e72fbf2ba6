#include "cache/entry.h"

#include <cstring>
#include <limits>
#include <new>

#include "cache/cache_key.h"
#include "common/ascii.h"
#include "dns/message.h"

namespace dp::cache {
namespace {

constexpr std::size_t kU16Max = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t kQuestionTail = 4;  // QTYPE + QCLASS after the qname

}  // namespace

static_assert(sizeof(Entry) == 28, "the header is what 1M cached names cost first: keep it packed");

Entry* Entry::create(std::string_view key, const dns::StoredAnswer& answer, TimePoint now) {
  if (key.size() < kKeyPrefixSize + 1 + kQuestionTail) return nullptr;
  const std::string_view question = key_question(key);
  const std::size_t qname_size = question.size() - kQuestionTail;
  if (qname_size > std::numeric_limits<std::uint8_t>::max() || answer.wire.size() > kU16Max ||
      answer.ttl_offsets.size() > kU16Max || answer.ede_options.size() > kU16Max ||
      answer.wire.size() < dns::kHeaderSize + question.size()) {
    return nullptr;
  }
  // The qname ignoring case; QTYPE and QCLASS exactly: type 65 (HTTPS) is the byte 'A'.
  const auto* stored_question =
      reinterpret_cast<const char*>(answer.wire.data() + dns::kHeaderSize);
  if (!ascii_lower_equal({stored_question, qname_size}, question.substr(0, qname_size))) {
    return nullptr;
  }
  if (std::memcmp(stored_question + qname_size, question.data() + qname_size, kQuestionTail) != 0) {
    return nullptr;
  }

  const std::size_t offsets_bytes = answer.ttl_offsets.size() * sizeof(std::uint16_t);
  const std::size_t size =
      sizeof(Entry) + offsets_bytes + answer.wire.size() + answer.ede_options.size();
  // The offsets come first, right after the header, so they are 2-byte aligned.
  void* memory = ::operator new(size);
  auto* entry = new (memory) Entry();
  entry->ttl_count_ = static_cast<std::uint16_t>(answer.ttl_offsets.size());
  entry->wire_size_ = static_cast<std::uint16_t>(answer.wire.size());
  entry->ede_size_ = static_cast<std::uint16_t>(answer.ede_options.size());
  entry->qname_size_ = static_cast<std::uint8_t>(qname_size);
  entry->key_flags_ = static_cast<std::uint8_t>(key.front());
  entry->route_tag_ = key_route_tag(key);
  entry->extended_rcode_ = answer.extended_rcode;
  std::uint8_t* out = entry->data();
  // memcpy from an empty vector's null data() is undefined even for 0 bytes: copy only bytes.
  const auto append = [&out](const void* from, std::size_t bytes) {
    if (bytes == 0) return;
    std::memcpy(out, from, bytes);
    out += bytes;
  };
  append(answer.ttl_offsets.data(), offsets_bytes);
  std::uint8_t* wire = out;
  append(answer.wire.data(), answer.wire.size());
  // Every reply carries its client's own question bytes (reply_build), so the stored case
  // is never seen: store the key's.
  std::memcpy(wire + dns::kHeaderSize, question.data(), question.size());
  append(answer.ede_options.data(), answer.ede_options.size());

  entry->set_stored_at(now);
  entry->ttl_seconds = answer.cache_ttl;
  entry->servable_stale = answer.kind != dns::AnswerKind::kFailure;
  return entry;
}

void Entry::destroy(Entry* entry) noexcept {
  if (entry == nullptr) return;
  entry->~Entry();
  ::operator delete(entry);
}

std::size_t Entry::allocated_size() const {
  return sizeof(Entry) + offsets_bytes() + wire_size_ + ede_size_;
}

std::string_view Entry::question() const {
  const auto* at = data() + offsets_bytes() + dns::kHeaderSize;
  return {reinterpret_cast<const char*>(at), qname_size_ + kQuestionTail};
}

bool Entry::has_key(std::string_view key) const {
  return key.size() > kKeyPrefixSize && static_cast<std::uint8_t>(key.front()) == key_flags_ &&
         key_route_tag(key) == route_tag_ && key_question(key) == question();
}

dns::AnswerView Entry::view() const {
  const std::uint8_t* at = data();
  dns::AnswerView view;
  view.ttl_offsets = {reinterpret_cast<const std::uint16_t*>(at), ttl_count_};
  at += offsets_bytes();
  view.wire = {at, wire_size_};
  at += wire_size_;
  view.ede_options = {at, ede_size_};
  view.extended_rcode = extended_rcode_;
  return view;
}

}  // namespace dp::cache
