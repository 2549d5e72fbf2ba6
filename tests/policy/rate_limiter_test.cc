#include "policy/rate_limiter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <vector>

namespace dp::policy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint(seconds(1000));

SocketAddress ip(const char* text) {
  auto a = SocketAddress::from_ip(text, 53);
  EXPECT_TRUE(a) << text;
  return a.value_or(SocketAddress{});
}

SocketAddress v4(std::uint32_t host_order) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(host_order);
  return SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

RateLimitOptions opts(double qps, double burst, unsigned slip = 0) {
  RateLimitOptions o;
  o.queries_per_second = qps;
  o.burst = burst;
  o.slip = slip;
  return o;
}

// How many queries pass in a row at `now` before the first one that does not.
int passes_at(RateLimiter& rl, const SocketAddress& client, TimePoint now) {
  int n = 0;
  while (rl.check(client, now) == RateDecision::kPass) {
    if (++n > 1'000'000) break;
  }
  return n;
}

TEST(PolicyRateLimiterTest, BurstAllowedThenLimited) {
  RateLimiter rl(opts(10, 5));
  const auto c = ip("192.0.2.1");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rl.check(c, kT0), RateDecision::kPass) << i;
  EXPECT_EQ(rl.check(c, kT0), RateDecision::kDrop);
  EXPECT_EQ(rl.check(c, kT0 + milliseconds(50)), RateDecision::kDrop);  // half a token
}

TEST(PolicyRateLimiterTest, BurstDefaultsToTheRate) {
  RateLimiter rl(opts(20, 0));
  EXPECT_EQ(passes_at(rl, ip("192.0.2.1"), kT0), 20);
}

