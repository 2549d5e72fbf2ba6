// A StreamTransform without cryptography, for the client connection's filter tests and the TCP
// fuzz target: a fixed hello, then every byte masked each way, so the DNS framing sees the
// right bytes only when the filter hands it the transform's plaintext.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "io/stream_transform.h"

namespace dp::testing {

// What the test tells the transform and what it hears back. Owned by the test; outlives the
// transform (which its TcpClientConnection owns and frees).
struct FakeTransformControl {
  bool bad_record = false;  // the next read() fails, as a record that does not decrypt would
  bool write_fails = false;
  int abandoned_timed_out = 0;  // abandoned(true): the handshake deadline passed
  int abandoned_left = 0;       // abandoned(false): the client left mid-handshake
  bool eof = false;
};

// The client opens with kHello; the transform answers kWelcome and the handshake is done.
// Anything else in place of the hello fails it, and kAlert goes out. Used on one thread.
class FakeStreamTransform final : public io::StreamTransform {
 public:
  static constexpr std::string_view kHello = "HELLO";
  static constexpr std::string_view kWelcome = "WELCOME";
  static constexpr std::string_view kAlert = "ALERT";
  static constexpr std::uint8_t kMask = 0x5a;

  explicit FakeStreamTransform(FakeTransformControl& control) : control_(control) {}

  // Masks or unmasks (the same operation) bytes for the client's side of the test.
  static std::vector<std::uint8_t> mask(std::span<const std::uint8_t> bytes) {
    std::vector<std::uint8_t> out(bytes.begin(), bytes.end());
    for (auto& b : out) b ^= kMask;
    return out;
  }

  void feed(std::span<const std::uint8_t> wire) override {
    input_.insert(input_.end(), wire.begin(), wire.end());
  }
  void feed_eof() override { control_.eof = true; }

  Handshake handshake() override {
    if (failed_) return Handshake::kFailed;
    const std::size_t n = std::min(input_.size(), kHello.size());
    if (!std::equal(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(n),
                    kHello.begin())) {
      failed_ = true;
      output_.insert(output_.end(), kAlert.begin(), kAlert.end());
      return Handshake::kFailed;
    }
    if (n < kHello.size()) return Handshake::kNeedMore;
    input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(n));
    output_.insert(output_.end(), kWelcome.begin(), kWelcome.end());
    return Handshake::kDone;
  }

  std::optional<std::size_t> read(std::span<std::uint8_t> buf) override {
    if (control_.bad_record) return std::nullopt;
    const std::size_t n = std::min(buf.size(), input_.size());
    for (std::size_t i = 0; i < n; ++i) buf[i] = input_[i] ^ kMask;
    input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }

  bool write(std::span<const std::uint8_t> plaintext) override {
    if (control_.write_fails) return false;
    for (const std::uint8_t b : plaintext) output_.push_back(b ^ kMask);
    return true;
  }

  std::vector<std::uint8_t>& output() override { return output_; }

  void abandoned(bool timed_out) override {
    ++(timed_out ? control_.abandoned_timed_out : control_.abandoned_left);
  }

 private:
  FakeTransformControl& control_;
  std::vector<std::uint8_t> input_;
  std::vector<std::uint8_t> output_;
  bool failed_ = false;
};

}  // namespace dp::testing
