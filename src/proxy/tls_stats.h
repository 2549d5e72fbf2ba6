// Counters of one worker's DoT listener, each declared once below with its /metrics sample
// (dotproxy_tls_*; proxy/metrics_page.cc renders them).
#pragma once

#include "metrics/counters.h"
#include "tls/server_session.h"

namespace dp::proxy {

// clang-format off
#define DP_TLS_STATS_COUNTS(X) \
  X(metrics::Count, handshakes_completed, "dotproxy_tls_handshakes_total", "result=completed", \
    "TLS handshakes of clients on --listen-tls, by outcome.") \
  /* Of those, resumed from a session ticket. */ \
  X(metrics::Count, handshakes_resumed, "dotproxy_tls_handshakes_total", "result=resumed", "") \
  X(metrics::CountByEnum<tls::HandshakeFailure>, handshakes_failed, \
    "dotproxy_tls_handshakes_total", "result", "") \
  /* Not done within --tcp-read-timeout: closed. */ \
  X(metrics::Count, handshakes_timed_out, "dotproxy_tls_handshakes_total", "result=timed_out", "") \
  /* The client left before the handshake was done. */ \
  X(metrics::Count, handshakes_abandoned, "dotproxy_tls_handshakes_total", "result=abandoned", "") \
  /* Over --tls-handshake-rate: closed at accept. */ \
  X(metrics::Count, handshakes_rate_limited, "dotproxy_tls_handshakes_total", \
    "result=rate_limited", "") \
  X(metrics::Count, records_failed, "dotproxy_tls_records_failed_total", "", \
    "Client TLS connections closed for a bad record after the handshake.")
// clang-format on

// Plain integers: one per worker thread, summed on read.
struct TlsStats {
  DP_TLS_STATS_COUNTS(DP_METRICS_DECLARE)

  TlsStats& operator+=(const TlsStats& other) {
    DP_TLS_STATS_COUNTS(DP_METRICS_ADD)
    return *this;
  }
};

}  // namespace dp::proxy
