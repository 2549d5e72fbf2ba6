// The local-zone check that runs on every client query before it may go upstream: a miss (the
// common case, must not allocate) and a hit that builds the local reply.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"
#include "dns/local_zones.h"
#include "dns/message.h"

namespace dp::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;
using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;

Query client_query(const char* name, ldns_rr_type type) {
  ldns_pkt* raw = nullptr;
  ldns_pkt_query_new_frm_str(&raw, name, type, LDNS_RR_CLASS_IN, LDNS_RD);
  const PacketPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), 0x1234);
  ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
  ldns_pkt2wire(&data, pkt.get(), &size);
  const Bytes wire(data, data + size);
  std::free(data);  // NOLINT: ldns allocates with malloc
  auto query = query_parse(wire);
  if (!query.has_value()) std::abort();
  return *query;
}

void run(benchmark::State& state, const char* name, ldns_rr_type type) {
  const LocalZones zones = LocalZones::defaults();
  const Query query = client_query(name, type);
  for (auto _ : state) {
    auto reply = zones.answer(query);
    benchmark::DoNotOptimize(reply);
  }
}

void BM_LocalZonesMiss(benchmark::State& state) { run(state, "www.example.com.", LDNS_RR_TYPE_A); }
BENCHMARK(BM_LocalZonesMiss);

// Longest name on the miss path: 34 labels, each suffix a candidate.
void BM_LocalZonesMissIp6Reverse(benchmark::State& state) {
  run(state, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.3.ip6.arpa.",
      LDNS_RR_TYPE_PTR);
}
BENCHMARK(BM_LocalZonesMissIp6Reverse);

void BM_LocalZonesHitLocalhost(benchmark::State& state) {
  run(state, "localhost.", LDNS_RR_TYPE_A);
}
BENCHMARK(BM_LocalZonesHitLocalhost);

void BM_LocalZonesHitPrivateReverse(benchmark::State& state) {
  run(state, "1.0.168.192.in-addr.arpa.", LDNS_RR_TYPE_PTR);
}
BENCHMARK(BM_LocalZonesHitPrivateReverse);

}  // namespace
}  // namespace dp::dns
