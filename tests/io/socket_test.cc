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
// on the fourth: the kernel's first pick is 41001 or 41003 (odd ports first, at random), so
// without fresh picks about half the binds would fail; ten in a row succeed only with them.
TEST(SocketPairBindTest, PortZeroPicksAgainWhenUdpHoldsThePickedPort) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace of its own)";
  const std::string netns = dp::testing::run_in_new_netns([] {
    ASSERT_TRUE(local_port_range_set("41000 41003"));
    std::vector<int> held;
    for (std::uint16_t port = 41000; port < 41003; ++port) held.push_back(udp_hold(port));
    for (int i = 0; i < 10; ++i) {
      SocketAddress address = loopback(0);
      const SocketPair pair = socket_pair_bind(address);
      EXPECT_EQ(address.port(), 41003);
      EXPECT_EQ(socket_local_address(pair.udp_fd).port(), 41003);
      ::close(pair.tcp_fd);
      ::close(pair.udp_fd);
    }
    for (int fd : held) ::close(fd);
  });
  ASSERT_EQ(netns, "") << "cannot make a network namespace";
}

// Every port of a range wider than kPortPicks held for UDP: the picks stop at kPortPicks with
// the UDP error, not when the range runs out of TCP ports.
TEST(SocketPairBindTest, PortZeroGivesUpAfterKPortPicks) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace of its own)";
  const std::string netns = dp::testing::run_in_new_netns([] {
    constexpr std::uint16_t kFirst = 42000;
    constexpr std::uint16_t kPorts = 2 * kPortPicks;
    ASSERT_TRUE(
        local_port_range_set(std::to_string(kFirst) + " " + std::to_string(kFirst + kPorts - 1)));
    std::vector<int> held;
    for (std::uint16_t port = kFirst; port < kFirst + kPorts; ++port)
      held.push_back(udp_hold(port));
    SocketAddress address = loopback(0);
    try {
      (void)socket_pair_bind(address);
      ADD_FAILURE() << "bound a pair with every UDP port held";
    } catch (const SocketError& error) {
      EXPECT_EQ(error.code(), EADDRINUSE);
      EXPECT_NE(std::string(error.what()).find("cannot bind UDP"), std::string::npos)
          << error.what();
    }
    for (int fd : held) ::close(fd);
  });
  ASSERT_EQ(netns, "") << "cannot make a network namespace";
}

// A program holding the port for UDP with SO_REUSEPORT (as dotproxy's own sockets do) would
// share its datagrams with ours: port 0 must not pick a port so held either. Linux's bind(0)
// tries the odd ports of the range first, so 43001 (held) is always the first pick here.
TEST(SocketPairBindTest, PortZeroSkipsAPortSharedBySoReuseport) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace of its own)";
  const std::string netns = dp::testing::run_in_new_netns([] {
    ASSERT_TRUE(local_port_range_set("43000 43001"));
    const int shared = socket_bind(loopback(43001), SocketKind::kUdp);  // SO_REUSEPORT set
    for (int i = 0; i < 10; ++i) {
      SocketAddress address = loopback(0);
      const SocketPair pair = socket_pair_bind(address);
      EXPECT_EQ(address.port(), 43000);
      ::close(pair.tcp_fd);
      ::close(pair.udp_fd);
    }
    ::close(shared);
  });
  ASSERT_EQ(netns, "") << "cannot make a network namespace";
}

}  // namespace
}  // namespace dp::io