TEST(PolicyRateLimiterTest, BelowOneQueryPerSecondStillAllowsOne) {
  RateLimiter rl(opts(0.5, 0));  // a bucket of 0.5 would refuse forever: it is 1
  const auto c = ip("192.0.2.1");
  EXPECT_EQ(rl.check(c, kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(c, kT0 + milliseconds(1999)), RateDecision::kDrop);
  EXPECT_EQ(rl.check(c, kT0 + seconds(2)), RateDecision::kPass);
}

TEST(PolicyRateLimiterTest, RefillsOverTimeUpToTheBurst) {
  RateLimiter rl(opts(10, 5));
  const auto c = ip("192.0.2.1");
  EXPECT_EQ(passes_at(rl, c, kT0), 5);
  EXPECT_EQ(passes_at(rl, c, kT0 + milliseconds(100)), 1);  // one token per 100 ms
  EXPECT_EQ(passes_at(rl, c, kT0 + milliseconds(399)), 2);  // 2.99 tokens: 2
  EXPECT_EQ(passes_at(rl, c, kT0 + milliseconds(400)), 1);
  EXPECT_EQ(passes_at(rl, c, kT0 + seconds(60)), 5);  // idle: full, never more
  // A steady 10 qps is never limited.
  for (int i = 1; i <= 1000; ++i)
    EXPECT_EQ(rl.check(c, kT0 + seconds(60) + milliseconds(100 * i)), RateDecision::kPass) << i;
}

TEST(PolicyRateLimiterTest, TimeGoingBackwardsGrantsNothing) {
  RateLimiter rl(opts(10, 2));
  const auto c = ip("192.0.2.1");
  EXPECT_EQ(passes_at(rl, c, kT0), 2);
  EXPECT_EQ(passes_at(rl, c, kT0 - seconds(10)), 0);
  EXPECT_EQ(passes_at(rl, c, kT0 + milliseconds(100)), 1);
}

TEST(PolicyRateLimiterTest, SlipsEveryNthQueryOverTheLimit) {
  RateLimiter rl(opts(1, 1, 3));
  const auto c = ip("192.0.2.1");
  EXPECT_EQ(rl.check(c, kT0), RateDecision::kPass);
  std::vector<RateDecision> got;
  for (int i = 0; i < 6; ++i) got.push_back(rl.check(c, kT0));
  const std::vector<RateDecision> want = {RateDecision::kDrop, RateDecision::kDrop,
                                          RateDecision::kSlip, RateDecision::kDrop,
                                          RateDecision::kDrop, RateDecision::kSlip};
  EXPECT_EQ(got, want);

  RateLimiter every(opts(1, 1, 1));
  EXPECT_EQ(every.check(c, kT0), RateDecision::kPass);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(every.check(c, kT0), RateDecision::kSlip);

  RateLimiter def(RateLimitOptions{.queries_per_second = 1});  // default slip 2
  EXPECT_EQ(def.check(c, kT0), RateDecision::kPass);
  EXPECT_EQ(def.check(c, kT0), RateDecision::kDrop);
  EXPECT_EQ(def.check(c, kT0), RateDecision::kSlip);
}

TEST(PolicyRateLimiterTest, DropsEverythingOverTheLimitWhenSlipIsZero) {
  RateLimiter rl(opts(1, 1, 0));
  const auto c = ip("192.0.2.1");
  EXPECT_EQ(rl.check(c, kT0), RateDecision::kPass);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(rl.check(c, kT0), RateDecision::kDrop);
}

TEST(PolicyRateLimiterTest, GroupsIpv4ClientsPerSlash24) {
  RateLimiter rl(opts(1, 2));
  EXPECT_EQ(rl.check(ip("10.0.0.1"), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(ip("10.0.0.200"), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(ip("10.0.0.1"), kT0), RateDecision::kDrop);  // the /24's bucket is empty
  EXPECT_EQ(rl.check(ip("10.0.0.255"), kT0), RateDecision::kDrop);
  EXPECT_EQ(rl.check(ip("10.0.1.1"), kT0), RateDecision::kPass);  // another /24
  EXPECT_EQ(rl.check(ip("11.0.0.1"), kT0), RateDecision::kPass);
  // A dual-stack socket's mapped form is the same client.
  EXPECT_EQ(rl.check(ip("::ffff:10.0.0.7"), kT0), RateDecision::kDrop);
  EXPECT_EQ(rl.buckets(), 3u);
}

TEST(PolicyRateLimiterTest, Ipv4PrefixIsConfigurable) {
  RateLimitOptions o = opts(1, 1);
  o.ipv4_prefix = 32;
  RateLimiter rl(o);
  EXPECT_EQ(rl.check(ip("10.0.0.1"), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(ip("10.0.0.2"), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(ip("10.0.0.1"), kT0), RateDecision::kDrop);
}

TEST(PolicyRateLimiterTest, GroupsIpv6ClientsPerSlash56) {
  RateLimiter rl(opts(1, 2));
  EXPECT_EQ(rl.check(ip("2001:db8:0:1::1"), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(ip("2001:db8:0:ff:ffff::1"), kT0), RateDecision::kPass);  // same /56
  EXPECT_EQ(rl.check(ip("2001:db8:0:42::9"), kT0), RateDecision::kDrop);
  EXPECT_EQ(rl.check(ip("2001:db8:0:100::1"), kT0), RateDecision::kPass);  // next /56
  EXPECT_EQ(rl.check(ip("2001:db9:0:1::1"), kT0), RateDecision::kPass);
  // An IPv6 client whose low 32 bits match an IPv4 client is still another client.
  EXPECT_EQ(rl.check(ip("::10.0.0.1"), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(ip("10.0.0.1"), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.buckets(), 5u);
}

TEST(PolicyRateLimiterTest, TableNeverExceedsItsBoundAndCountsEvictions) {
  RateLimitOptions o = opts(100, 100);
  o.max_buckets = 1000;
  RateLimiter rl(o);
  constexpr std::uint32_t kClients = 1'000'000;
  std::size_t peak = 0;
  for (std::uint32_t i = 0; i < kClients; ++i) {
    // Distinct /24s: 1.0.0.x, 1.0.1.x, ... (i << 8 walks the /24s).
    EXPECT_EQ(rl.check(v4(0x01000000u + (i << 8)), kT0), RateDecision::kPass);
    peak = std::max(peak, rl.buckets());
  }
  EXPECT_EQ(peak, 1000u);
  EXPECT_EQ(rl.buckets(), 1000u);
  EXPECT_EQ(rl.evictions(), kClients - 1000);
}

TEST(PolicyRateLimiterTest, EvictsTheLeastRecentlyUsedBucket) {
  RateLimitOptions o = opts(1, 1);
  o.max_buckets = 2;
  RateLimiter rl(o);
  const auto a = ip("192.0.2.1"), b = ip("198.51.100.1"), c = ip("203.0.113.1");
  EXPECT_EQ(rl.check(a, kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(b, kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(a, kT0), RateDecision::kDrop);  // a is now the most recent
  EXPECT_EQ(rl.check(c, kT0), RateDecision::kPass);  // evicts b
  EXPECT_EQ(rl.evictions(), 1u);
  EXPECT_EQ(rl.check(a, kT0), RateDecision::kDrop);  // a kept its empty bucket
  EXPECT_EQ(rl.check(b, kT0), RateDecision::kPass);  // b starts afresh (evicts c)
  EXPECT_EQ(rl.check(c, kT0), RateDecision::kPass);  // and c afresh again (evicts a)
  EXPECT_EQ(rl.evictions(), 3u);
  EXPECT_EQ(rl.buckets(), 2u);
}

TEST(PolicyRateLimiterTest, DisabledPassesEverythingAndKeepsNoState) {
  RateLimiter rl(RateLimitOptions{});
  EXPECT_FALSE(rl.enabled());
  for (std::uint32_t i = 0; i < 10000; ++i)
    EXPECT_EQ(rl.check(v4(0x0a000001), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.check(ip("2001:db8::1"), kT0), RateDecision::kPass);
  EXPECT_EQ(rl.buckets(), 0u);
  EXPECT_EQ(rl.evictions(), 0u);
  EXPECT_TRUE(RateLimiter(opts(1, 0)).enabled());
}

}  // namespace
}  // namespace dp::policy
