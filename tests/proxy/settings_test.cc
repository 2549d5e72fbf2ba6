#include "proxy/settings.h"

#include <gtest/gtest.h>

#include "config/upstream_spec.h"
#include "dns/test_packets.h"

namespace dp::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

SocketAddress address(const char* text) { return *SocketAddress::parse(text); }

// The pool's own defaults are what the default config makes: the upstream tests, which use
// PoolOptions{}, test what runs.
TEST(ProxySettingsTest, DefaultConfigGivesThePoolItsDefaultOptions) {
  EXPECT_EQ(pool_options_build(config::Config{}), upstream::PoolOptions{});
}

TEST(ProxySettingsTest, PoolOptionsFollowTheUpstreamSettings) {
  config::Config c;
  c.upstream_connections = 3;
  c.max_queries_per_connection = 17;
  c.max_pending_queries = 99;
  c.upstream_timeout = milliseconds(1'000);
  c.servfail_failover = false;
  const upstream::PoolOptions options = pool_options_build(c);
  EXPECT_EQ(options.connections_per_upstream, 3u);
  EXPECT_EQ(options.max_in_flight_per_connection, 17u);
  EXPECT_EQ(options.max_pending, 99u);
  EXPECT_EQ(options.query_timeout, milliseconds(1'000));
  EXPECT_EQ(options.liveness_timeout, milliseconds(1'000));
  EXPECT_FALSE(options.failover_on_servfail);
  EXPECT_EQ(options.handshake_timeout, milliseconds(500));  // half: time left to fail over
}

TEST(ProxySettingsTest, HandshakeTimeoutIsHalfTheQueryTimeoutWithinBounds) {
  config::Config c;
  c.upstream_timeout = milliseconds(10'000);
  EXPECT_EQ(pool_options_build(c).handshake_timeout, milliseconds(2'000));  // TCP + TLS 1.2
  c.upstream_timeout = milliseconds(1);
  EXPECT_EQ(pool_options_build(c).handshake_timeout, milliseconds(1));  // never zero
}

TEST(ProxySettingsTest, ServerSpecCarriesAddressNamePinsAndTlsVersion) {
  config::UpstreamConfig u = config::upstream_spec_parse("[2606:4700::1111]@8853#one.one");
  u.pins.push_back(config::pin_sha256_parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
  u.tls_min_version = TlsVersion::kTls13;
  const upstream::ServerSpec spec = server_spec_build(u);
  EXPECT_EQ(spec.address, u.address);
  EXPECT_EQ(spec.auth_name, "one.one");
  EXPECT_EQ(spec.pins, u.pins);
  EXPECT_EQ(spec.tls_min_version, TlsVersion::kTls13);
  EXPECT_EQ(spec.display(), "[2606:4700::1111]@8853#one.one");
  EXPECT_EQ(spec.display(), u.display());  // pools and logs name an upstream alike
}

TEST(ProxySettingsTest, ResolveOptionsTakeTtlsStaleTimerAndWaitingBound) {
  config::Config c;
  c.min_ttl = seconds(7);
  c.max_ttl = seconds(700);
  c.max_negative_ttl = seconds(70);
  c.servfail_ttl = seconds(2);
  c.stale_client_timeout = milliseconds(900);
  c.max_pending_queries = 123;
  const ResolveOptions options = resolve_options_build(c);
  EXPECT_EQ(options.ttl.min_ttl, 7u);
  EXPECT_EQ(options.ttl.max_ttl, 700u);
  EXPECT_EQ(options.ttl.max_negative_ttl, 70u);
  EXPECT_EQ(options.ttl.failure_ttl, 2u);
  EXPECT_EQ(options.stale_client_timeout, milliseconds(900));
  EXPECT_EQ(options.max_waiting, 123u);
}

TEST(ProxySettingsTest, TcpClientTableOptionsTakeEveryClientLimit) {
  config::Config c;
  c.tcp_idle_timeout = milliseconds(1'111);
  c.max_tcp_queries_per_client = 5;
  c.tcp_read_timeout = milliseconds(2'222);
  c.max_tcp_clients = 10;
  c.max_tcp_clients_per_address = 3;
  const TcpClientTableOptions options = tcp_client_table_options_build(c);
  EXPECT_EQ(options.limits.idle_timeout, milliseconds(1'111));
  EXPECT_EQ(options.limits.max_in_flight, 5u);
  EXPECT_EQ(options.limits.read_timeout, milliseconds(2'222));
  EXPECT_EQ(options.limits.max_output_bytes, io::TcpClientLimits{}.max_output_bytes);
  EXPECT_EQ(options.max_clients, 10u);
  EXPECT_EQ(options.max_clients_per_address, 3u);
}

TEST(ProxySettingsTest, CacheOptionsTakeSizeStaleAndPrefetch) {
  config::Config c;
  c.cache_size = 1 << 20;
  c.serve_stale = false;
  c.max_stale = seconds(60);
  c.prefetch = false;
  cache::CacheOptions options = cache_options_build(c);
  EXPECT_EQ(options.max_bytes, 1u << 20);
  EXPECT_FALSE(options.serve_stale);
  EXPECT_EQ(options.max_stale, seconds(60));
  EXPECT_EQ(options.prefetch_percent, 0u);
  c.prefetch = true;
  EXPECT_EQ(cache_options_build(c).prefetch_percent, 10u);
}

TEST(ProxySettingsTest, SettingsHoldEveryUpstreamAndTheGuardsParts) {
  config::Config c;
  c.upstreams = {config::upstream_spec_parse("9.9.9.9#dns.quad9.net"),
                 config::upstream_spec_parse("1.1.1.1@853#cloudflare-dns.com")};
  c.acl = {*policy::acl_rule_parse("10.0.0.0/8 refuse"),
           *policy::acl_rule_parse("0.0.0.0/0 allow")};
  c.rate_limit.queries_per_second = 50;
  c.tls_handshake_rate = 4;
  c.blocklist_answer = dns::BlockedAnswer::kNull;
  c.max_tcp_clients = 77;
  c.upstream_connections = 5;
  c.max_ttl = seconds(60);
  const Settings s = settings_build(c);
  ASSERT_EQ(s.upstreams.size(), 2u);
  EXPECT_EQ(s.upstreams[0].display(), "9.9.9.9@853#dns.quad9.net");
  EXPECT_EQ(s.upstreams[1].display(), "1.1.1.1@853#cloudflare-dns.com");
  EXPECT_EQ(s.pool.connections_per_upstream, 5u);
  EXPECT_EQ(s.resolve.ttl.max_ttl, 60u);
  EXPECT_EQ(s.tcp.max_clients, 77u);
  EXPECT_EQ(s.rate_limit.queries_per_second, 50);
  EXPECT_EQ(s.handshake_limit.queries_per_second, 4);
  EXPECT_EQ(s.handshake_limit.ipv4_prefix, 32u);  // per address, not per network
  EXPECT_EQ(s.blocklist_answer, dns::BlockedAnswer::kNull);
  ASSERT_NE(s.acl, nullptr);
  EXPECT_EQ(s.acl->check(address("10.1.2.3:53")), policy::AclAction::kRefuse);
  EXPECT_EQ(s.acl->check(address("192.0.2.1:53")), policy::AclAction::kAllow);
}

TEST(ProxySettingsTest, LocalZonesFollowTheSwitch) {
  const dns::Query localhost =
      dns::testing::parsed(dns::testing::query_build("localhost.", LDNS_RR_TYPE_A));
  config::Config c;
  const Settings on = settings_build(c);
  ASSERT_NE(on.local_zones, nullptr);
  EXPECT_TRUE(on.local_zones->answer(localhost).has_value());
  c.local_zones = false;
  const Settings off = settings_build(c);
  ASSERT_NE(off.local_zones, nullptr);
  EXPECT_FALSE(off.local_zones->answer(localhost).has_value());  // goes upstream
}

}  // namespace
}  // namespace dp::proxy
