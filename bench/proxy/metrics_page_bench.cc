// One /metrics scrape: every worker's counters summed and the page rendered, as the metrics
// thread does for each request. Off the hot path, but measured so a change of writer shows.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "bench/alloc_count.h"
#include "proxy/metrics_page.h"

namespace dp::proxy {
namespace {

// Four workers with three upstreams each and every counter non-zero.
MetricsInput input_make() {
  MetricsInput in;
  in.workers_configured = 4;
  in.cache =
      cache::ShardStats{.inserts = 1'000, .evicted_lru = 10, .entries = 900, .bytes = 1 << 20};
  in.cache_budget_bytes = 64 << 20;
  in.now_unix = 1'700'000'000;
  for (int w = 0; w < 4; ++w) {
    WorkerSnapshot s;
    s.queries.queries_udp = 123'456;
    s.queries.cache_hits = 100'000;
    s.queries.cache_misses = 23'456;
    for (std::size_t r = 0; r < 6; ++r) s.queries.replies_by_rcode[r] = 1'000 + r;
    s.pool.queries = 23'456;
    s.pool.handshakes = 10;
    s.pool.handshakes_resumed = 5;
    s.routes.emplace_back();  // the default upstreams
    for (int u = 0; u < 3; ++u) {
      upstream::UpstreamStatus status;
      status.name = "192.0.2." + std::to_string(u) + "@853#dns" + std::to_string(u) + ".test";
      status.open_connections = 2;
      status.usable = true;
      for (int i = 0; i < 100; ++i) status.latency.observe(std::chrono::microseconds(300 * i));
      status.certificate_expiry = in.now_unix + 86'400;
      s.routes.front().servers.push_back(status);
    }
    in.workers.push_back(s);
  }
  return in;
}

void BM_MetricsRender(benchmark::State& state) {
  const MetricsInput in = input_make();
  std::size_t bytes = 0;
  const auto before = bench::allocations();
  for (auto _ : state) {
    const std::string text = metrics_render(in);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["allocs/op"] =
      static_cast<double>(bench::allocations() - before) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_MetricsRender);

}  // namespace
}  // namespace dp::proxy
