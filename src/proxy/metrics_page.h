// The /metrics, /healthz and /readyz pages: every worker's counters summed, the shared
// cache's, and per-upstream gauges, in the Prometheus text format with names dotproxy_*.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/shard.h"
#include "proxy/worker_snapshot.h"

namespace dp::proxy {

// Control channel commands (control/) by name and result, counted since start.
struct ControlCount {
  std::string command;  // "flush", ...; "invalid" for a request that did not parse
  std::string result;   // "ok" or "error"
  std::uint64_t count = 0;
};

// Owned by the Server; add() from the control thread, read() from a scrape: any thread.
class ControlCounters {
 public:
  void add(std::string_view command, bool ok);
  std::vector<ControlCount> read() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> counts_;
};

struct MetricsInput {
  std::vector<WorkerSnapshot> workers;  // those that answered in time
  std::size_t workers_configured = 0;
  std::optional<cache::ShardStats> cache;  // nullopt: caching off
  std::uint64_t cache_budget_bytes = 0;
  std::uint64_t bugs = 0;     // DP_BUG conditions hit
  std::int64_t now_unix = 0;  // for "seconds until the certificate expires"
  std::vector<ControlCount> control;
};

std::string metrics_render(const MetricsInput& input);
// The same samples as one JSON object on one line (metrics::Exposition::json), for
// `dotproxy ctl stats`.
std::string metrics_render_json(const MetricsInput& input);

// /readyz: every worker answered and at least one upstream is out of back-off. `why` says
// what is missing when not.
bool metrics_ready(const MetricsInput& input, std::string* why);
// What /readyz adds to "ready" (or ""): validation is permissive while the clock is wrong.
std::string metrics_dnssec_note(const MetricsInput& input);

}  // namespace dp::proxy
