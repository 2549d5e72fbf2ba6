// Turns the configuration into each module's own options: the one place that reads
// config::Config for the server and its workers, at start and on every reload, so no module
// below proxy/ sees the config's types.
#pragma once

#include <memory>
#include <vector>

#include "cache/cache.h"
#include "config/config.h"
#include "dns/blocked_reply.h"
#include "dnssec/chain.h"
#include "policy/acl.h"
#include "policy/rate_limiter.h"
#include "proxy/cached_resolver.h"
#include "proxy/name_routes.h"
#include "proxy/route_pools.h"
#include "proxy/route_tags.h"
#include "proxy/route_target.h"
#include "proxy/tcp_client_table.h"
#include "upstream/pool.h"
#include "upstream/server_spec.h"

namespace dp::proxy {

// One route: [0] the default upstreams, [1 + n] forward zone n of the configuration.
struct RouteSettings {
  RoutePoolSpec pool;  // a zone of transport `upstream` has no servers: it uses routes[0]
  RouteRules rules;
  std::string display;  // "cluster.local tcp 10.96.0.10@53" (the default route: its servers)
  // The built-in local zones this forward zone took over (text), for its log line.
  std::vector<std::string> taken_over;
};

// What a worker takes from the configuration. Built once per start or reload and shared, read
// only, by every worker: the ACL and names are immutable and shared with it.
struct Settings {
  std::vector<upstream::ServerSpec> upstreams;  // = routes[0].pool.servers
  upstream::PoolOptions pool;
  std::vector<RouteSettings> routes;
  ResolveOptions resolve;
  TcpClientTableOptions tcp;
  policy::RateLimitOptions handshake_limit;  // DoT listener; taken at start only
  // The guard's parts (QueryPolicy), the rate limiter being each worker's own.
  std::shared_ptr<const policy::Acl> acl;
  policy::RateLimitOptions rate_limit;
  std::shared_ptr<const NameRoutes> names;  // local data, local zones, route table
  dns::BlockedAnswer blocklist_answer = dns::BlockedAnswer::kNxDomain;
  // DNSSEC: the default route's mode (each route's is in its rules), the anchors and negative
  // trust anchors, and each worker's key cache size.
  DnssecMode dnssec_mode = DnssecMode::kValidate;
  std::shared_ptr<const dnssec::ChainConfig> dnssec_chain;  // null: --dnssec off
  std::size_t key_cache_bytes = std::size_t{1} << 20;
};

// `tags` keeps each forward zone's cache tag across reloads (null: fresh tags). Throws
// std::runtime_error when local data or a hosts file cannot be read (config_load has checked
// them; a file may have changed since).
Settings settings_build(const config::Config& config, RouteTags* tags = nullptr);

// The parts, each also used on its own.
upstream::ServerSpec server_spec_build(const config::UpstreamConfig& upstream);
upstream::Transport transport_build(config::ZoneTransport transport);  // not kUpstream
upstream::PoolOptions pool_options_build(const config::Config& config);
DnssecMode dnssec_mode_build(config::DnssecMode mode);
// The trust anchors (built in, or --trust-anchor's file) and negative trust anchors. Throws
// std::runtime_error when the file cannot be read or parsed.
std::shared_ptr<const dnssec::ChainConfig> dnssec_chain_build(const config::Config& config);
std::size_t key_cache_bytes_build(const config::Config& config);
ResolveOptions resolve_options_build(const config::Config& config);
TcpClientTableOptions tcp_client_table_options_build(const config::Config& config);
cache::CacheOptions cache_options_build(const config::Config& config);  // the shared cache

}  // namespace dp::proxy
