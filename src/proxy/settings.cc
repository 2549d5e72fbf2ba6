#include "proxy/settings.h"

#include <algorithm>

#include "proxy/tls_transform.h"

namespace dp::proxy {
namespace {

constexpr std::chrono::milliseconds kMaxHandshakeTimeout{2'000};  // TCP + TLS 1.2: 3 RTTs

std::uint32_t seconds_of(std::chrono::seconds s) { return static_cast<std::uint32_t>(s.count()); }

}  // namespace

upstream::ServerSpec server_spec_build(const config::UpstreamConfig& upstream) {
  return upstream::ServerSpec{upstream.address, upstream.auth_name, upstream.pins,
                              upstream.tls_min_version};
}

upstream::PoolOptions pool_options_build(const config::Config& config) {
  upstream::PoolOptions options;
  options.connections_per_upstream = config.upstream_connections;
  options.max_in_flight_per_connection = config.max_queries_per_connection;
  options.max_pending = config.max_pending_queries;
  options.query_timeout = config.upstream_timeout;
  options.liveness_timeout = config.upstream_timeout;
  options.failover_on_servfail = config.servfail_failover;
  // Half the query's time at most for connect + handshake, so a query whose upstream cannot
  // be reached still has time to fail over to the next one.
  options.handshake_timeout =
      std::clamp(config.upstream_timeout / 2, std::chrono::milliseconds(1), kMaxHandshakeTimeout);
  return options;
}

ResolveOptions resolve_options_build(const config::Config& config) {
  ResolveOptions options;
  options.ttl.min_ttl = seconds_of(config.min_ttl);
  options.ttl.max_ttl = seconds_of(config.max_ttl);
  options.ttl.max_negative_ttl = seconds_of(config.max_negative_ttl);
  options.ttl.failure_ttl = seconds_of(config.servfail_ttl);
  options.stale_client_timeout = config.stale_client_timeout;
  options.max_waiting = config.max_pending_queries;
  return options;
}

TcpClientTableOptions tcp_client_table_options_build(const config::Config& config) {
  TcpClientTableOptions options;
  options.limits.idle_timeout = config.tcp_idle_timeout;
  options.limits.max_in_flight = config.max_tcp_queries_per_client;
  options.limits.read_timeout = config.tcp_read_timeout;
  options.max_clients = config.max_tcp_clients;
  options.max_clients_per_address = config.max_tcp_clients_per_address;
  return options;
}

cache::CacheOptions cache_options_build(const config::Config& config) {
  return cache::CacheOptions{.max_bytes = config.cache_size,
                             .serve_stale = config.serve_stale,
                             .max_stale = config.max_stale,
                             .prefetch_percent = config.prefetch ? 10U : 0U};
}

Settings settings_build(const config::Config& config) {
  Settings out;
  for (const auto& upstream : config.upstreams)
    out.upstreams.push_back(server_spec_build(upstream));
  out.pool = pool_options_build(config);
  out.resolve = resolve_options_build(config);
  out.tcp = tcp_client_table_options_build(config);
  out.handshake_limit = handshake_limit_options(config.tls_handshake_rate);
  out.acl = std::make_shared<const policy::Acl>(config.acl);
  out.rate_limit = config.rate_limit;
  out.local_zones = std::make_shared<const dns::LocalZones>(
      config.local_zones ? dns::LocalZones::defaults() : dns::LocalZones::none());
  out.blocklist_answer = config.blocklist_answer;
  return out;
}

}  // namespace dp::proxy
