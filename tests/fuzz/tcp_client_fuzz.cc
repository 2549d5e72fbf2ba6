// libFuzzer target for DNS over TCP from the client's side (RFC 7766): a TcpClientConnection
// over a socketpair and the real EventLoop, plain or under the fake transform, driven by a
// script of client and server steps: bytes in any split (partial length prefixes and bodies,
// pipelined queries, zero prefixes), loop turns, answers in any order, dropped queries, a
// client that reads only some of its answers or none, half-close, close_after_flush and a bad
// record. Beyond crashes, leaks and sanitizer reports, it traps when the connection hands the
// handler anything but the next frame the client sent, holds more queries than its limit,
// reports after closing, or the client reads anything but the answers sent, in send order.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fakes/fake_stream_transform.h"
#include "io/event_loop.h"
#include "io/tcp_client_connection.h"

namespace {

using dp::io::TcpClientConnection;
using Bytes = std::vector<std::uint8_t>;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The script, read front to back; past its end every read is 0.
class Script {
 public:
  explicit Script(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool done() const { return pos_ >= bytes_.size(); }
  std::uint8_t byte() { return done() ? 0 : bytes_[pos_++]; }
  std::span<const std::uint8_t> take(std::size_t n) {
    n = std::min(n, bytes_.size() - std::min(pos_, bytes_.size()));
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// The server side: checks each query against the client's own stream, keeps them for answers.
struct Handler final : TcpClientConnection::Handler {
  Bytes sent;                 // every plaintext byte the kernel took from the client
  std::size_t framed = 0;     // how far the reference framing has read `sent`
  std::deque<Bytes> queries;  // received, not yet answered
  std::size_t max_in_flight = 0;
  // Answer bytes handed to the connection and not yet read by the client, and the most the
  // connection may hold before it stops taking queries: its bound, one answer over it, and
  // what the kernel (and the transform's ciphertext high water) takes meanwhile.
  std::function<std::size_t()> unread;
  std::size_t unread_limit = 0;
  std::function<void()> answer_now;  // set: every query answered from inside the callback
  bool closed = false;

  void on_client_message(TcpClientConnection& conn,
                         std::span<const std::uint8_t> message) override {
    check(!closed);
    // RFC 1035 §4.2.2: the next frame of what the client sent, whole and non-empty.
    check(sent.size() >= framed + 2);
    const std::size_t length = (std::size_t{sent[framed]} << 8) | sent[framed + 1];
    check(length != 0 && length == message.size() && sent.size() >= framed + 2 + length);
    check(std::equal(message.begin(), message.end(), sent.begin() + framed + 2));
    framed += 2 + length;
    queries.emplace_back(message.begin(), message.end());
    check(conn.in_flight() == queries.size() && queries.size() <= max_in_flight);
    check(unread() <= unread_limit);  // a client that stops reading is held to the bound
    if (answer_now) answer_now();     // as a cache hit is
  }
  void on_client_closed(TcpClientConnection& /*conn*/) override {
    check(!closed);
    closed = true;
  }
};

dp::io::EventLoop& loop() {
  static dp::io::EventLoop instance;
  return instance;
}

// One loop turn: whatever is ready runs, nothing is waited for.
void turn() {
  static dp::io::Timer stop(loop(), [] { loop().stop(); });
  stop.arm(std::chrono::microseconds(0));
  loop().run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using dp::testing::FakeStreamTransform;
  Script script({data, size});
  const std::uint8_t control = script.byte();
  const bool tls = (control & 1) != 0;
  dp::io::TcpClientLimits limits;
  limits.max_in_flight = 1 + ((control >> 1) & 7);
  limits.max_output_bytes = std::size_t{256} << ((control >> 4) & 7);
  limits.idle_timeout = std::chrono::minutes(10);  // no timer fires within one input
  limits.read_timeout = std::chrono::minutes(10);

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) return 0;
  const int small = 4096;  // a client that stops reading fills the kernel's buffers soon
  for (const int fd : fds) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  const int client = fds[1];
  Handler handler;
  handler.max_in_flight = limits.max_in_flight;
  dp::testing::FakeTransformControl transform_control;
  std::unique_ptr<dp::io::StreamTransform> transform;
  if (tls) transform = std::make_unique<FakeStreamTransform>(transform_control);
  auto conn = std::make_unique<TcpClientConnection>(loop(), fds[0], 1,
                                                    *dp::SocketAddress::parse("127.0.0.1:5300"),
                                                    limits, handler, std::move(transform));

  Bytes expected;        // the framed answers sent while the connection was open, in order
  std::size_t read = 0;  // how much of `expected` the client has read
  std::size_t welcome = tls ? FakeStreamTransform::kWelcome.size() : 0;  // still to read
  bool write_shut = false;
  std::size_t longest_reply = 0;
  constexpr std::size_t kKernelSlack = 64 * 1024;    // socketpair buffers, generously
  constexpr std::size_t kWireHighWater = 64 * 1024;  // tcp_client_filter.cc's
  handler.unread = [&] {
    handler.unread_limit =
        limits.max_output_bytes + 2 + longest_reply + kKernelSlack + (tls ? kWireHighWater : 0);
    return expected.size() - read;
  };
  const auto client_send = [&](std::span<const std::uint8_t> plain) {
    if (write_shut || plain.empty()) return;
    const Bytes wire = tls ? FakeStreamTransform::mask(plain) : Bytes(plain.begin(), plain.end());
    const ssize_t n = ::send(client, wire.data(), wire.size(), MSG_NOSIGNAL);
    if (n > 0) handler.sent.insert(handler.sent.end(), plain.begin(), plain.begin() + n);
  };
  const auto client_read = [&](std::size_t budget) {
    std::uint8_t buf[8192];
    while (budget > 0) {
      const ssize_t n = ::recv(client, buf, std::min(budget, sizeof buf), 0);
      if (n <= 0) return;
      budget -= static_cast<std::size_t>(n);
      for (ssize_t i = 0; i < n; ++i) {
        if (welcome > 0) {  // the transform's handshake answer comes first, as it is
          check(buf[i] ==
                static_cast<std::uint8_t>(
                    FakeStreamTransform::kWelcome[FakeStreamTransform::kWelcome.size() - welcome]));
          --welcome;
          continue;
        }
        const std::uint8_t plain = tls ? buf[i] ^ FakeStreamTransform::kMask : buf[i];
        check(read < expected.size() && plain == expected[read]);
        ++read;
      }
    }
  };
  const auto answer = [&](bool newest, std::size_t extra) {
    if (handler.queries.empty()) return;
    Bytes reply = newest ? handler.queries.back() : handler.queries.front();
    if (newest) {
      handler.queries.pop_back();
    } else {
      handler.queries.pop_front();
    }
    reply.resize(reply.size() + extra, 0xaa);
    longest_reply = std::max(longest_reply, reply.size());
    if (!handler.closed) {  // an answer for a finished connection is dropped
      expected.push_back(static_cast<std::uint8_t>(reply.size() >> 8));
      expected.push_back(static_cast<std::uint8_t>(reply.size() & 0xff));
      expected.insert(expected.end(), reply.begin(), reply.end());
    }
    conn->send(reply);
    check(conn->in_flight() == handler.queries.size());
  };

  if ((control & 0x80) != 0) handler.answer_now = [&] { answer(false, 1024); };
  if (tls) {
    const std::string_view hello = FakeStreamTransform::kHello;
    // The hello is not masked: send it as it is, outside the plaintext record.
    (void)::send(client, hello.data(), hello.size(), MSG_NOSIGNAL);
  }
  for (int steps = 0; steps < 256 && !script.done(); ++steps) {
    const std::uint8_t op = script.byte();
    switch (op % 10) {
      case 0:
      case 1:  // the client sends the next bytes of the script as they are
        client_send(script.take(1 + script.byte() % 64));
        break;
      case 2: {  // a whole query, framed by the harness: the length is always right
        const auto body = script.take(1 + script.byte() % 32);
        Bytes framed = {0, static_cast<std::uint8_t>(body.size())};
        framed.insert(framed.end(), body.begin(), body.end());
        client_send(framed);
        break;
      }
      case 3:
        turn();
        break;
      case 4:
      case 5:  // an answer, oldest or newest first, up to 4 KiB bigger than its query
        answer(op % 10 == 5, std::size_t{script.byte()} * 16);
        break;
      case 6:
        if (!handler.queries.empty()) {
          handler.queries.pop_front();
          conn->finish_without_reply();
          check(conn->in_flight() == handler.queries.size());
        }
        break;
      case 7:  // the client reads some of what arrived (never all: it may stop reading)
        client_read(std::size_t{script.byte()} * 64);
        break;
      case 8:
        if (op & 0x80) {
          ::shutdown(client, SHUT_WR);
          write_shut = true;
        } else if (op & 0x40) {
          conn->close_after_flush();
        } else if (tls) {
          transform_control.bad_record = true;
        }
        break;
      default:
        turn();
        turn();
        break;
    }
  }
  turn();
  client_read(SIZE_MAX);
  check(read <= expected.size());
  conn.reset();
  ::close(client);
  return 0;
}
