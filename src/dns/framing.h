// DNS over a stream: 2-byte big-endian length prefix (RFC 1035 §4.2.2, RFC 7766 §8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace dp::dns {

// Appends `message` to `out` with its length prefix. message.size() must be <= 65535.
void frame_append(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> message);

// Collects stream bytes and hands out whole messages. Holds at most one partial message.
class FrameAssembler {
 public:
  void feed(std::span<const std::uint8_t> bytes);
  // The next whole message, valid until the next call to feed() or next(); nullopt if none.
  // A zero length prefix yields an empty message (the caller decides what that means).
  std::optional<std::span<const std::uint8_t>> next();
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace dp::dns
