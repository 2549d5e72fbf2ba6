#include "dns/framing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace dp::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes as_bytes(std::span<const std::uint8_t> span) { return Bytes(span.begin(), span.end()); }

TEST(DnsFramingTest, AppendWritesBigEndianLength) {
  Bytes out = {9};
  frame_append(out, Bytes{1, 2, 3});
  frame_append(out, Bytes(300, 7));
  ASSERT_EQ(out.size(), 1 + 5 + 302u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 6), (Bytes{9, 0, 3, 1, 2, 3}));
  EXPECT_EQ(out[6], 1);  // 300 = 0x012c
  EXPECT_EQ(out[7], 0x2c);
}

TEST(DnsFramingTest, AssemblesMessageFedByteByByte) {
  Bytes stream;
  frame_append(stream, Bytes{0xde, 0xad, 0xbe});
  FrameAssembler assembler;
  for (std::size_t i = 0; i + 1 < stream.size(); ++i) {
    assembler.feed(std::span(&stream[i], 1));
    EXPECT_FALSE(assembler.next().has_value()) << "after byte " << i;
  }
  assembler.feed(std::span(&stream.back(), 1));
  const auto message = assembler.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(as_bytes(*message), (Bytes{0xde, 0xad, 0xbe}));
  EXPECT_FALSE(assembler.next().has_value());
  EXPECT_EQ(assembler.buffered(), 0u);
}

TEST(DnsFramingTest, SplitsSeveralMessagesFromOneFeed) {
  Bytes stream;
  frame_append(stream, Bytes{1});
  frame_append(stream, Bytes{});
  frame_append(stream, Bytes{2, 3});
  stream.push_back(0);  // first byte of a fourth prefix
  FrameAssembler assembler;
  assembler.feed(stream);
  auto message = assembler.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(as_bytes(*message), Bytes{1});
  message = assembler.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_TRUE(message->empty());  // zero length prefix: an empty message
  message = assembler.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(as_bytes(*message), (Bytes{2, 3}));
  EXPECT_FALSE(assembler.next().has_value());
  EXPECT_EQ(assembler.buffered(), 1u);
}

// Random chunking across compactions must hand back every message intact and in order.
TEST(DnsFramingTest, ReassemblesRandomlyChunkedStream) {
  std::mt19937 rng(42);
  std::vector<Bytes> sent;
  Bytes stream;
  for (int i = 0; i < 3000; ++i) {
    Bytes message(rng() % 600);
    for (auto& byte : message) byte = static_cast<std::uint8_t>(rng());
    frame_append(stream, message);
    sent.push_back(std::move(message));
  }
  FrameAssembler assembler;
  std::vector<Bytes> received;
  for (std::size_t pos = 0; pos < stream.size();) {
    const std::size_t chunk = std::min<std::size_t>(1 + rng() % 1500, stream.size() - pos);
    assembler.feed(std::span(stream).subspan(pos, chunk));
    pos += chunk;
    // Drain only sometimes, so whole messages pile up before compaction.
    if (rng() % 3 == 0) continue;
    while (const auto message = assembler.next()) received.push_back(as_bytes(*message));
    EXPECT_LT(assembler.buffered(), 2 + 65535u);
  }
  while (const auto message = assembler.next()) received.push_back(as_bytes(*message));
  EXPECT_EQ(received, sent);
  EXPECT_EQ(assembler.buffered(), 0u);
}

}  // namespace
}  // namespace dp::dns
