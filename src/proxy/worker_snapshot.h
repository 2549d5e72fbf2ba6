// What one worker's counters say at a scrape: copied on the worker's own thread (so the hot
// path needs no atomics) and summed across workers by the metrics page.
#pragma once

#include <cstdint>
#include <vector>

#include "proxy/query_stats.h"
#include "proxy/tls_stats.h"
#include "upstream/pool.h"
#include "upstream/pool_stats.h"

namespace dp::proxy {

struct WorkerSnapshot {
  QueryStats queries;
  TlsStats tls;  // the DoT listener's
  upstream::PoolStats pool;
  std::vector<upstream::UpstreamStatus> upstreams;  // in the configured order
  std::uint64_t tcp_clients = 0;                    // open now
  std::uint64_t tcp_clients_refused = 0;            // over a connection cap
  std::uint64_t flights = 0;           // upstream queries the in-flight table waits for
  std::uint64_t upstream_pending = 0;  // the pool's queries in flight or queued
};

}  // namespace dp::proxy
