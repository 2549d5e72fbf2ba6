// The batched UDP listener on loopback: every datagram of a burst larger than a batch is
// handled, each reply reaches its sender, and replies made outside a batch (answers from
// upstream) are gathered and leave once the current callback returns.
#include "io/udp_listener.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "io/run_until.h"
#include "io/socket.h"

namespace dp::io {
namespace {

using namespace std::chrono_literals;

// A plain client socket on 127.0.0.1 that sends and collects datagrams.
class Client {
 public:
  Client() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) {
    const auto local = *SocketAddress::parse("127.0.0.1:0");
    EXPECT_EQ(::bind(fd_, local.sa(), local.length()), 0);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& text, const SocketAddress& to) {
    ASSERT_EQ(::sendto(fd_, text.data(), text.size(), 0, to.sa(), to.length()),
              static_cast<ssize_t>(text.size()));
  }
  SocketAddress address() const { return socket_local_address(fd_); }
  std::vector<std::string> received() {
    std::vector<std::string> out;
    char buffer[512];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n < 0) return out;
      out.emplace_back(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

using testing::run_until;

TEST(UdpListener, HandlesABurstLargerThanABatchAndRepliesToEach) {
  EventLoop loop;
  const int fd = socket_bind(*SocketAddress::parse("127.0.0.1:0"), SocketKind::kUdp);
  const SocketAddress address = socket_local_address(fd);
  UdpListener* self = nullptr;
  std::vector<std::string> handled;
  UdpListener listener(
      loop, fd, [&](std::span<const std::uint8_t> message, const SocketAddress& from) {
        handled.emplace_back(message.begin(), message.end());
        const std::string reply = "r" + handled.back();
        self->send(std::span(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()),
                   from);
      });
  self = &listener;

  Client client;
  constexpr int kCount = 3 * UdpListener::kBatch + 5;  // several wake-ups' worth
  std::set<std::string> expected;
  for (int i = 0; i < kCount; ++i) {
    client.send("q" + std::to_string(i), address);
    expected.insert("rq" + std::to_string(i));
  }
  std::set<std::string> replies;
  run_until(loop, [&] {
    for (auto& r : client.received()) replies.insert(r);
    return replies.size() == expected.size();
  });
  EXPECT_EQ(handled.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(replies, expected);
  EXPECT_EQ(listener.send_failures(), 0u);
}

TEST(UdpListener, SeveralRepliesPerQueryAllLeave) {
  EventLoop loop;
  const int fd = socket_bind(*SocketAddress::parse("127.0.0.1:0"), SocketKind::kUdp);
  const SocketAddress address = socket_local_address(fd);
  UdpListener* self = nullptr;
  UdpListener listener(
      loop, fd, [&](std::span<const std::uint8_t> message, const SocketAddress& from) {
        for (const char tag : {'a', 'b', 'c'}) {  // three replies each: more than a batch holds
          std::string reply(message.begin(), message.end());
          reply.push_back(tag);
          self->send(std::span(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()),
                     from);
        }
      });
  self = &listener;
  Client client;
  for (std::size_t i = 0; i < UdpListener::kBatch; ++i) client.send(std::to_string(i), address);
  std::set<std::string> replies;
  run_until(loop, [&] {
    for (auto& r : client.received()) replies.insert(r);
    return replies.size() == 3 * UdpListener::kBatch;
  });
  EXPECT_EQ(replies.size(), 3 * UdpListener::kBatch);
  EXPECT_TRUE(replies.contains("0a") && replies.contains("31c"));
}

TEST(UdpListener, ReplyOutsideABatchLeavesOnTheNextLoopTurn) {
  EventLoop loop;
  const int fd = socket_bind(*SocketAddress::parse("127.0.0.1:0"), SocketKind::kUdp);
  const SocketAddress address = socket_local_address(fd);
  std::vector<SocketAddress> senders;
  UdpListener listener(loop, fd, [&](std::span<const std::uint8_t>, const SocketAddress& from) {
    senders.push_back(from);  // no reply now: it comes "from upstream" later
  });
  Client client;
  client.send("later", address);
  run_until(loop, [&] { return !senders.empty(); });
  ASSERT_EQ(senders.size(), 1u);
  // Forty answers from one callback: more than a batch; none has left before the loop turns.
  std::set<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    const std::string reply = "answer" + std::to_string(i);
    expected.insert(reply);
    listener.send(std::span(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()),
                  senders[0]);
  }
  std::set<std::string> got;
  for (auto& r : client.received()) got.insert(r);
  EXPECT_EQ(got.size(), UdpListener::kBatch);  // the full batch left; the rest wait
  run_until(loop, [&] {
    for (auto& r : client.received()) got.insert(r);
    return got.size() == expected.size();
  });
  EXPECT_EQ(got, expected);
}

TEST(UdpListener, QueuedRepliesLeaveWhenTheListenerCloses) {
  EventLoop loop;
  const int fd = socket_bind(*SocketAddress::parse("127.0.0.1:0"), SocketKind::kUdp);
  Client client;
  {
    UdpListener listener(loop, fd, [](std::span<const std::uint8_t>, const SocketAddress&) {});
    const std::string reply = "last";
    listener.send(std::span(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()),
                  client.address());
    EXPECT_TRUE(client.received().empty());
  }  // closed at shutdown before the loop turned again
  EXPECT_EQ(client.received(), std::vector<std::string>{"last"});
}

}  // namespace
}  // namespace dp::io
