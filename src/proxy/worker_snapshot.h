// What one worker's counters say at a scrape: copied on the worker's own thread (so the hot
// path needs no atomics) and summed across workers by the metrics page.
#pragma once

#include <string>
#include <vector>

#include "metrics/counters.h"
#include "proxy/query_stats.h"
#include "proxy/route_pools.h"
#include "proxy/tls_stats.h"
#include "upstream/pool.h"
#include "upstream/pool_stats.h"

namespace dp::proxy {

// clang-format off
#define DP_WORKER_SNAPSHOT_COUNTS(X) \
  X(metrics::Count, tcp_clients, "dotproxy_tcp_clients", "", "Client TCP connections open.") \
  /* Over a connection cap (part of dotproxy_dropped_total). */ \
  X(metrics::Count, tcp_clients_refused, "", "", "") \
  /* Upstream queries the in-flight table waits for. */ \
  X(metrics::Count, flights, "dotproxy_in_flight_queries", "", \
    "Distinct upstream queries clients wait for.") \
  /* The pool's queries in flight or queued. */ \
  X(metrics::Count, upstream_pending, "dotproxy_upstream_pending_queries", "", \
    "Queries in flight or queued in the pool.") \
  /* The DNSSEC key cache (each worker's own) and the answers waiting for their keys. */ \
  X(metrics::Count, key_cache_entries, "dotproxy_dnssec_key_cache_entries", "", \
    "Names the DNSSEC key cache knows (zones and their keys, delegations, denials).") \
  X(metrics::Count, key_cache_bytes, "dotproxy_dnssec_key_cache_bytes", "", \
    "Bytes the DNSSEC key cache holds, about.") \
  X(metrics::Count, key_cache_hits, "dotproxy_dnssec_key_cache_lookups_total", "result=hit", \
    "Key cache lookups while walking chains of trust.") \
  X(metrics::Count, key_cache_misses, "dotproxy_dnssec_key_cache_lookups_total", "result=miss", \
    "") \
  X(metrics::Count, validations_waiting, "dotproxy_dnssec_validations_waiting", "", \
    "Upstream answers waiting for DS or DNSKEY fetches.") \
  X(metrics::Count, anchor_warnings, "dotproxy_dnssec_anchor_warnings_total", "", \
    "Key-signing keys no trust anchor covers, and revoked anchors, seen in DNSKEY answers.") \
  X(metrics::Count, dnssec_upstream_unusable, "dotproxy_dnssec_upstream_unusable", "", \
    "1 while the upstream strips DNSSEC records (its root DNSKEY answer has no RRSIG).") \
  X(metrics::Count, dnssec_clock_untrusted, "dotproxy_dnssec_clock_untrusted", "", \
    "1 while the clock is before the build's release date: validation acts as permissive.")
// clang-format on

struct WorkerSnapshot {
  QueryStats queries;
  TlsStats tls;  // the DoT listener's
  upstream::PoolStats pool;
  // [0] the default upstreams, then the forward zones' (with servers), each in the configured
  // order. The page sums them by name, not by position.
  std::vector<RouteStatus> routes;
  // --dnssec validate only: why validation cannot work through the upstream ("" when it can).
  std::string dnssec_problem;
  DP_WORKER_SNAPSHOT_COUNTS(DP_METRICS_DECLARE)

  // Adds `other`'s counters (not its routes, which the page sums by name).
  void counts_add(const WorkerSnapshot& other) {
    queries += other.queries;
    tls += other.tls;
    pool += other.pool;
    DP_WORKER_SNAPSHOT_COUNTS(DP_METRICS_ADD)
  }
};

}  // namespace dp::proxy
