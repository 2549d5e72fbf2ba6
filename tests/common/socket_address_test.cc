#include "common/socket_address.h"

#include <gtest/gtest.h>

namespace dp {
namespace {

TEST(CommonSocketAddressTest, ParsesIpv4AndIpv6WithPorts) {
  auto v4 = SocketAddress::parse("127.0.0.1:5353");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family(), AF_INET);
  EXPECT_EQ(v4->port(), 5353);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:5353");

  auto v6 = SocketAddress::parse("[::1]:53");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->port(), 53);
  EXPECT_EQ(v6->to_string(), "[::1]:53");
}

// The loop guard's test: a zone's server asking from any port, or as a dual-stack socket sees it.
TEST(CommonSocketAddressTest, SameHostIgnoresThePortAndSeesThroughV4MappedV6) {
  const auto server = *SocketAddress::parse("10.96.0.10:53");
  EXPECT_TRUE(server.same_host(*SocketAddress::parse("10.96.0.10:41000")));
  EXPECT_TRUE(server.same_host(*SocketAddress::parse("[::ffff:10.96.0.10]:41000")));
  EXPECT_FALSE(server.same_host(*SocketAddress::parse("10.96.0.11:53")));
  EXPECT_FALSE(server.same_host(*SocketAddress::parse("[::1]:53")));
  EXPECT_TRUE(
      SocketAddress::parse("[fd00::1]:53")->same_host(*SocketAddress::parse("[fd00::1]:1")));
  EXPECT_FALSE(server.same_host(SocketAddress{}));  // no address at all
}

TEST(CommonSocketAddressTest, DefaultLoopbackIsOnly127001AndColonColon1) {
  EXPECT_TRUE(SocketAddress::parse("127.0.0.1:53")->is_default_loopback());
  EXPECT_TRUE(SocketAddress::parse("[::1]:53")->is_default_loopback());
  EXPECT_TRUE(SocketAddress::parse("[::ffff:127.0.0.1]:53")->is_default_loopback());
  EXPECT_FALSE(SocketAddress::parse("127.0.0.2:53")->is_default_loopback());
  EXPECT_FALSE(SocketAddress::parse("10.0.0.1:53")->is_default_loopback());
  EXPECT_FALSE(SocketAddress{}.is_default_loopback());
}

TEST(CommonSocketAddressTest, RejectsMalformedText) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:53", "[::1]",
        "[::1]53", "[127.0.0.1]:53", "host:53", "1.2.3.4:5x", "[::1]:"}) {
    EXPECT_FALSE(SocketAddress::parse(bad)) << bad;
  }
}

TEST(CommonSocketAddressTest, FromIpAcceptsBareLiteralsOnly) {
  EXPECT_TRUE(SocketAddress::from_ip("2606:4700:4700::1111", 853));
  EXPECT_EQ(SocketAddress::from_ip("1.1.1.1", 853)->to_string(), "1.1.1.1:853");
  EXPECT_FALSE(SocketAddress::from_ip("[::1]", 853));
  EXPECT_FALSE(SocketAddress::from_ip("one.one.one.one", 853));
}

TEST(CommonSocketAddressTest, SetPortAndEquality) {
  auto a = *SocketAddress::parse("[::1]:0");
  a.set_port(99);
  EXPECT_EQ(a, *SocketAddress::parse("[::1]:99"));
  EXPECT_FALSE(a == *SocketAddress::parse("[::1]:98"));
}

}  // namespace
}  // namespace dp
