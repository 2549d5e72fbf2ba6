// Counters of one worker's upstream pool, each declared once below with its /metrics sample
// (dotproxy_upstream_*; proxy/metrics_page.cc renders them).
#pragma once

#include "metrics/counters.h"
#include "upstream/upstream.h"

namespace dp::upstream {

// clang-format off
#define DP_POOL_STATS_COUNTS(X) \
  X(metrics::Count, queries, "dotproxy_upstream_queries_total", "", \
    "Queries given to the upstream pool.") \
  X(metrics::Count, answers, "dotproxy_upstream_answers_total", "", \
    "Answers the upstream pool delivered.") \
  X(metrics::Count, retries, "dotproxy_upstream_retries_total", "", \
    "Queries re-sent after their connection failed.") \
  X(metrics::Count, hedges, "dotproxy_upstream_hedges_total", "", \
    "Queries also sent to a second upstream because the first was slow.") \
  X(metrics::Count, rcode_retries, "dotproxy_upstream_rcode_retries_total", "", \
    "SERVFAIL/REFUSED answers retried on another upstream.") \
  X(metrics::CountByEnum<UpstreamError>, failures, "dotproxy_upstream_failures_total", "cause", \
    "Upstream queries that got no answer, by cause.") \
  X(metrics::Count, connections_opened, "dotproxy_upstream_connections_opened_total", "", \
    "Upstream TCP connections opened, with TLS or without.") \
  X(metrics::Count, handshakes, "", "", "TLS handshakes completed, full or resumed.") \
  X(metrics::Count, handshakes_resumed, "", "", "Of those, resumed from a ticket or session.") \
  X(metrics::Count, answers_unknown_id, "dotproxy_upstream_answers_discarded_total", \
    "reason=unknown_id", "Upstream answers discarded: unknown_id (late or never asked), " \
    "mismatched (question or format wrong; never cached), udp_mismatched (over UDP: wrong ID " \
    "or question).") \
  X(metrics::Count, answers_mismatched, "dotproxy_upstream_answers_discarded_total", \
    "reason=mismatched", "") \
  X(metrics::Count, udp_mismatched, "dotproxy_upstream_answers_discarded_total", \
    "reason=udp_mismatched", "") \
  X(metrics::Count, udp_queries, "dotproxy_upstream_udp_queries_total", "", \
    "Queries sent over UDP, each from a socket of its own.") \
  X(metrics::Count, udp_truncated, "dotproxy_upstream_udp_truncated_total", "", \
    "UDP answers with TC=1: the query went again over TCP.") \
  X(metrics::Count, udp_errors, "dotproxy_upstream_udp_errors_total", "", \
    "UDP sockets that could not be opened or written, and ICMP errors they reported.")
// clang-format on

// Plain integers: one pool per worker thread, so no atomics on the hot path.
struct PoolStats {
  DP_POOL_STATS_COUNTS(DP_METRICS_DECLARE)

  PoolStats& operator+=(const PoolStats& other) {
    DP_POOL_STATS_COUNTS(DP_METRICS_ADD)
    return *this;
  }
};

}  // namespace dp::upstream
