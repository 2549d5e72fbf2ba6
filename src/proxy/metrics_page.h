// The /metrics, /healthz and /readyz pages: every worker's counters summed, the shared
// cache's, and per-upstream gauges, in the Prometheus text format with names dotproxy_*.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cache/shard.h"
#include "proxy/worker_snapshot.h"

namespace dp::proxy {

struct MetricsInput {
  std::vector<WorkerSnapshot> workers;  // those that answered in time
  std::size_t workers_configured = 0;
  std::optional<cache::ShardStats> cache;  // nullopt: caching off
  std::uint64_t cache_budget_bytes = 0;
  std::uint64_t bugs = 0;     // DP_BUG conditions hit
  std::int64_t now_unix = 0;  // for "seconds until the certificate expires"
};

std::string metrics_render(const MetricsInput& input);

// /readyz: every worker answered and at least one upstream is out of back-off. `why` says
// what is missing when not.
bool metrics_ready(const MetricsInput& input, std::string* why);

}  // namespace dp::proxy
