// The per-query policy checks on the guard path: a 20-rule ACL scan and a warm rate limiter.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <vector>

#include "policy/acl.h"
#include "policy/rate_limiter.h"

namespace dp::policy {
namespace {

// 18 rules that do not match the probe, then the match, then a catch-all: the worst useful case.
Acl twenty_rules() {
  std::vector<AclRule> rules;
  for (int i = 0; i < 9; ++i) {
    rules.push_back(*acl_rule_parse("10." + std::to_string(i) + ".0.0/16 allow"));
    rules.push_back(*acl_rule_parse("2001:db8:" + std::to_string(i) + "::/48 allow"));
  }
  rules.push_back(*acl_rule_parse("192.0.2.0/24 allow"));
  rules.push_back(*acl_rule_parse("0.0.0.0/0 drop"));
  return Acl(std::move(rules));
}

void BM_AclCheck20RulesV4(benchmark::State& state) {
  const Acl acl = twenty_rules();
  const auto client = *SocketAddress::from_ip("192.0.2.9", 5353);
  for (auto _ : state) benchmark::DoNotOptimize(acl.check(client));
}
BENCHMARK(BM_AclCheck20RulesV4);

void BM_AclCheck20RulesMappedV4(benchmark::State& state) {
  const Acl acl = twenty_rules();
  const auto client = *SocketAddress::from_ip("::ffff:192.0.2.9", 5353);
  for (auto _ : state) benchmark::DoNotOptimize(acl.check(client));
}
BENCHMARK(BM_AclCheck20RulesMappedV4);

void BM_AclCheckDefaultsV6(benchmark::State& state) {
  const Acl acl = Acl::defaults();
  const auto client = *SocketAddress::from_ip("2001:db8::1", 5353);  // no match: full scan
  for (auto _ : state) benchmark::DoNotOptimize(acl.check(client));
}
BENCHMARK(BM_AclCheckDefaultsV6);

SocketAddress v4(std::uint32_t host_order) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(host_order);
  return SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

// Warm table of `range(0)` client /24s, queried round robin: the hit path.
void BM_RateLimiterWarm(benchmark::State& state) {
  const auto clients = static_cast<std::uint32_t>(state.range(0));
  RateLimiter rl(RateLimitOptions{.queries_per_second = 1e6, .burst = 1e6});
  std::vector<SocketAddress> addrs;
  for (std::uint32_t i = 0; i < clients; ++i) addrs.push_back(v4(0x0a000000u + (i << 8)));
  TimePoint now{};
  for (const auto& a : addrs) benchmark::DoNotOptimize(rl.check(a, now));
  std::size_t i = 0;
  for (auto _ : state) {
    now += std::chrono::microseconds(1);
    benchmark::DoNotOptimize(rl.check(addrs[i], now));
    if (++i == addrs.size()) i = 0;
  }
}
BENCHMARK(BM_RateLimiterWarm)->Arg(1)->Arg(1000)->Arg(65536);

// Every query from a new /24 with the table full: the eviction path a spoofed flood takes.
void BM_RateLimiterEvicting(benchmark::State& state) {
  RateLimiter rl(RateLimitOptions{.queries_per_second = 10, .max_buckets = 65536});
  TimePoint now{};
  std::uint32_t next = 0;
  for (; next < 65536; ++next) benchmark::DoNotOptimize(rl.check(v4(next << 8), now));
  for (auto _ : state) benchmark::DoNotOptimize(rl.check(v4(++next << 8), now));
  state.counters["evictions"] = static_cast<double>(rl.evictions());
}
BENCHMARK(BM_RateLimiterEvicting);

void BM_RateLimiterDisabled(benchmark::State& state) {
  RateLimiter rl(RateLimitOptions{});
  const auto client = v4(0x0a000001);
  for (auto _ : state) benchmark::DoNotOptimize(rl.check(client, TimePoint{}));
}
BENCHMARK(BM_RateLimiterDisabled);

}  // namespace
}  // namespace dp::policy
