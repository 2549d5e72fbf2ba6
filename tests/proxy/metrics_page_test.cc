#include "proxy/metrics_page.h"

#include <gtest/gtest.h>

#include "fakes/prometheus_parse.h"

namespace dp::proxy {
namespace {

WorkerSnapshot worker(std::uint64_t hits, std::uint64_t misses, bool usable) {
  WorkerSnapshot w;
  w.queries.queries_udp = hits + misses;
  w.queries.cache_hits = hits;
  w.queries.cache_misses = misses;
  w.queries.replies_by_rcode[3] = 2;
  w.pool.handshakes = 5;
  w.pool.handshakes_resumed = 3;
  upstream::UpstreamStatus u;
  u.name = "127.0.0.1@853#dns.test";
  u.open_connections = 2;
  u.usable = usable;
  u.latency.observe(std::chrono::milliseconds(3));
  u.certificate_expiry = 1'000'000 + 86'400;
  w.routes.push_back(RouteStatus{"", upstream::Transport::kTls, {}, {u}});
  return w;
}

// A forward zone's route: its own series by zone, its servers among the upstreams' with their
// transport.
void zone_add(WorkerSnapshot& w, bool usable) {
  upstream::UpstreamStatus u;
  u.name = "10.96.0.10@53";
  u.open_connections = 1;
  u.usable = usable;
  upstream::PoolStats stats;
  stats.queries = 7;
  stats.failures[static_cast<std::size_t>(upstream::UpstreamError::kTimeout)] = 2;
  w.routes.push_back(RouteStatus{"cluster.local", upstream::Transport::kTcp, stats, {u}});
}

TEST(ProxyMetricsPageTest, WorkersAreSummedAndTheTextParses) {
  MetricsInput in;
  in.workers = {worker(10, 4, true), worker(1, 2, true)};
  in.workers_configured = 2;
  in.cache = cache::ShardStats{.inserts = 6, .evicted_lru = 1, .entries = 5, .bytes = 1234};
  in.cache_budget_bytes = 1 << 20;
  in.now_unix = 1'000'000;
  const auto parsed = testing::exposition_parse(metrics_render(in));
  ASSERT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.value("dotproxy_queries_total{transport=\"udp\"}"), 17);
  EXPECT_EQ(parsed.value("dotproxy_cache_hits_total"), 11);
  EXPECT_EQ(parsed.value("dotproxy_cache_misses_total"), 6);
  EXPECT_EQ(parsed.value("dotproxy_responses_total{rcode=\"NXDOMAIN\"}"), 4);
  EXPECT_EQ(parsed.value("dotproxy_cache_entries"), 5);
  EXPECT_EQ(parsed.value("dotproxy_cache_evictions_total{reason=\"lru\"}"), 1);
  EXPECT_EQ(parsed.value("dotproxy_upstream_handshakes_total{kind=\"full\"}"), 4);
  EXPECT_EQ(parsed.value("dotproxy_upstream_handshakes_total{kind=\"resumed\"}"), 6);
  const std::string up = "{upstream=\"127.0.0.1@853#dns.test\",transport=\"tls\"}";
  EXPECT_EQ(parsed.value("dotproxy_upstream_open_connections" + up), 4);
  EXPECT_EQ(parsed.value("dotproxy_upstream_usable" + up), 1);
  EXPECT_EQ(parsed.value("dotproxy_upstream_certificate_expiry_seconds" + up), 86'400);
  EXPECT_EQ(parsed.value("dotproxy_upstream_latency_seconds_count" + up), 2);
}

TEST(ProxyMetricsPageTest, ForwardZonesHaveTheirOwnSeriesAndTheirServersATransport) {
  MetricsInput in;
  in.workers = {worker(1, 1, true), worker(1, 1, true)};
  zone_add(in.workers[0], true);
  zone_add(in.workers[1], false);
  in.workers_configured = 2;
  const auto parsed = testing::exposition_parse(metrics_render(in));
  ASSERT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.value("dotproxy_zone_queries_total{zone=\"cluster.local\"}"), 14);
  EXPECT_EQ(parsed.value("dotproxy_zone_failures_total{zone=\"cluster.local\",cause=\"timeout\"}"),
            4);
  EXPECT_EQ(parsed.value("dotproxy_zone_failures_total{zone=\"cluster.local\",cause=\"down\"}"), 0);
  // Usable in one worker of two: not usable.
  EXPECT_EQ(parsed.value("dotproxy_zone_usable_servers{zone=\"cluster.local\"}"), 0);
  const std::string zone_server = "{upstream=\"10.96.0.10@53\",transport=\"tcp\"}";
  EXPECT_EQ(parsed.value("dotproxy_upstream_open_connections" + zone_server), 2);
  EXPECT_EQ(parsed.value("dotproxy_upstream_usable" + zone_server), 0);
  // The default upstreams have no zone series.
  EXPECT_EQ(parsed.value("dotproxy_zone_queries_total{zone=\"\"}"), -1);  // -1: absent
}

// Every scalar of the DP_*_COUNTS lists a value of its own, and each found on the page under
// the name and label its line gives.
void count_set(std::uint64_t& count, std::uint64_t& next) { count = next++; }
template <class Array>
void count_set(Array& /*array*/, std::uint64_t& /*next*/) {}

void sample_expect(const testing::Exposition& parsed, std::string_view metric,
                   std::string_view label, std::uint64_t value) {
  if (metric.empty()) return;
  std::string key(metric);
  if (const auto eq = label.find('='); eq != std::string_view::npos) {
    key +=
        "{" + std::string(label.substr(0, eq)) + "=\"" + std::string(label.substr(eq + 1)) + "\"}";
  }
  EXPECT_EQ(parsed.value(key), static_cast<double>(value)) << key;
}
template <class Array>
void sample_expect(const testing::Exposition& /*parsed*/, std::string_view /*metric*/,
                   std::string_view /*label*/, const Array& /*array*/) {}

#define DP_TEST_SET(type, member, metric, label, help) count_set(sum.member, next);
#define DP_TEST_EXPECT(type, member, metric, label, help) \
  sample_expect(parsed, metric, label, sum.member);
#define DP_TEST_EVERY_LIST(ACTION)    \
  {                                   \
    auto& sum = w.queries;            \
    DP_QUERY_STATS_COUNTS(ACTION)     \
  }                                   \
  {                                   \
    auto& sum = w.tls;                \
    DP_TLS_STATS_COUNTS(ACTION)       \
  }                                   \
  {                                   \
    auto& sum = w.pool;               \
    DP_POOL_STATS_COUNTS(ACTION)      \
  }                                   \
  {                                   \
    auto& sum = w;                    \
    DP_WORKER_SNAPSHOT_COUNTS(ACTION) \
  }                                   \
  {                                   \
    auto& sum = *in.cache;            \
    DP_CACHE_STATS_COUNTS(ACTION)     \
  }

TEST(ProxyMetricsPageTest, EveryListedCounterIsOnThePageUnderItsName) {
  MetricsInput in;
  in.workers_configured = 1;
  in.cache.emplace();
  WorkerSnapshot w;
  std::uint64_t next = 1;
  DP_TEST_EVERY_LIST(DP_TEST_SET)
  w.pool.handshakes = w.pool.handshakes_resumed + 1;
  in.workers = {w};
  const auto parsed = testing::exposition_parse(metrics_render(in));
  ASSERT_EQ(parsed.error, "");
  DP_TEST_EVERY_LIST(DP_TEST_EXPECT)
  EXPECT_GT(next, 40u);
}

TEST(ProxyMetricsPageTest, ArraysAreLabelledByTheirEnumsAndSumsAddUp) {
  MetricsInput in;
  in.workers_configured = 2;
  WorkerSnapshot w;
  w.queries.rejected[static_cast<std::size_t>(dns::QueryError::kTooShort)] = 1;
  w.queries.rejected[static_cast<std::size_t>(dns::QueryError::kIsResponse)] = 2;
  w.queries.rejected[static_cast<std::size_t>(dns::QueryError::kBadClass)] = 4;
  w.queries.replies_by_rcode[16] = 1;  // BADVERS (rcode_text: RCODE16), shown once seen
  w.tls.handshakes_failed[static_cast<std::size_t>(tls::HandshakeFailure::kProtocol)] = 3;
  w.pool.failures[static_cast<std::size_t>(upstream::UpstreamError::kOverloaded)] = 5;
  w.queries.waiting_overloaded = 6;
  w.tcp_clients_refused = 7;
  in.workers = {w, w};
  const auto parsed = testing::exposition_parse(metrics_render(in));
  ASSERT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.value("dotproxy_rejected_total{reason=\"bad_class\"}"), 8);
  EXPECT_EQ(parsed.value("dotproxy_responses_total{rcode=\"RCODE16\"}"), 2);
  EXPECT_EQ(parsed.value("dotproxy_responses_total{rcode=\"NOTIMP\"}"), 0);
  EXPECT_EQ(parsed.value("dotproxy_responses_total{rcode=\"RCODE17\"}"), -1);  // never seen
  EXPECT_EQ(parsed.value("dotproxy_tls_handshakes_total{result=\"protocol_error\"}"), 6);
  EXPECT_EQ(parsed.value("dotproxy_tls_handshakes_total{result=\"client_cert_untrusted\"}"), 0);
  EXPECT_EQ(parsed.value("dotproxy_upstream_failures_total{cause=\"overloaded\"}"), 10);
  EXPECT_EQ(parsed.value("dotproxy_upstream_failures_total{cause=\"down\"}"), 0);
  EXPECT_EQ(parsed.value("dotproxy_dropped_total{cause=\"bad_input\"}"), 6);
  EXPECT_EQ(parsed.value("dotproxy_dropped_total{cause=\"overload\"}"), 22);
  EXPECT_EQ(parsed.value("dotproxy_dropped_total{cause=\"tcp_limit\"}"), 14);
  EXPECT_EQ(parsed.value("dotproxy_cache_entries"), -1);  // caching off
}

TEST(ProxyMetricsPageTest, ReadyOnlyWithEveryWorkerAndAUsableUpstream) {
  MetricsInput in;
  in.workers_configured = 2;
  in.workers = {worker(0, 0, false), worker(0, 0, false)};
  zone_add(in.workers[0], true);  // a forward zone's servers alone do not make us ready
  zone_add(in.workers[1], true);
  std::string why;
  EXPECT_FALSE(metrics_ready(in, &why));
  EXPECT_NE(why.find("no upstream usable"), std::string::npos);
  in.workers[1] = worker(0, 0, true);
  EXPECT_TRUE(metrics_ready(in, &why));
  in.workers.pop_back();  // one worker did not answer in time
  EXPECT_FALSE(metrics_ready(in, &why));
  EXPECT_NE(why.find("not answering"), std::string::npos);
}

}  // namespace
}  // namespace dp::proxy
