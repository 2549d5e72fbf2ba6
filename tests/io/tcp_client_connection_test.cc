// TcpClientConnection over a socketpair and the real EventLoop: pipelined queries answered in
// completion order, a length prefix and body in pieces, zero and longest length prefixes, the
// read deadline, the idle timeout, the in-flight limit, half-close and a client that does not
// read. Deadlines are short real timers (the class takes durations, not a clock); each wait is
// bounded and ends as soon as its condition holds.
#include "io/tcp_client_connection.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/client_peer.h"

namespace dp::io {
namespace {

using std::chrono::milliseconds;
using testing::Bytes;
using testing::ClientPeer;
using testing::frame;

std::span<const std::uint8_t> span_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(TcpClientConnection, PipelinedQueriesAreAnsweredInCompletionOrder) {
  ClientPeer peer(TcpClientLimits{});
  Bytes all = frame("q0");
  for (const char* q : {"q1", "q2"}) {
    const Bytes f = frame(q);
    all.insert(all.end(), f.begin(), f.end());
  }
  peer.send(all);  // one segment, three queries (RFC 7766 §6.2.1.1)
  peer.run([&] { return peer.handler.messages.size() == 3; });
  ASSERT_EQ(peer.handler.messages, (std::vector<std::string>{"q0", "q1", "q2"}));
  EXPECT_EQ(peer.conn->in_flight(), 3u);
  // The last query's answer is ready first: it goes first, nothing waits for q0.
  for (const std::string reply : {"a2", "a0", "a1"}) peer.conn->send(span_of(reply));
  EXPECT_EQ(peer.conn->in_flight(), 0u);
  EXPECT_EQ(peer.replies(3), (std::vector<std::string>{"a2", "a0", "a1"}));
  EXPECT_FALSE(peer.handler.closed);
}

TEST(TcpClientConnection, ALengthPrefixAndBodyInPiecesMakeOneQuery) {
  ClientPeer peer(TcpClientLimits{});
  const Bytes query = frame("abcdefgh");
  // Prefix byte by byte, then the body in two parts, with loop turns between.
  const std::vector<std::pair<std::size_t, std::size_t>> pieces = {
      {0, 1}, {1, 2}, {2, 5}, {5, query.size()}};
  for (const auto& [from, to] : pieces) {
    EXPECT_TRUE(peer.handler.messages.empty()) << "before byte " << from;
    peer.send(std::span(query).subspan(from, to - from));
    peer.turns();
  }
  peer.run([&] { return !peer.handler.messages.empty(); });
  EXPECT_EQ(peer.handler.messages, std::vector<std::string>{"abcdefgh"});
  // The stream goes on after it: a query and the first byte of the next in one segment.
  Bytes next = frame("second");
  next.push_back(0);
  peer.send(next);
  peer.run([&] { return peer.handler.messages.size() == 2; });
  EXPECT_EQ(peer.handler.messages.back(), "second");
  peer.send(Bytes{5, 't', 'h', 'i', 'r', 'd'});
  peer.run([&] { return peer.handler.messages.size() == 3; });
  EXPECT_EQ(peer.handler.messages.back(), "third");
}

TEST(TcpClientConnection, AZeroLengthPrefixClosesAfterTheAnswersOwed) {
  ClientPeer peer(TcpClientLimits{});
  Bytes stream = frame("q0");
  stream.insert(stream.end(), {0, 0});  // not a DNS message: nothing after it is read
  const Bytes after = frame("never");
  stream.insert(stream.end(), after.begin(), after.end());
  peer.send(stream);
  peer.run([&] { return !peer.handler.messages.empty(); });
  peer.turns();
  EXPECT_EQ(peer.handler.messages, std::vector<std::string>{"q0"});
  EXPECT_FALSE(peer.handler.closed);  // q0 is still owed its answer
  peer.conn->send(span_of("a0"));
  peer.run([&] { return peer.handler.closed; });  // once a0 is in the kernel's hands
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_EQ(peer.replies(1), std::vector<std::string>{"a0"});
}

TEST(TcpClientConnection, TheLongestLengthPrefixIsOneWholeQuery) {
  ClientPeer peer(TcpClientLimits{});
  const std::string big(65535, 'x');  // RFC 1035 §4.2.2: the most two bytes can say
  peer.send(frame(big));
  peer.run([&] { return !peer.handler.messages.empty(); });
  ASSERT_EQ(peer.handler.messages.size(), 1u);
  EXPECT_EQ(peer.handler.messages[0].size(), big.size());
  EXPECT_EQ(peer.handler.messages[0], big);
}

TEST(TcpClientConnection, ALengthPrefixLongerThanWhatFollowsMeetsTheReadDeadline) {
  TcpClientLimits limits;
  limits.read_timeout = milliseconds(30);
  limits.idle_timeout = milliseconds(60'000);  // only the read deadline can close it in time
  ClientPeer peer(limits);
  peer.send(Bytes{0xff, 0xff, 'a', 'b', 'c'});
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_TRUE(peer.handler.messages.empty());
}

TEST(TcpClientConnection, BytesTrickledInDoNotPushTheReadDeadlineBack) {
  TcpClientLimits limits;
  limits.read_timeout = milliseconds(50);
  limits.idle_timeout = milliseconds(60'000);
  ClientPeer peer(limits);
  const Bytes query = frame(std::string(500, 'y'));
  std::size_t sent = 0;
  Timer* self = nullptr;
  Timer trickle(peer.loop, [&] {  // a byte every 2 ms: whole after a second
    if (sent < query.size()) peer.send(std::span(query).subspan(sent++, 1));
    self->arm(milliseconds(2));
  });
  self = &trickle;
  trickle.arm(milliseconds(0));
  peer.run([&] { return peer.handler.closed; });
  trickle.cancel();
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_TRUE(peer.handler.messages.empty());
  EXPECT_LT(sent, query.size());
}

TEST(TcpClientConnection, AQuietConnectionMeetsTheIdleTimeout) {
  TcpClientLimits limits;
  limits.idle_timeout = milliseconds(30);
  ClientPeer peer(limits);
  peer.send(frame("q0"));
  peer.run([&] { return !peer.handler.messages.empty(); });
  peer.conn->send(span_of("a0"));
  EXPECT_FALSE(peer.handler.closed);
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_EQ(peer.replies(1), std::vector<std::string>{"a0"});
}

TEST(TcpClientConnection, TheIdleTimeoutWaitsForAnswersInFlight) {
  TcpClientLimits limits;
  limits.idle_timeout = milliseconds(20);
  ClientPeer peer(limits);
  peer.send(frame("slow"));
  peer.run([&] { return !peer.handler.messages.empty(); });
  // Several idle periods pass while the answer is on its way: the client is not idle.
  peer.run([] { return false; }, milliseconds(100));
  EXPECT_FALSE(peer.handler.closed);
  peer.conn->send(span_of("answer"));
  EXPECT_EQ(peer.replies(1), std::vector<std::string>{"answer"});
  // Then it is idle, and goes.
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
}

TEST(TcpClientConnection, TheInFlightLimitPausesReadingUntilAnAnswerFreesASlot) {
  TcpClientLimits limits;
  limits.max_in_flight = 2;
  ClientPeer peer(limits);
  Bytes all;
  for (const char* q : {"q0", "q1", "q2", "q3"}) {
    const Bytes f = frame(q);
    all.insert(all.end(), f.begin(), f.end());
  }
  peer.send(all);
  peer.run([&] { return peer.handler.messages.size() >= 2; });
  peer.turns();
  EXPECT_EQ(peer.handler.messages.size(), 2u);
  EXPECT_EQ(peer.conn->in_flight(), 2u);
  // The queries already buffered are read at once when a slot frees, without new bytes.
  peer.conn->finish_without_reply();  // a dropped query frees its slot too
  EXPECT_EQ(peer.handler.messages.size(), 3u);
  peer.conn->send(span_of("a0"));
  EXPECT_EQ(peer.handler.messages, (std::vector<std::string>{"q0", "q1", "q2", "q3"}));
  EXPECT_EQ(peer.conn->in_flight(), 2u);
  EXPECT_EQ(peer.replies(1), std::vector<std::string>{"a0"});
}

TEST(TcpClientConnection, AHalfCloseAfterTheLastQueryStillGetsItsAnswer) {
  ClientPeer peer(TcpClientLimits{});
  peer.send(frame("last"));
  peer.shutdown_write();  // RFC 7766 §6.2.2
  peer.run([&] { return !peer.handler.messages.empty(); });
  peer.turns();
  EXPECT_FALSE(peer.handler.closed);
  peer.conn->send(span_of("answer"));
  EXPECT_EQ(peer.replies(1), std::vector<std::string>{"answer"});
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
}

TEST(TcpClientConnection, EofWithNothingOwedCloses) {
  ClientPeer peer(TcpClientLimits{});
  peer.shutdown_write();
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
}

TEST(TcpClientConnection, AClientThatDoesNotReadIsBoundedThenClosed) {
  TcpClientLimits limits;
  limits.max_output_bytes = 8 * 1024;
  limits.idle_timeout = milliseconds(50);  // no write progress for this long: closed
  ClientPeer peer(limits, nullptr, 4096);
  const std::string big(4000, 'r');
  peer.handler.on_message = [&](TcpClientConnection& conn) { conn.send(span_of(big)); };
  constexpr int kQueries = 300;  // 1.2 MB of answers asked for, never read
  Bytes all;
  for (int i = 0; i < kQueries; ++i) {
    const Bytes f = frame("q" + std::to_string(i));
    all.insert(all.end(), f.begin(), f.end());
  }
  peer.send(all);
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  // Taken until the output passed its bound (4000-byte answers over 8 KiB: three), never more,
  // even though one read brought in all 300.
  EXPECT_EQ(peer.handler.messages.size(), 3u);
}

TEST(TcpClientConnection, CloseAfterFlushSendsWhatIsQueuedFirst) {
  ClientPeer peer(TcpClientLimits{});
  peer.send(frame("q0"));
  peer.run([&] { return !peer.handler.messages.empty(); });
  peer.conn->send(span_of("a0"));
  peer.conn->close_after_flush();
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_EQ(peer.replies(1), std::vector<std::string>{"a0"});
  peer.conn.reset();  // what the handler does, later: the socket closes with it
  peer.run([&] { return (peer.read_available(), peer.eof()); });
  EXPECT_TRUE(peer.eof());
}

}  // namespace
}  // namespace dp::io
