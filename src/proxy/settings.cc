#include "proxy/settings.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "dnssec/trust_anchor.h"
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

upstream::Transport transport_build(config::ZoneTransport transport) {
  switch (transport) {
    case config::ZoneTransport::kTcp:
      return upstream::Transport::kTcp;
    case config::ZoneTransport::kUdp:
      return upstream::Transport::kUdp;
    case config::ZoneTransport::kTls:
    case config::ZoneTransport::kUpstream:
      break;
  }
  return upstream::Transport::kTls;
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

namespace {

std::string servers_display(const std::vector<upstream::ServerSpec>& servers) {
  std::string out;
  for (const auto& server : servers) {
    if (!out.empty()) out += ' ';
    out += server.display();
  }
  return out;
}

// The routes and the names: one entry per forward zone, in the configuration's order (the
// route table's zone numbers).
void routes_build(const config::Config& config, RouteTags& tags, Settings& out) {
  // First: a file that fails to read leaves the tags as they were (the reload is rejected).
  auto local_data = zones::local_data_build(config.local_data, config.hosts_files);
  if (!local_data) throw std::runtime_error(local_data.error());
  RouteSettings& fallback = out.routes.emplace_back();
  fallback.pool = RoutePoolSpec{"", upstream::Transport::kTls, out.upstreams, out.pool};
  fallback.rules.ttl = out.resolve.ttl;
  fallback.rules.dnssec = out.dnssec_mode;
  fallback.rules.query_shape.dnssec = out.dnssec_mode != DnssecMode::kOff;
  fallback.display = servers_display(out.upstreams);

  std::vector<zones::ForwardZoneEntry> entries;
  for (const config::ForwardZoneConfig& zone : config.forward_zones) {
    RouteSettings& route = out.routes.emplace_back();
    route.display = zone.display();
    const bool upstream = zone.transport == config::ZoneTransport::kUpstream;
    entries.push_back(zones::ForwardZoneEntry{zones::name_text_to_wire(zone.zone), upstream});
    if (upstream)
      continue;  // its names get the default route; the table says so (and the
                 // negative trust anchors, unless it says dnssec = true)
    route.pool.name = zone.zone;
    route.pool.transport = transport_build(zone.transport);
    for (const auto& server : zone.servers) route.pool.servers.push_back(server_spec_build(server));
    route.pool.options = out.pool;
    route.rules.cache_tag = tags.tag_for(route.display);
    route.rules.cache = zone.cache;
    route.rules.clear_ad = route.pool.transport != upstream::Transport::kTls;
    route.rules.transport = route.pool.transport;
    route.rules.query_shape.keepalive = route.pool.transport != upstream::Transport::kUdp;
    route.rules.query_shape.padding = route.pool.transport == upstream::Transport::kTls;
    route.rules.ttl = out.resolve.ttl;
    if (zone.max_negative_ttl) {
      route.rules.ttl.max_negative_ttl = static_cast<std::uint32_t>(zone.max_negative_ttl->count());
    }
    // An internal zone is insecure unless its table says it validates: its servers'
    // answers are not checked, and never carry AD.
    route.rules.dnssec = zone.dnssec ? out.dnssec_mode : DnssecMode::kOff;
    route.rules.query_shape.dnssec = route.rules.dnssec != DnssecMode::kOff;
  }
  tags.forget_unused();

  zones::RouteTableBuild built = zones::route_table_build(
      entries, config.local_zones ? dns::LocalZones::default_apexes() : std::vector<std::string>{});
  for (std::size_t i = 0; i < built.taken_over.size(); ++i) {
    for (const auto& apex : built.taken_over[i]) {
      out.routes[1 + i].taken_over.push_back(zones::name_wire_to_text(apex));
    }
  }
  out.names = std::make_shared<const NameRoutes>(
      NameRoutes{std::move(*local_data), std::move(built.table), std::move(built.local_zones)});
}

}  // namespace

DnssecMode dnssec_mode_build(config::DnssecMode mode) {
  switch (mode) {
    case config::DnssecMode::kOff:
      return DnssecMode::kOff;
    case config::DnssecMode::kPermissive:
      return DnssecMode::kPermissive;
    case config::DnssecMode::kValidate:
      return DnssecMode::kValidate;
  }
  return DnssecMode::kValidate;
}

std::shared_ptr<const dnssec::ChainConfig> dnssec_chain_build(const config::Config& config) {
  auto chain = std::make_shared<dnssec::ChainConfig>();
  if (config.trust_anchor_file.empty()) {
    chain->anchors = dnssec::trust_anchors_builtin();
  } else {
    std::ifstream file(config.trust_anchor_file);
    std::stringstream text;
    text << file.rdbuf();
    if (!file)
      throw std::runtime_error("--trust-anchor " + config.trust_anchor_file + ": cannot read");
    auto anchors = dnssec::trust_anchors_parse(text.str());
    if (!anchors) {
      throw std::runtime_error("--trust-anchor " + config.trust_anchor_file + ": " +
                               anchors.error());
    }
    chain->anchors = std::move(*anchors);
  }
  for (const std::string& domain : config.insecure_domains) {
    chain->insecure_domains.push_back(zones::name_text_to_wire(domain));
  }
  for (const config::ForwardZoneConfig& zone : config.forward_zones) {
    if (zone.transport == config::ZoneTransport::kUpstream && !zone.dnssec) {
      chain->insecure_domains.push_back(zones::name_text_to_wire(zone.zone));
    }
  }
  // At least a second: the walk must see what a failed fetch left before it can move on.
  chain->bogus_ttl =
      std::max<std::uint32_t>(1, static_cast<std::uint32_t>(config.servfail_ttl.count()));
  return chain;
}

std::size_t key_cache_bytes_build(const config::Config& config) {
  // Each worker's own: a sixteenth of the answer cache, between 1 and 64 MiB. A key set is
  // some hundreds of bytes; even 1 MiB holds thousands of zones.
  const std::size_t share = config.cache_size / 16;
  return std::clamp<std::size_t>(share, std::size_t{1} << 20, std::size_t{64} << 20);
}

Settings settings_build(const config::Config& config, RouteTags* tags) {
  RouteTags fresh;
  Settings out;
  for (const auto& upstream : config.upstreams)
    out.upstreams.push_back(server_spec_build(upstream));
  out.pool = pool_options_build(config);
  out.resolve = resolve_options_build(config);
  out.tcp = tcp_client_table_options_build(config);
  out.handshake_limit = handshake_limit_options(config.tls_handshake_rate);
  out.acl = std::make_shared<const policy::Acl>(config.acl);
  out.rate_limit = config.rate_limit;
  out.blocklist_answer = config.blocklist_answer;
  out.dnssec_mode = dnssec_mode_build(config.dnssec);
  if (out.dnssec_mode != DnssecMode::kOff) out.dnssec_chain = dnssec_chain_build(config);
  out.key_cache_bytes = key_cache_bytes_build(config);
  routes_build(config, tags != nullptr ? *tags : fresh, out);
  return out;
}

}  // namespace dp::proxy
