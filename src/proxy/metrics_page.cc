#include "proxy/metrics_page.h"

#include <map>

#include "dns/message.h"
#include "dns/question_text.h"
#include "dotproxy_version.h"
#include "metrics/prometheus.h"

namespace dp::proxy {
namespace {

using metrics::PrometheusText;

// Sums of the per-worker counters.
struct Totals {
  QueryStats q;
  TlsStats tls;
  upstream::PoolStats pool;
  std::uint64_t tcp_clients = 0;
  std::uint64_t tcp_clients_refused = 0;
  std::uint64_t flights = 0;
  std::uint64_t upstream_pending = 0;
};

template <std::size_t N>
void add_array(std::array<std::uint64_t, N>& to, const std::array<std::uint64_t, N>& from) {
  for (std::size_t i = 0; i < N; ++i) to[i] += from[i];
}

Totals sum(const std::vector<WorkerSnapshot>& workers) {
  Totals t;
  for (const WorkerSnapshot& w : workers) {
    const QueryStats& q = w.queries;
    t.q.queries_udp += q.queries_udp;
    t.q.queries_tcp += q.queries_tcp;
    add_array(t.q.rejected, q.rejected);
    add_array(t.q.replies_by_rcode, q.replies_by_rcode);
    t.q.replies_truncated += q.replies_truncated;
    t.q.servfail_upstream += q.servfail_upstream;
    t.q.acl_refused += q.acl_refused;
    t.q.acl_dropped += q.acl_dropped;
    t.q.rate_limited += q.rate_limited;
    t.q.rate_slipped += q.rate_slipped;
    t.q.local_answers += q.local_answers;
    t.q.blocked += q.blocked;
    t.q.cache_hits += q.cache_hits;
    t.q.cache_misses += q.cache_misses;
    t.q.stale_served += q.stale_served;
    t.q.prefetches += q.prefetches;
    t.q.coalesced += q.coalesced;
    t.q.waiting_overloaded += q.waiting_overloaded;
    t.q.query_log_dropped += q.query_log_dropped;
    t.pool += w.pool;
    t.tls.handshakes_completed += w.tls.handshakes_completed;
    t.tls.handshakes_resumed += w.tls.handshakes_resumed;
    add_array(t.tls.handshakes_failed, w.tls.handshakes_failed);
    t.tls.handshakes_timed_out += w.tls.handshakes_timed_out;
    t.tls.handshakes_abandoned += w.tls.handshakes_abandoned;
    t.tls.handshakes_rate_limited += w.tls.handshakes_rate_limited;
    t.tls.records_failed += w.tls.records_failed;
    t.tcp_clients += w.tcp_clients;
    t.tcp_clients_refused += w.tcp_clients_refused;
    t.flights += w.flights;
    t.upstream_pending += w.upstream_pending;
  }
  return t;
}

void counter(PrometheusText& out, const char* name, const char* help, std::uint64_t value) {
  out.family(name, "counter", help);
  out.sample({}, value);
}

void gauge(PrometheusText& out, const char* name, const char* help, std::uint64_t value) {
  out.family(name, "gauge", help);
  out.sample({}, value);
}

void render_queries(PrometheusText& out, const Totals& t) {
  out.family("dotproxy_queries_total", "counter", "DNS messages received from clients.");
  out.sample({{"transport", "udp"}}, t.q.queries_udp);
  out.sample({{"transport", "tcp"}}, t.q.queries_tcp);
  out.family("dotproxy_responses_total", "counter", "Replies sent to clients, by header rcode.");
  for (std::size_t rcode = 0; rcode < t.q.replies_by_rcode.size(); ++rcode) {
    if (t.q.replies_by_rcode[rcode] == 0 && rcode > 5) continue;
    out.sample({{"rcode", dns::rcode_text(static_cast<std::uint8_t>(rcode))}},
               t.q.replies_by_rcode[rcode]);
  }
  counter(out, "dotproxy_responses_truncated_total", "Replies sent with TC=1.",
          t.q.replies_truncated);
  out.family("dotproxy_rejected_total", "counter",
             "Client messages that were not valid queries, by reason.");
  for (std::size_t i = 0; i < t.q.rejected.size(); ++i) {
    out.sample({{"reason", dns::query_error_name(static_cast<dns::QueryError>(i))}},
               t.q.rejected[i]);
  }
  const auto& rejected = t.q.rejected;
  out.family("dotproxy_dropped_total", "counter",
             "Queries that got no useful answer, by cause: bad input (dropped), acl (drop "
             "rule), rate_limit (dropped), overload (SERVFAIL at once), tcp_limit "
             "(connections refused).");
  out.sample({{"cause", "bad_input"}},
             rejected[static_cast<std::size_t>(dns::QueryError::kTooShort)] +
                 rejected[static_cast<std::size_t>(dns::QueryError::kIsResponse)]);
  out.sample({{"cause", "acl"}}, t.q.acl_dropped);
  out.sample({{"cause", "rate_limit"}}, t.q.rate_limited);
  out.sample({{"cause", "overload"}},
             t.q.waiting_overloaded +
                 t.pool.failures[static_cast<std::size_t>(upstream::UpstreamError::kOverloaded)]);
  out.sample({{"cause", "tcp_limit"}}, t.tcp_clients_refused);
  counter(out, "dotproxy_acl_refused_total", "Queries refused by the ACL (REFUSED, EDE 18).",
          t.q.acl_refused);
  counter(out, "dotproxy_rate_limit_slipped_total",
          "Queries over the rate limit answered with TC=1 instead of dropped.", t.q.rate_slipped);
  counter(out, "dotproxy_local_answers_total",
          "Queries answered from a local zone (RFC 6761/6303/8375).", t.q.local_answers);
  counter(out, "dotproxy_blocked_total", "Queries for a blocklisted name.", t.q.blocked);
  counter(out, "dotproxy_servfail_upstream_total",
          "Replies that were SERVFAIL because no upstream answered.", t.q.servfail_upstream);
  gauge(out, "dotproxy_tcp_clients", "Client TCP connections open.", t.tcp_clients);
  counter(out, "dotproxy_query_log_dropped_total",
          "Query log lines dropped because the writer was behind (--query-log).",
          t.q.query_log_dropped);
}

void render_tls_listener(PrometheusText& out, const Totals& t) {
  out.family("dotproxy_tls_handshakes_total", "counter",
             "TLS handshakes of clients on --listen-tls, by outcome.");
  out.sample({{"result", "completed"}}, t.tls.handshakes_completed);
  out.sample({{"result", "resumed"}}, t.tls.handshakes_resumed);
  out.sample({{"result", "protocol_error"}}, t.tls.handshakes_failed[0]);
  out.sample({{"result", "client_cert_missing"}}, t.tls.handshakes_failed[1]);
  out.sample({{"result", "client_cert_untrusted"}}, t.tls.handshakes_failed[2]);
  out.sample({{"result", "timed_out"}}, t.tls.handshakes_timed_out);
  out.sample({{"result", "abandoned"}}, t.tls.handshakes_abandoned);
  out.sample({{"result", "rate_limited"}}, t.tls.handshakes_rate_limited);
  counter(out, "dotproxy_tls_records_failed_total",
          "Client TLS connections closed for a bad record after the handshake.",
          t.tls.records_failed);
}

void render_cache(PrometheusText& out, const Totals& t, const MetricsInput& in) {
  counter(out, "dotproxy_cache_hits_total",
          "Queries answered from the cache at once (fresh, or stale after a failed refresh).",
          t.q.cache_hits);
  counter(out, "dotproxy_cache_misses_total", "Queries that waited for an upstream answer.",
          t.q.cache_misses);
  counter(out, "dotproxy_cache_stale_served_total", "Stale answers served (RFC 8767).",
          t.q.stale_served);
  counter(out, "dotproxy_cache_prefetches_total",
          "Background refreshes of entries hit near the end of their TTL.", t.q.prefetches);
  counter(out, "dotproxy_cache_coalesced_total",
          "Misses that joined an identical query already in flight.", t.q.coalesced);
  gauge(out, "dotproxy_in_flight_queries", "Distinct upstream queries clients wait for.",
        t.flights);
  if (!in.cache) return;
  const cache::ShardStats& c = *in.cache;
  counter(out, "dotproxy_cache_inserts_total", "Answers stored.", c.inserts);
  out.family("dotproxy_cache_evictions_total", "counter",
             "Entries removed: expired or lru to make room, too_old past the stale window.");
  out.sample({{"reason", "expired"}}, c.evicted_expired);
  out.sample({{"reason", "lru"}}, c.evicted_lru);
  out.sample({{"reason", "too_old"}}, c.removed_too_old);
  counter(out, "dotproxy_cache_rejected_total", "Answers larger than a cache shard.",
          c.rejected_too_big);
  gauge(out, "dotproxy_cache_entries", "Entries held.", c.entries);
  gauge(out, "dotproxy_cache_bytes", "Bytes held: entries and their index.", c.bytes);
  gauge(out, "dotproxy_cache_budget_bytes", "--cache-size.", in.cache_budget_bytes);
}

void render_upstreams(PrometheusText& out, const Totals& t, const MetricsInput& in) {
  counter(out, "dotproxy_upstream_queries_total", "Queries given to the upstream pool.",
          t.pool.queries);
  counter(out, "dotproxy_upstream_answers_total", "Answers the upstream pool delivered.",
          t.pool.answers);
  counter(out, "dotproxy_upstream_retries_total", "Queries re-sent after their connection failed.",
          t.pool.retries);
  counter(out, "dotproxy_upstream_hedges_total",
          "Queries also sent to a second upstream because the first was slow.", t.pool.hedges);
  counter(out, "dotproxy_upstream_rcode_retries_total",
          "SERVFAIL/REFUSED answers retried on another upstream.", t.pool.rcode_retries);
  out.family("dotproxy_upstream_failures_total", "counter",
             "Upstream queries that got no answer, by cause.");
  for (std::size_t i = 0; i < t.pool.failures.size(); ++i) {
    out.sample({{"cause", upstream::upstream_error_name(static_cast<upstream::UpstreamError>(i))}},
               t.pool.failures[i]);
  }
  out.family("dotproxy_upstream_handshakes_total", "counter",
             "TLS handshakes completed with upstreams: full, or resumed from a ticket/session.");
  out.sample({{"kind", "full"}}, t.pool.handshakes - t.pool.handshakes_resumed);
  out.sample({{"kind", "resumed"}}, t.pool.handshakes_resumed);
  counter(out, "dotproxy_upstream_connections_opened_total", "TLS connections opened.",
          t.pool.connections_opened);
  out.family("dotproxy_upstream_answers_discarded_total", "counter",
             "Upstream answers discarded: unknown_id (late or never asked), mismatched "
             "(question or format wrong; never cached).");
  out.sample({{"reason", "unknown_id"}}, t.pool.answers_unknown_id);
  out.sample({{"reason", "mismatched"}}, t.pool.answers_mismatched);
  gauge(out, "dotproxy_upstream_pending_queries", "Queries in flight or queued in the pool.",
        t.upstream_pending);

  // Per upstream, summed over the workers (each has its own connections).
  struct PerUpstream {
    std::uint64_t open = 0;
    std::uint64_t in_flight = 0;
    std::uint64_t usable = 0;  // workers that may use it now
    metrics::LatencyHistogram latency;
    std::optional<std::int64_t> expiry;
  };
  std::vector<std::string> order;
  std::map<std::string, PerUpstream> per;
  for (const WorkerSnapshot& w : in.workers) {
    for (const upstream::UpstreamStatus& u : w.upstreams) {
      if (per.find(u.name) == per.end()) order.push_back(u.name);
      PerUpstream& p = per[u.name];
      p.open += u.open_connections;
      p.in_flight += u.in_flight;
      p.usable += u.usable ? 1 : 0;
      p.latency.add(u.latency);
      if (u.certificate_expiry && (!p.expiry || *u.certificate_expiry < *p.expiry)) {
        p.expiry = u.certificate_expiry;
      }
    }
  }
  out.family("dotproxy_upstream_open_connections", "gauge", "TLS connections open, by upstream.");
  for (const auto& name : order) out.sample({{"upstream", name}}, per[name].open);
  out.family("dotproxy_upstream_in_flight_queries", "gauge",
             "Queries sent and not answered yet, by upstream.");
  for (const auto& name : order) out.sample({{"upstream", name}}, per[name].in_flight);
  out.family("dotproxy_upstream_usable", "gauge",
             "1 when the upstream is out of back-off in every worker, 0 otherwise.");
  for (const auto& name : order) {
    out.sample({{"upstream", name}},
               std::uint64_t{per[name].usable == in.workers.size() ? 1U : 0U});
  }
  out.family("dotproxy_upstream_latency_seconds", "histogram",
             "Time from sending a query to its answer, by upstream.");
  for (const auto& name : order) out.histogram({{"upstream", name}}, per[name].latency);
  out.family("dotproxy_upstream_certificate_expiry_seconds", "gauge",
             "Seconds until the upstream's certificate expires (from the last full handshake; "
             "absent before one).");
  for (const auto& name : order) {
    if (per[name].expiry) {
      out.sample({{"upstream", name}}, static_cast<double>(*per[name].expiry - in.now_unix));
    }
  }
}

}  // namespace

std::string metrics_render(const MetricsInput& in) {
  const Totals t = sum(in.workers);
  PrometheusText out;
  out.family("dotproxy_build_info", "gauge", "The running version.");
  out.sample({{"version", DOTPROXY_VERSION}}, std::uint64_t{1});
  gauge(out, "dotproxy_workers", "Worker threads configured.", in.workers_configured);
  gauge(out, "dotproxy_workers_answering", "Workers whose counters this scrape includes.",
        in.workers.size());
  render_queries(out, t);
  render_tls_listener(out, t);
  render_cache(out, t, in);
  render_upstreams(out, t, in);
  counter(out, "dotproxy_bugs_total", "Conditions that cannot happen but did (logged).", in.bugs);
  return out.text();
}

bool metrics_ready(const MetricsInput& in, std::string* why) {
  if (in.workers.size() < in.workers_configured) {
    *why = std::to_string(in.workers_configured - in.workers.size()) + " worker(s) not answering";
    return false;
  }
  for (const WorkerSnapshot& w : in.workers) {
    for (const upstream::UpstreamStatus& u : w.upstreams) {
      if (u.usable) return true;
    }
  }
  *why = "no upstream usable (all in back-off after connect, TLS or timeout failures)";
  return false;
}

}  // namespace dp::proxy
