// TcpStream against a real peer on loopback: connect and its failure, writes gathered and
// kept while the kernel will not take them, data before EOF, reset, and close() from inside
// a callback.
#include "io/tcp_stream.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "io/run_until.h"
#include "io/socket.h"

namespace dp::io {
namespace {

using testing::run_until;

std::span<const std::uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Records what the stream reports.
struct Recorder final : ByteStream::Handler {
  bool connected = false;
  std::string data;
  std::optional<StreamError> closed;
  std::string detail;
  std::function<void()> on_data;   // runs after each piece of data
  std::function<void()> on_flush;  // runs when the stream asks for the turn's last writes
  int flushes = 0;

  void on_stream_connected() override { connected = true; }
  void on_stream_data(std::span<const std::uint8_t> bytes) override {
    data.append(bytes.begin(), bytes.end());
    if (on_data) on_data();
  }
  void on_stream_flush() override {
    ++flushes;
    if (on_flush) on_flush();
  }
  void on_stream_closed(StreamError error, const std::string& why) override {
    closed = error;
    detail = why;
  }
};

// A listening socket on 127.0.0.1 and the one connection it accepts.
class Peer {
 public:
  Peer()
      : listener_(socket_bind(*SocketAddress::parse("127.0.0.1:0"), SocketKind::kTcp)),
        address_(socket_local_address(listener_)) {}
  ~Peer() {
    if (conn_ >= 0) ::close(conn_);
    ::close(listener_);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const SocketAddress& address() const { return address_; }
  bool accept() {
    conn_ = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK);
    return conn_ >= 0;
  }
  // Whatever has arrived, without waiting.
  std::string read_available() {
    std::string out;
    char buffer[65536];
    for (ssize_t n; (n = ::recv(conn_, buffer, sizeof buffer, 0)) > 0;) out.append(buffer, n);
    return out;
  }
  void send(const std::string& text) {
    ASSERT_EQ(::send(conn_, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }
  void close_with_reset() {
    const linger hard{1, 0};  // close() then sends RST, not FIN
    ::setsockopt(conn_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(conn_);
    conn_ = -1;
  }
  void close() {
    ::close(conn_);
    conn_ = -1;
  }

 private:
  int listener_;
  SocketAddress address_;
  int conn_ = -1;
};

// Connects `stream` to `peer` and accepts on the peer's side.
void connect_both(EventLoop& loop, TcpStream& stream, Peer& peer, Recorder& recorder) {
  stream.connect(peer.address(), recorder);
  run_until(loop, [&] { return recorder.connected || recorder.closed.has_value(); });
  ASSERT_TRUE(recorder.connected) << recorder.detail;
  ASSERT_TRUE(peer.accept());
}

TEST(TcpStream, WritesOfOneTurnArriveInOrderAndDataComesBack) {
  EventLoop loop;
  Peer peer;
  Recorder recorder;
  TcpStream stream(loop);
  connect_both(loop, stream, peer, recorder);
  for (int i = 0; i < 100; ++i) stream.write(bytes_of("q" + std::to_string(i) + ";"));
  EXPECT_GT(stream.write_pending(), 0u);  // gathered: they leave when the turn ends
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += "q" + std::to_string(i) + ";";
  std::string got;
  run_until(loop, [&] {
    got += peer.read_available();
    return got.size() >= expected.size();
  });
  EXPECT_EQ(got, expected);
  EXPECT_EQ(stream.write_pending(), 0u);
  peer.send("answer");
  run_until(loop, [&] { return recorder.data.size() >= 6; });
  EXPECT_EQ(recorder.data, "answer");
  EXPECT_FALSE(recorder.closed.has_value());
}

TEST(TcpStream, WriteSoonAsksForTheTurnsLastWritesOnceBeforeTheyLeave) {
  EventLoop loop;
  Peer peer;
  Recorder recorder;
  TcpStream stream(loop);
  connect_both(loop, stream, peer, recorder);
  recorder.on_flush = [&] { stream.write(bytes_of("+gathered")); };
  stream.write(bytes_of("first"));
  stream.write_soon();
  stream.write_soon();             // asked twice in one turn: one callback
  EXPECT_EQ(recorder.flushes, 0);  // never from inside the call
  std::string got;
  run_until(loop, [&] {
    got += peer.read_available();
    return got.size() >= 14;
  });
  EXPECT_EQ(got, "first+gathered");
  EXPECT_EQ(recorder.flushes, 1);
  EXPECT_EQ(stream.write_pending(), 0u);
}

// The ACK goes with the turn's writes when there are some; else TCP_QUICKACK once the loop is
// out of work, once however often it was asked.
TEST(TcpStream, AcknowledgeSoonForcesAnAckOnlyWhenNothingWasSent) {
  EventLoop loop;
  Peer peer;
  Recorder recorder;
  TcpStream stream(loop);
  connect_both(loop, stream, peer, recorder);
  peer.send("answer");
  run_until(loop, [&] { return recorder.data.size() >= 6; });
  stream.acknowledge_soon();
  stream.write(bytes_of("query"));
  std::string got;
  run_until(loop, [&] {
    got += peer.read_available();
    return got.size() >= 5;
  });
  loop.run_pending();
  loop.run_pending();
  EXPECT_EQ(stream.acks_forced(), 0u);  // the query carried it
  stream.acknowledge_soon();
  stream.acknowledge_soon();
  EXPECT_EQ(stream.acks_forced(), 0u);  // never from inside the call
  run_until(loop, [&] { return stream.acks_forced() > 0; });
  loop.run_pending();
  EXPECT_EQ(stream.acks_forced(), 1u);
  EXPECT_FALSE(recorder.closed.has_value());
}

TEST(TcpStream, ARefusedConnectIsAConnectFailure) {
  EventLoop loop;
  SocketAddress nobody = [] {
    Peer gone;  // a port that was just free again: nothing listens there now
    return gone.address();
  }();
  Recorder recorder;
  TcpStream stream(loop);
  stream.connect(nobody, recorder);
  EXPECT_FALSE(recorder.closed.has_value());  // never reported from inside connect()
  run_until(loop, [&] { return recorder.closed.has_value(); });
  ASSERT_TRUE(recorder.closed.has_value());
  EXPECT_EQ(*recorder.closed, StreamError::kConnectFailed);
  EXPECT_FALSE(recorder.connected);
  EXPECT_NE(recorder.detail.find("refused"), std::string::npos) << recorder.detail;
}

// TCP to a multicast address fails inside connect() itself (ENETUNREACH), before any packet
// leaves: the failure that connect() has to report later.
SocketAddress fails_at_once() { return *SocketAddress::parse("224.0.0.1:853"); }

TEST(TcpStream, AFailureReportedLaterGoesWithTheStreamThatHadIt) {
  EventLoop loop;
  // Left alone, the failure is reported, from the loop.
  TcpStream alone(loop);
  Recorder told;
  alone.connect(fails_at_once(), told);
  EXPECT_FALSE(told.closed.has_value());
  run_until(loop, [&] { return told.closed.has_value(); });
  ASSERT_TRUE(told.closed.has_value());
  EXPECT_EQ(*told.closed, StreamError::kConnectFailed);
  EXPECT_NE(told.detail.find("unreachable"), std::string::npos) << told.detail;
  // Freed before the loop ran: nothing may run on the freed stream (ASan) or be reported.
  Recorder recorder;
  auto stream = std::make_unique<TcpStream>(loop);
  stream->connect(fails_at_once(), recorder);
  stream.reset();
  run_until(
      loop, [&] { return recorder.closed.has_value(); }, std::chrono::milliseconds(20));
  EXPECT_FALSE(recorder.closed.has_value());
}

TEST(TcpStream, AFailureReportedLaterDoesNotEndTheNextConnection) {
  EventLoop loop;
  Peer peer;
  Recorder failed_one;
  TcpStream stream(loop);
  stream.connect(fails_at_once(), failed_one);
  stream.close();
  Recorder recorder;
  stream.connect(peer.address(), recorder);
  run_until(loop, [&] { return recorder.connected || recorder.closed.has_value(); });
  EXPECT_TRUE(recorder.connected);
  EXPECT_FALSE(recorder.closed.has_value()) << recorder.detail;
  EXPECT_FALSE(failed_one.closed.has_value());
}

TEST(TcpStream, WhatThePeerDoesNotReadYetIsKeptAndDeliveredLater) {
  EventLoop loop;
  Peer peer;
  Recorder recorder;
  TcpStream stream(loop);
  connect_both(loop, stream, peer, recorder);
  std::string big(32 << 20, '\0');  // far more than the two sockets' buffers hold
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
  stream.write(bytes_of(big));
  run_until(
      loop, [] { return false; }, std::chrono::milliseconds(50));
  ASSERT_GT(stream.write_pending(), 0u) << "the kernel took it all: the test proves nothing";
  std::string got;
  run_until(
      loop,
      [&] {
        got += peer.read_available();
        return got.size() >= big.size();
      },
      std::chrono::seconds(10));
  EXPECT_EQ(got.size(), big.size());
  EXPECT_TRUE(got == big) << "bytes lost or out of order";
  EXPECT_EQ(stream.write_pending(), 0u);
  EXPECT_FALSE(recorder.closed.has_value());
}

TEST(TcpStream, DataBeforeThePeersCloseIsDeliveredThenEof) {
  EventLoop loop;
  Peer peer;
  Recorder recorder;
  TcpStream stream(loop);
  connect_both(loop, stream, peer, recorder);
  peer.send("last words");
  peer.close();
  run_until(loop, [&] { return recorder.closed.has_value(); });
  EXPECT_EQ(recorder.data, "last words");
  ASSERT_TRUE(recorder.closed.has_value());
  EXPECT_EQ(*recorder.closed, StreamError::kEof);
}

TEST(TcpStream, APeerResetIsAReset) {
  EventLoop loop;
  Peer peer;
  Recorder recorder;
  TcpStream stream(loop);
  connect_both(loop, stream, peer, recorder);
  peer.close_with_reset();
  run_until(loop, [&] { return recorder.closed.has_value(); });
  ASSERT_TRUE(recorder.closed.has_value());
  EXPECT_EQ(*recorder.closed, StreamError::kReset);
}

TEST(TcpStream, CloseFromInsideADataCallbackEndsEveryCallback) {
  EventLoop loop;
  Peer peer;
  Recorder recorder;
  TcpStream stream(loop);
  connect_both(loop, stream, peer, recorder);
  recorder.on_data = [&] { stream.close(); };
  stream.write(bytes_of("unsent"));  // dropped by close(), never sent nor reported
  peer.send("one");
  run_until(loop, [&] { return !recorder.data.empty(); });
  peer.send("two");
  peer.close();
  run_until(
      loop, [] { return false; }, std::chrono::milliseconds(50));
  EXPECT_EQ(recorder.data, "one");
  EXPECT_FALSE(recorder.closed.has_value());  // close() reports nothing
  EXPECT_EQ(stream.write_pending(), 0u);
  stream.write(bytes_of("after close"));  // ignored, no crash
  EXPECT_EQ(stream.write_pending(), 0u);
}

}  // namespace
}  // namespace dp::io
