// The whole per-query path of a worker minus the socket: guard, parse and validate, cache
// lookup and rebuild (a hit), or the miss path through the in-flight table to an upstream
// that answers at once.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "bench/alloc_count.h"
#include "bench/bench_packets.h"
#include "proxy/query_handler.h"

namespace dp::proxy {
namespace {

using bench::Bytes;

Bytes packet(const char* name, bool answer) {
  return answer ? bench::answer_wire(name, 1, 0x1234) : bench::query_wire(name, 0x1234);
}

// Answers every query at once with the same answer (ID and question as asked).
struct InstantUpstream final : upstream::Upstream {
  Bytes answer = packet("www.example.com.", true);
  void resolve(std::span<const std::uint8_t>, const dns::Question&, Callback done) override {
    done(upstream::UpstreamResult(std::span<const std::uint8_t>(answer)));
  }
};

struct NullSink final : ReplySink {
  std::size_t bytes = 0;
  void reply_send(const ClientRef&, std::span<const std::uint8_t> reply) override {
    bytes += reply.size();
  }
};

// The default configuration's names (the built-in local zones) plus `zones` forward zones
// z1.zones.example ..., none of which the benchmark's name is in (issue #15: routing must cost
// a hit nothing measurable).
QueryPolicy policy_with_zones(std::size_t zones) {
  std::vector<zones::ForwardZoneEntry> entries;
  for (std::size_t z = 1; z <= zones; ++z) {
    entries.push_back(
        {zones::name_text_to_wire("z" + std::to_string(z) + ".zones.example"), false});
  }
  zones::RouteTableBuild built =
      zones::route_table_build(entries, dns::LocalZones::default_apexes());
  QueryPolicy policy = QueryPolicy::open();
  policy.names = std::make_shared<const NameRoutes>(
      NameRoutes{zones::LocalData{}, std::move(built.table), std::move(built.local_zones)});
  return policy;
}

void BM_HandleCacheHit(benchmark::State& state) {
  io::EventLoop loop;
  InstantUpstream upstream;
  NullSink sink;
  QueryStats stats;
  cache::Cache cache(cache::CacheOptions{});
  SteadyTimeSource clock;
  CachedResolver resolver(loop, upstream, sink, stats, &cache, ResolveOptions{}, clock);
  const auto zones = static_cast<std::size_t>(state.range(0));
  QueryHandler handler(resolver, sink, stats, policy_with_zones(zones));
  handler.set_zone_routes(std::vector<ZoneRoute>(zones, ZoneRoute{RouteTarget{&upstream, {}}}));
  const Bytes query = packet("WwW.ExAmPlE.CoM.", false);
  const ClientRef client{Transport::kUdp, 0, *SocketAddress::parse("127.0.0.1:5300"), 0};
  handler.handle(query, client);  // the miss that fills the cache
  const std::uint64_t before = bench::allocations();
  for (auto _ : state) handler.handle(query, client);
  state.counters["allocs_per_hit"] = benchmark::Counter(
      static_cast<double>(bench::allocations() - before) / static_cast<double>(state.iterations()));
  if (stats.cache_hits + 1 != stats.queries_udp) state.SkipWithError("not all were cache hits");
}
BENCHMARK(BM_HandleCacheHit)->Arg(0)->Arg(100)->Arg(10'000);

void BM_HandleMissToInstantUpstream(benchmark::State& state) {
  io::EventLoop loop;
  InstantUpstream upstream;
  NullSink sink;
  QueryStats stats;
  SteadyTimeSource clock;
  CachedResolver resolver(loop, upstream, sink, stats, nullptr, ResolveOptions{},
                          clock);  // no cache: every query is a miss
  QueryHandler handler(resolver, sink, stats);
  const Bytes query = packet("WwW.ExAmPlE.CoM.", false);
  const ClientRef client{Transport::kUdp, 0, *SocketAddress::parse("127.0.0.1:5300"), 0};
  const std::uint64_t before = bench::allocations();
  for (auto _ : state) handler.handle(query, client);
  state.counters["allocs_per_miss"] = benchmark::Counter(
      static_cast<double>(bench::allocations() - before) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_HandleMissToInstantUpstream);

}  // namespace
}  // namespace dp::proxy
