// Counters of one worker's query handling, each declared once below with its /metrics sample
// (dotproxy_queries_total, dotproxy_cache_*_total, ...; proxy/metrics_page.cc renders them).
#pragma once

#include <array>
#include <cstdint>

#include "dns/message.h"
#include "dnssec/status.h"
#include "metrics/counters.h"

namespace dp::proxy {

// Replies by header rcode, extended rcodes (RFC 6891 §6.1.3) up to BADVERS and a little past.
struct RcodeCounts : std::array<std::uint64_t, 24> {};
static_assert(RcodeCounts{}.size() > static_cast<std::size_t>(dns::Rcode::kBadVers));

// clang-format off
#define DP_QUERY_STATS_COUNTS(X) \
  X(metrics::Count, queries_udp, "dotproxy_queries_total", "transport=udp", \
    "DNS messages received from clients.") \
  X(metrics::Count, queries_tcp, "dotproxy_queries_total", "transport=tcp", "") \
  X(metrics::CountByEnum<dns::QueryError>, rejected, "dotproxy_rejected_total", "reason", \
    "Client messages that were not valid queries, by reason.") \
  X(RcodeCounts, replies_by_rcode, "dotproxy_responses_total", "rcode", \
    "Replies sent to clients, by header rcode.") \
  X(metrics::Count, replies_truncated, "dotproxy_responses_truncated_total", "", \
    "Replies sent with TC=1.") \
  X(metrics::Count, servfail_upstream, "dotproxy_servfail_upstream_total", "", \
    "Replies that were SERVFAIL because no upstream answered.") \
  X(metrics::Count, acl_refused, "dotproxy_acl_refused_total", "", \
    "Queries refused by the ACL (REFUSED, EDE 18).") \
  X(metrics::Count, acl_dropped, "", "", "Queries dropped by an ACL drop rule.") \
  X(metrics::Count, rate_limited, "", "", "Queries over the rate limit, dropped.") \
  X(metrics::Count, rate_slipped, "dotproxy_rate_limit_slipped_total", "", \
    "Queries over the rate limit answered with TC=1 instead of dropped.") \
  X(metrics::Count, local_answers, "dotproxy_local_answers_total", "", \
    "Queries answered here: local data, hosts files, local zones (RFC 6761/6303/8375).") \
  X(metrics::Count, blocked, "dotproxy_blocked_total", "", "Queries for a blocklisted name.") \
  X(metrics::Count, loop_guarded, "dotproxy_loop_guard_total", "", \
    "Queries from a forward zone's own server for a name in that zone: SERVFAIL, not forwarded.") \
  /* The cache path: every query past the guard is one hit or one miss. */ \
  X(metrics::Count, cache_hits, "dotproxy_cache_hits_total", "", \
    "Queries answered from the cache at once (fresh, or stale after a failed refresh).") \
  X(metrics::Count, cache_misses, "dotproxy_cache_misses_total", "", \
    "Queries that waited for an upstream answer.") \
  X(metrics::Count, stale_served, "dotproxy_cache_stale_served_total", "", \
    "Stale answers served (RFC 8767).") \
  X(metrics::Count, prefetches, "dotproxy_cache_prefetches_total", "", \
    "Background refreshes of entries hit near the end of their TTL.") \
  X(metrics::Count, coalesced, "dotproxy_cache_coalesced_total", "", \
    "Misses that joined an identical query already in flight.") \
  X(metrics::Count, waiting_overloaded, "", "", \
    "Queries answered SERVFAIL at once: too many clients waiting already.") \
  X(metrics::Count, query_log_dropped, "dotproxy_query_log_dropped_total", "", \
    "Query log lines dropped because the writer was behind (--query-log).") \
  /* dnstap: queued for the writer thread (written while the collector is there, discarded */ \
  /* by libfstrm while it is not), or dropped because the worker's queue was full. */ \
  X(metrics::Count, dnstap_queued, "dotproxy_dnstap_messages_total", "result=queued", \
    "dnstap messages handed to the writer (queued) or dropped with its queue full (--dnstap).") \
  X(metrics::Count, dnstap_dropped, "dotproxy_dnstap_messages_total", "result=dropped", "") \
  /* DNSSEC (--dnssec permissive|validate): every validated upstream answer once. */ \
  X(metrics::CountByEnum<dnssec::Status>, dnssec_answers, "dotproxy_dnssec_answers_total", \
    "status", "Upstream answers validated, by DNSSEC status.") \
  X(metrics::CountByEnum<dnssec::EdeSlot>, dnssec_failed, "dotproxy_dnssec_failed_total", "ede", \
    "Validated answers that failed (bogus, or their keys could not be fetched), by EDE.") \
  X(metrics::Count, dnssec_fetches, "dotproxy_dnssec_fetches_total", "", \
    "DS and DNSKEY queries validation sent (divide by answers: fetches per miss).") \
  X(metrics::CountByEnum<dnssec::AlgorithmSlot>, dnssec_verifications, \
    "dotproxy_dnssec_verifications_total", "algorithm", \
    "Signature verifications done for validated answers, by DNSKEY algorithm.") \
  X(metrics::Count, dnssec_limits_tripped, "dotproxy_dnssec_limits_tripped_total", "", \
    "Answers a KeyTrap, fetch or CNAME limit stopped (RFC 9276, CVE-2023-50387).") \
  X(metrics::Count, dnssec_validation_us, "dotproxy_dnssec_validation_microseconds_total", "", \
    "Time from an upstream answer to its verdict, key fetches included.")
// clang-format on

// Plain integers: one per worker thread, summed on read (no atomics on the hot path).
struct QueryStats {
  DP_QUERY_STATS_COUNTS(DP_METRICS_DECLARE)

  QueryStats& operator+=(const QueryStats& other) {
    DP_QUERY_STATS_COUNTS(DP_METRICS_ADD)
    return *this;
  }
};

}  // namespace dp::proxy
