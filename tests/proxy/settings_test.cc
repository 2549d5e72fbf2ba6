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
  ASSERT_NE(on.names, nullptr);
  EXPECT_EQ(on.names->table.route_find(localhost.question.qname_lower).kind,
            zones::Route::Kind::kLocal);
  EXPECT_TRUE(on.names->local_zones.answer(localhost).has_value());
  c.local_zones = false;
  const Settings off = settings_build(c);
  ASSERT_NE(off.names, nullptr);
  EXPECT_EQ(off.names->table.route_find(localhost.question.qname_lower).kind,
            zones::Route::Kind::kUpstream);  // goes upstream
  EXPECT_FALSE(off.names->local_zones.answer(localhost).has_value());
}

config::ForwardZoneConfig zone_of(const std::string& name, config::ZoneTransport transport,
                                  const std::string& server) {
  config::ForwardZoneConfig zone;
  zone.zone = name;
  zone.transport = transport;
  if (!server.empty()) zone.servers.push_back(config::upstream_spec_parse(server));
  return zone;
}

// Issue #15: one route per forward zone after the default upstreams', in the configuration's
// order (the route table's zone numbers); plain transports clear AD; a zone's own negative TTL.
TEST(ProxySettingsTest, EveryForwardZoneIsARouteWithItsOwnRules) {
  config::Config c;
  c.max_negative_ttl = seconds(3600);
  c.forward_zones = {
      zone_of("cluster.local", config::ZoneTransport::kTcp, "10.96.0.10@53"),
      zone_of("corp.example", config::ZoneTransport::kTls, "10.8.0.53@853#dns.corp.example"),
      zone_of("www.corp.example", config::ZoneTransport::kUpstream, "")};
  c.forward_zones[0].max_negative_ttl = seconds(5);
  c.forward_zones[1].cache = false;
  const Settings s = settings_build(c);
  ASSERT_EQ(s.routes.size(), 4u);
  EXPECT_EQ(s.routes[0].rules.cache_tag, 0u);
  EXPECT_EQ(s.routes[0].pool.servers.size(), s.upstreams.size());
  const RouteSettings& cluster = s.routes[1];
  EXPECT_EQ(cluster.pool.name, "cluster.local");
  EXPECT_EQ(cluster.pool.transport, upstream::Transport::kTcp);
  ASSERT_EQ(cluster.pool.servers.size(), 1u);
  EXPECT_EQ(cluster.pool.servers[0].display(), "10.96.0.10@53");
  EXPECT_TRUE(cluster.rules.clear_ad);
  EXPECT_TRUE(cluster.rules.query_shape.keepalive);  // tcp
  EXPECT_FALSE(cluster.rules.query_shape.padding);
  EXPECT_EQ(cluster.rules.ttl.max_negative_ttl, 5u);
  const RouteSettings& corp = s.routes[2];
  EXPECT_EQ(corp.pool.transport, upstream::Transport::kTls);
  EXPECT_FALSE(corp.rules.clear_ad);
  EXPECT_TRUE(corp.rules.query_shape.padding);  // tls
  EXPECT_FALSE(corp.rules.cache);
  EXPECT_EQ(corp.rules.ttl.max_negative_ttl, 3600u);
  EXPECT_NE(cluster.rules.cache_tag, 0u);
  EXPECT_NE(corp.rules.cache_tag, cluster.rules.cache_tag);
  EXPECT_TRUE(s.routes[3].pool.servers.empty());  // transport upstream: the default route
  const auto route_of = [&s](const char* name) {
    return s.names->table.route_find(zones::name_text_to_wire(name));
  };
  EXPECT_EQ(route_of("kube-dns.kube-system.svc.cluster.local").zone, 0);
  EXPECT_EQ(route_of("git.corp.example").zone, 1);
  EXPECT_EQ(route_of("www.corp.example").kind, zones::Route::Kind::kUpstream);
}

TEST(ProxySettingsTest, AReloadKeepsTheTagOfAnUnchangedZoneAndChangesAMovedOnes) {
  RouteTags tags;
  config::Config c;
  c.forward_zones = {zone_of("cluster.local", config::ZoneTransport::kTcp, "10.96.0.10@53"),
                     zone_of("corp.example", config::ZoneTransport::kUdp, "10.8.0.1")};
  const Settings before = settings_build(c, &tags);
  EXPECT_FALSE(before.routes[2].rules.query_shape.keepalive);  // udp: RFC 7828 §3.2.1
  EXPECT_FALSE(before.routes[2].rules.query_shape.padding);
  c.forward_zones[1] = zone_of("corp.example", config::ZoneTransport::kUdp, "10.8.0.2");
  const Settings after = settings_build(c, &tags);
  EXPECT_EQ(after.routes[1].rules.cache_tag, before.routes[1].rules.cache_tag);
  EXPECT_NE(after.routes[2].rules.cache_tag, before.routes[2].rules.cache_tag);
}

TEST(ProxySettingsTest, AForwardZoneTakesOverTheBuiltInZonesUnderIt) {
  config::Config c;
  c.forward_zones = {zone_of("10.in-addr.arpa", config::ZoneTransport::kTcp, "10.96.0.10")};
  const Settings s = settings_build(c);
  ASSERT_EQ(s.routes.size(), 2u);
  EXPECT_EQ(s.routes[1].taken_over, (std::vector<std::string>{"10.in-addr.arpa"}));
}

TEST(ProxySettingsTest, AnUnreadableHostsFileIsAnError) {
  config::Config c;
  c.hosts_files = {"/nonexistent/dotproxy-hosts"};
  EXPECT_THROW(settings_build(c), std::runtime_error);
}

}  // namespace
}  // namespace dp::proxy
