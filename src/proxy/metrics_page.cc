#include "proxy/metrics_page.h"

#include <algorithm>
#include <map>
#include <utility>

#include "dns/message.h"
#include "dns/question_text.h"
#include "dotproxy_version.h"
#include "metrics/prometheus.h"
#include "tls/server_session.h"

namespace dp::proxy {
namespace {

using metrics::Exposition;

// Label values of the arrays indexed by an enum: the enum's own names, but for the listener's
// "protocol_error", older than handshake_failure_name and kept for dashboards.
const char* label_name(dns::QueryError e) { return dns::query_error_name(e); }
const char* label_name(upstream::UpstreamError e) { return upstream::upstream_error_name(e); }
const char* label_name(dnssec::Status s) { return dnssec::status_name(s).data(); }
const char* label_name(dnssec::EdeSlot s) { return dnssec::ede_slot_name(s).data(); }
const char* label_name(dnssec::AlgorithmSlot s) { return dnssec::algorithm_slot_name(s).data(); }
const char* label_name(tls::HandshakeFailure e) {
  return e == tls::HandshakeFailure::kProtocol ? "protocol_error" : tls::handshake_failure_name(e);
}

// One line of a DP_*_COUNTS list: `label` is "key=value", "key" (arrays) or "".
void count_export(Exposition& out, std::string_view metric, std::string_view label,
                  std::string_view help, std::uint64_t value) {
  if (metric.empty()) return;  // added into another sample below
  const auto eq = label.find('=');
  if (eq == std::string_view::npos) {
    out.sample(metric, help, {}, static_cast<double>(value));
  } else {
    out.sample(metric, help, {{label.substr(0, eq), label.substr(eq + 1)}},
               static_cast<double>(value));
  }
}

template <class E>
void count_export(Exposition& out, std::string_view metric, std::string_view key,
                  std::string_view help, const metrics::CountByEnum<E>& counts) {
  for (std::size_t i = 0; i < counts.size(); ++i) {
    out.sample(metric, help, {{key, label_name(static_cast<E>(i))}},
               static_cast<double>(counts[i]));
  }
}

// Rcodes never seen past the six classic ones stay off the page.
void count_export(Exposition& out, std::string_view metric, std::string_view key,
                  std::string_view help, const RcodeCounts& counts) {
  for (std::size_t rcode = 0; rcode < counts.size(); ++rcode) {
    if (counts[rcode] == 0 && rcode > 5) continue;
    out.sample(metric, help, {{key, dns::rcode_text(static_cast<std::uint8_t>(rcode))}},
               static_cast<double>(counts[rcode]));
  }
}

#define DP_METRICS_EXPORT(type, member, metric, label, help) \
  count_export(out, metric, label, help, sum.member);

void counts_render(Exposition& out, const WorkerSnapshot& t, const MetricsInput& in) {
  {
    const QueryStats& sum = t.queries;
    DP_QUERY_STATS_COUNTS(DP_METRICS_EXPORT)
  }
  {
    const TlsStats& sum = t.tls;
    DP_TLS_STATS_COUNTS(DP_METRICS_EXPORT)
  }
  {
    const upstream::PoolStats& sum = t.pool;
    DP_POOL_STATS_COUNTS(DP_METRICS_EXPORT)
  }
  {
    const WorkerSnapshot& sum = t;
    DP_WORKER_SNAPSHOT_COUNTS(DP_METRICS_EXPORT)
  }
  if (in.cache) {
    const cache::ShardStats& sum = *in.cache;
    DP_CACHE_STATS_COUNTS(DP_METRICS_EXPORT)
    out.sample("dotproxy_cache_budget_bytes", "--cache-size.", {},
               static_cast<double>(in.cache_budget_bytes));
  }
}

#undef DP_METRICS_EXPORT

// The samples that add several counters (or take one from another).
void sums_render(Exposition& out, const WorkerSnapshot& t) {
  const auto& rejected = t.queries.rejected;
  const auto dropped = [&](std::string_view cause, std::uint64_t value) {
    out.sample("dotproxy_dropped_total",
               "Queries that got no useful answer, by cause: bad input (dropped), acl (drop "
               "rule), rate_limit (dropped), overload (SERVFAIL at once), tcp_limit "
               "(connections refused).",
               {{"cause", cause}}, static_cast<double>(value));
  };
  dropped("bad_input", rejected[static_cast<std::size_t>(dns::QueryError::kTooShort)] +
                           rejected[static_cast<std::size_t>(dns::QueryError::kIsResponse)]);
  dropped("acl", t.queries.acl_dropped);
  dropped("rate_limit", t.queries.rate_limited);
  dropped("overload",
          t.queries.waiting_overloaded +
              t.pool.failures[static_cast<std::size_t>(upstream::UpstreamError::kOverloaded)]);
  dropped("tcp_limit", t.tcp_clients_refused);
  const char* handshakes_help =
      "TLS handshakes completed with upstreams: full, or resumed from a ticket/session.";
  out.sample("dotproxy_upstream_handshakes_total", handshakes_help, {{"kind", "full"}},
             static_cast<double>(t.pool.handshakes - t.pool.handshakes_resumed));
  out.sample("dotproxy_upstream_handshakes_total", handshakes_help, {{"kind", "resumed"}},
             static_cast<double>(t.pool.handshakes_resumed));
}

void upstreams_render(Exposition& out, const MetricsInput& in) {
  // Per upstream, summed over the workers (each has its own connections).
  struct PerUpstream {
    std::uint64_t open = 0;
    std::uint64_t in_flight = 0;
    std::uint64_t usable = 0;  // workers that may use it now
    metrics::LatencyHistogram latency;
    std::optional<std::int64_t> expiry;
  };
  // Keyed by (server, transport): the default upstreams' and every forward zone's servers.
  using Key = std::pair<std::string, std::string>;
  std::vector<Key> order;
  std::map<Key, PerUpstream> per;
  for (const WorkerSnapshot& w : in.workers) {
    for (const RouteStatus& route : w.routes) {
      for (const upstream::UpstreamStatus& u : route.servers) {
        const Key key{u.name, upstream::transport_name(route.transport)};
        if (per.find(key) == per.end()) order.push_back(key);
        PerUpstream& p = per[key];
        p.open += u.open_connections;
        p.in_flight += u.in_flight;
        p.usable += u.usable ? 1 : 0;
        p.latency.add(u.latency);
        if (u.certificate_expiry && (!p.expiry || *u.certificate_expiry < *p.expiry)) {
          p.expiry = u.certificate_expiry;
        }
      }
    }
  }
  for (const auto& key : order) {
    const PerUpstream& p = per[key];
    const std::initializer_list<metrics::Label> label{{"upstream", key.first},
                                                      {"transport", key.second}};
    out.sample("dotproxy_upstream_open_connections",
               "Connections open (TLS or plain TCP; UDP: sockets), by upstream.", label,
               static_cast<double>(p.open));
    out.sample("dotproxy_upstream_in_flight_queries",
               "Queries sent and not answered yet, by upstream.", label,
               static_cast<double>(p.in_flight));
    out.sample("dotproxy_upstream_usable",
               "1 when the upstream is out of back-off in every worker, 0 otherwise.", label,
               p.usable == in.workers.size() ? 1 : 0);
    out.histogram("dotproxy_upstream_latency_seconds",
                  "Time from sending a query to its answer, by upstream.", label, p.latency);
    if (p.expiry) {
      out.sample("dotproxy_upstream_certificate_expiry_seconds",
                 "Seconds until the upstream's certificate expires (from the last full "
                 "handshake; absent before one).",
                 label, static_cast<double>(*p.expiry - in.now_unix));
    }
  }
}

// Per forward zone, summed over the workers: its queries, its failures by cause and how many of
// its servers every worker may use now.
void zones_render(Exposition& out, const MetricsInput& in) {
  struct PerZone {
    upstream::PoolStats stats;
    std::map<std::string, std::size_t> usable;  // server -> workers that may use it
  };
  std::vector<std::string> order;
  std::map<std::string, PerZone> per;
  for (const WorkerSnapshot& w : in.workers) {
    for (const RouteStatus& route : w.routes) {
      if (route.name.empty()) continue;  // the default upstreams: the global series
      if (per.find(route.name) == per.end()) order.push_back(route.name);
      PerZone& zone = per[route.name];
      zone.stats += route.stats;
      for (const upstream::UpstreamStatus& u : route.servers) zone.usable[u.name] += u.usable;
    }
  }
  for (const auto& name : order) {
    const PerZone& zone = per[name];
    out.sample("dotproxy_zone_queries_total", "Queries sent to a forward zone's servers.",
               {{"zone", name}}, static_cast<double>(zone.stats.queries));
    for (std::size_t i = 0; i < zone.stats.failures.size(); ++i) {
      out.sample("dotproxy_zone_failures_total",
                 "A forward zone's queries that got no answer from its servers, by cause.",
                 {{"zone", name}, {"cause", label_name(static_cast<upstream::UpstreamError>(i))}},
                 static_cast<double>(zone.stats.failures[i]));
    }
    const auto usable = std::count_if(zone.usable.begin(), zone.usable.end(), [&in](const auto& u) {
      return u.second == in.workers.size();
    });
    out.sample("dotproxy_zone_usable_servers",
               "A forward zone's servers out of back-off in every worker.", {{"zone", name}},
               static_cast<double>(usable));
  }
}

}  // namespace

namespace {

Exposition exposition_build(const MetricsInput& in) {
  WorkerSnapshot sum;
  for (const WorkerSnapshot& w : in.workers) sum.counts_add(w);
  Exposition out;
  out.sample("dotproxy_build_info", "The running version.", {{"version", DOTPROXY_VERSION}}, 1);
  out.sample("dotproxy_workers", "Worker threads configured.", {},
             static_cast<double>(in.workers_configured));
  out.sample("dotproxy_workers_answering", "Workers whose counters this scrape includes.", {},
             static_cast<double>(in.workers.size()));
  counts_render(out, sum, in);
  sums_render(out, sum);
  upstreams_render(out, in);
  zones_render(out, in);
  for (const ControlCount& c : in.control) {
    out.sample("dotproxy_control_commands_total",
               "Control channel requests by command and result (command=invalid: did not parse).",
               {{"command", c.command}, {"result", c.result}}, static_cast<double>(c.count));
  }
  out.sample("dotproxy_bugs_total", "Conditions that cannot happen but did (logged).", {},
             static_cast<double>(in.bugs));
  return out;
}

}  // namespace

void ControlCounters::add(std::string_view command, bool ok) {
  std::lock_guard lock(mutex_);
  ++counts_[{std::string(command), ok ? "ok" : "error"}];
}

std::vector<ControlCount> ControlCounters::read() const {
  std::lock_guard lock(mutex_);
  std::vector<ControlCount> out;
  for (const auto& [key, count] : counts_) out.push_back({key.first, key.second, count});
  return out;
}

std::string metrics_render(const MetricsInput& in) { return exposition_build(in).text(); }

std::string metrics_render_json(const MetricsInput& in) { return exposition_build(in).json(); }

bool metrics_ready(const MetricsInput& in, std::string* why) {
  if (in.workers.size() < in.workers_configured) {
    *why = std::to_string(in.workers_configured - in.workers.size()) + " worker(s) not answering";
    return false;
  }
  // --dnssec validate over an upstream that strips RRSIGs fails every answer: say so, no
  // silent downgrade.
  for (const WorkerSnapshot& w : in.workers) {
    if (!w.dnssec_problem.empty()) {
      *why = "the upstream cannot do DNSSEC: " + w.dnssec_problem;
      return false;
    }
  }
  for (const WorkerSnapshot& w : in.workers) {
    for (const RouteStatus& route : w.routes) {
      if (!route.name.empty()) continue;  // a forward zone's servers do not make us ready
      for (const upstream::UpstreamStatus& u : route.servers) {
        if (u.usable) return true;
      }
    }
  }
  *why = "no upstream usable (all in back-off after connect, TLS or timeout failures)";
  return false;
}

std::string metrics_dnssec_note(const MetricsInput& in) {
  for (const WorkerSnapshot& w : in.workers) {
    if (w.dnssec_clock_untrusted != 0) {
      return "dnssec: permissive until the clock passes the release date (no NTP yet?)";
    }
  }
  return {};
}

}  // namespace dp::proxy
