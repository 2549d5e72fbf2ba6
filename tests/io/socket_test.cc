// Listening sockets: one port for UDP and TCP, also when port 0 lets the kernel pick and the
// number it picks is held for UDP by another program.
#include "io/socket.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "fakes/netns.h"

namespace dp::io {
namespace {

SocketAddress loopback(std::uint16_t port) { return *SocketAddress::from_ip("127.0.0.1", port); }

// A UDP socket another program would hold: no SO_REUSEPORT, so nobody else can share it.
int udp_hold(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const SocketAddress address = loopback(port);
  if (fd < 0 || ::bind(fd, address.sa(), address.length()) != 0) {
    ADD_FAILURE() << "cannot hold UDP port " << port << ": " << std::strerror(errno);
  }
  return fd;
}

bool local_port_range_set(const std::string& range) {
  std::ofstream out("/proc/sys/net/ipv4/ip_local_port_range");
  out << range;
  return static_cast<bool>(out.flush());
}

TEST(SocketPairBindTest, PortZeroGivesBothTransportsTheSamePort) {
  SocketAddress address = loopback(0);
  const SocketPair pair = socket_pair_bind(address);
  EXPECT_NE(address.port(), 0);
  EXPECT_EQ(socket_local_address(pair.tcp_fd).port(), address.port());
  EXPECT_EQ(socket_local_address(pair.udp_fd).port(), address.port());
  ::close(pair.tcp_fd);
  ::close(pair.udp_fd);
}

TEST(SocketPairBindTest, AGivenPortHeldForUdpIsAnError) {
  SocketAddress probe = loopback(0);
  const SocketPair free_pair = socket_pair_bind(probe);  // a port nobody else has
  ::close(free_pair.tcp_fd);
  ::close(free_pair.udp_fd);
  const int held = udp_hold(probe.port());
  SocketAddress address = probe;
  try {
    (void)socket_pair_bind(address);
    ADD_FAILURE() << "bound a port held for UDP";
  } catch (const SocketError& error) {
    EXPECT_EQ(error.code(), EADDRINUSE);
    EXPECT_NE(std::string(error.what()).find("cannot bind UDP"), std::string::npos);
  }
  ::close(held);
}

// In a namespace whose ephemeral range is four ports with three held for UDP, port 0 must end
// on the fourth: the kernel picks among the four at random (an even count: Linux scans ranges
// in pairs), so without fresh picks most binds would fail; ten in a row succeed only with them.
TEST(SocketPairBindTest, PortZeroPicksAgainWhenUdpHoldsThePickedPort) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace of its own)";
  const std::string netns = dp::testing::run_in_new_netns([] {
    ASSERT_TRUE(local_port_range_set("41000 41003"));
    const int held_a = udp_hold(41000);
    const int held_b = udp_hold(41001);
    const int held_c = udp_hold(41002);
    for (int i = 0; i < 10; ++i) {
      SocketAddress address = loopback(0);
      const SocketPair pair = socket_pair_bind(address);
      EXPECT_EQ(address.port(), 41003);
      EXPECT_EQ(socket_local_address(pair.udp_fd).port(), 41003);
      ::close(pair.tcp_fd);
      ::close(pair.udp_fd);
    }
    // With every port of the range held, the picks run out: an error, not a loop.
    const int held_d = udp_hold(41003);
    SocketAddress address = loopback(0);
    EXPECT_THROW((void)socket_pair_bind(address), SocketError);
    for (int fd : {held_a, held_b, held_c, held_d}) ::close(fd);
  });
  ASSERT_EQ(netns, "") << "cannot make a network namespace";
}

}  // namespace
}  // namespace dp::io
