// The route lookup every client query makes before the cache: with 1, 100 and 10,000 forward
// zones, a name outside every zone (the common case) and a name inside one. Must not allocate.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "dns/local_zones.h"
#include "zones/route_table.h"

namespace dp::zones {
namespace {

// `count` zones like a large split-DNS setup: zone0.corp.example, zone1.corp.example ...,
// plus cluster.local, with the built-in local zones in force.
RouteTable table_with(std::size_t count) {
  std::vector<ForwardZoneEntry> zones;
  zones.push_back({name_text_to_wire("cluster.local"), false});
  for (std::size_t i = 1; i < count; ++i) {
    zones.push_back({name_text_to_wire("zone" + std::to_string(i) + ".corp.example"), false});
  }
  return route_table_build(zones, dns::LocalZones::default_apexes()).table;
}

void run(benchmark::State& state, const char* name) {
  const RouteTable table = table_with(static_cast<std::size_t>(state.range(0)));
  const std::string wire = name_text_to_wire(name);
  for (auto _ : state) {
    const Route route = table.route_find(wire);
    benchmark::DoNotOptimize(route);
  }
}

void BM_RouteFindOutside(benchmark::State& state) { run(state, "www.example.com"); }
BENCHMARK(BM_RouteFindOutside)->Arg(1)->Arg(100)->Arg(10'000);

void BM_RouteFindInZone(benchmark::State& state) {
  run(state, "my-svc.my-namespace.svc.cluster.local");
}
BENCHMARK(BM_RouteFindInZone)->Arg(1)->Arg(100)->Arg(10'000);

// Longest name a client sends in practice: every suffix of 34 labels is a candidate.
void BM_RouteFindIp6Reverse(benchmark::State& state) {
  run(state, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.3.ip6.arpa");
}
BENCHMARK(BM_RouteFindIp6Reverse)->Arg(100);

}  // namespace
}  // namespace dp::zones
