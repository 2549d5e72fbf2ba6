// The connected UDP socket of one upstream query, on loopback: a port of its own from the
// kernel, datagrams only from the address it is connected to, ICMP errors reported.
#include "io/udp_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "io/run_until.h"
#include "io/socket.h"

namespace dp::io {
namespace {

using testing::run_until;

struct Recorder final : DatagramSocket::Handler {
  void on_datagram(DatagramSocket& /*socket*/, std::span<const std::uint8_t> bytes) override {
    datagrams.emplace_back(bytes.begin(), bytes.end());
  }
  void on_datagram_error(DatagramSocket& /*socket*/, const std::string& detail) override {
    errors.push_back(detail);
  }
  std::vector<std::string> datagrams;
  std::vector<std::string> errors;
};

// A server socket on 127.0.0.1, port 0.
struct Server {
  Server()
      : fd(socket_bind(*SocketAddress::parse("127.0.0.1:0"), SocketKind::kUdp)),
        address(socket_local_address(fd)) {}
  ~Server() { ::close(fd); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The next datagram waiting (sent on loopback, so already there), and who sent it.
  std::string receive(SocketAddress& from) {
    char buffer[512];
    *from.length_ptr() = SocketAddress::capacity();
    const ssize_t n =
        ::recvfrom(fd, buffer, sizeof buffer, MSG_DONTWAIT, from.sa(), from.length_ptr());
    return n < 0 ? std::string() : std::string(buffer, static_cast<std::size_t>(n));
  }
  void send_to(const std::string& text, const SocketAddress& to) const {
    ASSERT_EQ(::sendto(fd, text.data(), text.size(), 0, to.sa(), to.length()),
              static_cast<ssize_t>(text.size()));
  }

  int fd;
  SocketAddress address;
};

std::span<const std::uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(UdpSocket, EachSocketSendsFromAPortOfItsOwn) {
  EventLoop loop;
  Server server;
  Recorder recorder;
  auto a = UdpSocket::open(loop, server.address, recorder);
  auto b = UdpSocket::open(loop, server.address, recorder);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE((*a)->send(bytes_of("one")));
  ASSERT_TRUE((*b)->send(bytes_of("two")));
  SocketAddress from_a;
  SocketAddress from_b;
  EXPECT_EQ(server.receive(from_a), "one");
  EXPECT_EQ(server.receive(from_b), "two");
  EXPECT_NE(from_a.port(), 0);
  EXPECT_NE(from_a.port(), from_b.port());
  EXPECT_EQ(from_a, (*a)->local_address());
  EXPECT_EQ(from_b, (*b)->local_address());
}

TEST(UdpSocket, OnlyTheConnectedAddressIsHeard) {
  EventLoop loop;
  Server server;
  Server stranger;
  Recorder recorder;
  auto socket = UdpSocket::open(loop, server.address, recorder);
  ASSERT_TRUE(socket);
  ASSERT_TRUE((*socket)->send(bytes_of("query")));
  SocketAddress client;
  ASSERT_EQ(server.receive(client), "query");
  stranger.send_to("spoofed", client);  // the right port, from the wrong address
  server.send_to("answer", client);
  run_until(loop, [&] { return !recorder.datagrams.empty(); });
  loop.run_pending();
  ASSERT_EQ(recorder.datagrams.size(), 1u);
  EXPECT_EQ(recorder.datagrams[0], "answer");
  EXPECT_TRUE(recorder.errors.empty());
}

TEST(UdpSocket, PortUnreachableIsReported) {
  EventLoop loop;
  SocketAddress closed_port;
  {
    Server gone;  // bound, then closed: nobody listens there
    closed_port = gone.address;
  }
  Recorder recorder;
  auto socket = UdpSocket::open(loop, closed_port, recorder);
  ASSERT_TRUE(socket);
  ASSERT_TRUE((*socket)->send(bytes_of("query")));
  run_until(loop, [&] { return !recorder.errors.empty(); });
  ASSERT_EQ(recorder.errors.size(), 1u);
  EXPECT_NE(recorder.errors[0].find("refused"), std::string::npos) << recorder.errors[0];
  EXPECT_TRUE(recorder.datagrams.empty());
}

TEST(UdpSocket, ClosedSocketHearsNothingMore) {
  EventLoop loop;
  Server server;
  Recorder recorder;
  auto socket = UdpSocket::open(loop, server.address, recorder);
  ASSERT_TRUE(socket);
  ASSERT_TRUE((*socket)->send(bytes_of("query")));
  SocketAddress client;
  ASSERT_EQ(server.receive(client), "query");
  (*socket)->close();
  EXPECT_FALSE((*socket)->send(bytes_of("again")));
  ::sendto(server.fd, "late", 4, 0, client.sa(), client.length());
  loop.run_pending();
  EXPECT_TRUE(recorder.datagrams.empty());
}

}  // namespace
}  // namespace dp::io
