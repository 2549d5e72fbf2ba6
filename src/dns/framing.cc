#include "dns/framing.h"

#include "common/check.h"

namespace dp::dns {

void frame_append(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> message) {
  if (DP_BUG(message.size() > 0xffff)) return;  // callers cap replies at kMaxMessageSize
  out.push_back(static_cast<std::uint8_t>(message.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(message.size() & 0xff));
  out.insert(out.end(), message.begin(), message.end());
}

void FrameAssembler::feed(std::span<const std::uint8_t> bytes) {
  // Compact only once the consumed prefix outweighs what is left, so each byte moves at most
  // about once: O(n) over the stream instead of an erase per message.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<std::span<const std::uint8_t>> FrameAssembler::next() {
  if (buffered() < 2) return std::nullopt;
  const std::size_t length =
      (static_cast<std::size_t>(buffer_[consumed_]) << 8) | buffer_[consumed_ + 1];
  if (buffered() < 2 + length) return std::nullopt;
  const std::span<const std::uint8_t> message(buffer_.data() + consumed_ + 2, length);
  consumed_ += 2 + length;
  return message;
}

}  // namespace dp::dns
