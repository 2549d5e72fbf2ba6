// Turns the configuration into each module's own options: the one place that reads
// config::Config for the server and its workers, at start and on every reload, so no module
// below proxy/ sees the config's types.
#pragma once

#include <memory>
#include <vector>

#include "cache/cache.h"
#include "config/config.h"
#include "dns/blocked_reply.h"
#include "dns/local_zones.h"
#include "policy/acl.h"
#include "policy/rate_limiter.h"
#include "proxy/cached_resolver.h"
#include "proxy/tcp_client_table.h"
#include "upstream/pool.h"
#include "upstream/server_spec.h"

namespace dp::proxy {

// What a worker takes from the configuration. Built once per start or reload and shared, read
// only, by every worker: the ACL and local zones are immutable and shared with it.
struct Settings {
  std::vector<upstream::ServerSpec> upstreams;
  upstream::PoolOptions pool;
  ResolveOptions resolve;
  TcpClientTableOptions tcp;
  policy::RateLimitOptions handshake_limit;  // DoT listener; taken at start only
  // The guard's parts (QueryPolicy), the rate limiter being each worker's own.
  std::shared_ptr<const policy::Acl> acl;
  policy::RateLimitOptions rate_limit;
  std::shared_ptr<const dns::LocalZones> local_zones;
  dns::BlockedAnswer blocklist_answer = dns::BlockedAnswer::kNxDomain;
};

Settings settings_build(const config::Config& config);

// The parts, each also used on its own.
upstream::ServerSpec server_spec_build(const config::UpstreamConfig& upstream);
upstream::PoolOptions pool_options_build(const config::Config& config);
ResolveOptions resolve_options_build(const config::Config& config);
TcpClientTableOptions tcp_client_table_options_build(const config::Config& config);
cache::CacheOptions cache_options_build(const config::Config& config);  // the shared cache

}  // namespace dp::proxy
