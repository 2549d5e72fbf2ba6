// The test's side of a TcpClientConnection: a socketpair whose other end the connection owns,
// a handler that records what the connection reports, and DNS-over-TCP framing helpers.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/run_until.h"
#include "io/tcp_client_connection.h"

namespace dp::io::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

// RFC 1035 §4.2.2: a two-byte length, then the message.
inline Bytes frame(std::string_view message) {
  Bytes out = {static_cast<std::uint8_t>(message.size() >> 8),
               static_cast<std::uint8_t>(message.size() & 0xff)};
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

// Takes the whole messages off the front of `stream`; a partial one stays.
inline std::vector<std::string> frames_take(std::string& stream) {
  std::vector<std::string> out;
  while (stream.size() >= 2) {
    const std::size_t length = (std::size_t{static_cast<std::uint8_t>(stream[0])} << 8) |
                               static_cast<std::uint8_t>(stream[1]);
    if (stream.size() < 2 + length) break;
    out.push_back(stream.substr(2, length));
    stream.erase(0, 2 + length);
  }
  return out;
}

// Records what the connection reports; on_message may answer at once.
struct Recorder final : TcpClientConnection::Handler {
  std::vector<std::string> messages;
  bool closed = false;
  std::function<void(TcpClientConnection&)> on_message;

  void on_client_message(TcpClientConnection& conn,
                         std::span<const std::uint8_t> message) override {
    messages.emplace_back(message.begin(), message.end());
    if (on_message) on_message(conn);
  }
  void on_client_closed(TcpClientConnection& /*conn*/) override { closed = true; }
};

// A connection over a socketpair; the test writes and reads the other end, never blocking.
class ClientPeer {
 public:
  explicit ClientPeer(const TcpClientLimits& limits,
                      std::unique_ptr<StreamTransform> transform = nullptr,
                      int socket_buffer_bytes = 0) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    if (socket_buffer_bytes > 0) {  // a small kernel buffer: a client that does not read
      for (const int fd : fds) {    // fills it soon
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
      }
    }
    fd_ = fds[1];
    conn = std::make_unique<TcpClientConnection>(loop, fds[0], 7,
                                                 *SocketAddress::parse("127.0.0.1:5300"), limits,
                                                 handler, std::move(transform));
  }
  ~ClientPeer() {
    conn.reset();
    if (fd_ >= 0) ::close(fd_);
  }
  ClientPeer(const ClientPeer&) = delete;
  ClientPeer& operator=(const ClientPeer&) = delete;

  void send(std::span<const std::uint8_t> bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void send(std::string_view text) { send(bytes_of(text)); }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Whatever has arrived, without waiting; eof() turns true once the connection has closed.
  std::string read_available() {
    std::string out;
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        out.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) eof_ = true;
      break;
    }
    return out;
  }
  bool eof() const { return eof_; }
  // Runs the loop until `done()`, bounded; done() is also checked before the first turn.
  void run(const std::function<bool()>& done,
           std::chrono::milliseconds limit = std::chrono::seconds(2)) {
    if (!done()) run_until(loop, done, limit);
  }
  // A few loop turns: what the socket has for the connection is taken, nothing is waited for.
  void turns() {
    int n = 0;
    run_until(loop, [&] { return ++n > 3; });
  }
  // Reads replies until `count` whole ones have arrived (or the bound passes).
  std::vector<std::string> replies(std::size_t count) {
    std::vector<std::string> out;
    run([&] {
      stream_ += read_available();
      for (auto& m : frames_take(stream_)) out.push_back(std::move(m));
      return out.size() >= count;
    });
    return out;
  }

  EventLoop loop;
  Recorder handler;
  std::unique_ptr<TcpClientConnection> conn;

 private:
  int fd_ = -1;
  bool eof_ = false;
  std::string stream_;  // replies read but not yet whole
};

}  // namespace dp::io::testing
