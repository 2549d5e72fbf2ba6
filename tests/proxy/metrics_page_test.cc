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
  w.upstreams.push_back(u);
  return w;
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
  const std::string up = "{upstream=\"127.0.0.1@853#dns.test\"}";
  EXPECT_EQ(parsed.value("dotproxy_upstream_open_connections" + up), 4);
  EXPECT_EQ(parsed.value("dotproxy_upstream_usable" + up), 1);
  EXPECT_EQ(parsed.value("dotproxy_upstream_certificate_expiry_seconds" + up), 86'400);
  EXPECT_EQ(parsed.value("dotproxy_upstream_latency_seconds_count" + up), 2);
}

TEST(ProxyMetricsPageTest, ReadyOnlyWithEveryWorkerAndAUsableUpstream) {
  MetricsInput in;
  in.workers_configured = 2;
  in.workers = {worker(0, 0, false), worker(0, 0, false)};
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
