// A worker's pools by route: the default DoT upstreams (slot 0) and each forward zone's servers
// (slot 1 on, in the order of Settings::routes). Each route is an UpstreamPools of its own, so
// a reload that keeps a zone keeps its connections, and one that changes or removes a zone lets
// its old pools finish their queries before they are freed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "io/event_loop.h"
#include "proxy/upstream_pools.h"
#include "tls/credentials.h"
#include "upstream/pool.h"
#include "upstream/pool_stats.h"
#include "upstream/server_spec.h"

namespace dp::proxy {

// One route's servers as the pools need them.
struct RoutePoolSpec {
  std::string name;  // the zone; "" for the default upstreams
  upstream::Transport transport = upstream::Transport::kTls;
  std::vector<upstream::ServerSpec> servers;
  upstream::PoolOptions options;
};

// One route at a scrape: its name, transport, counters (its retired pools' included) and
// servers.
struct RouteStatus {
  std::string name;
  upstream::Transport transport = upstream::Transport::kTls;
  upstream::PoolStats stats;
  std::vector<upstream::UpstreamStatus> servers;
};

// Owned by one worker, before everything that sends queries through it; its loop's thread only.
class RoutePools {
 public:
  RoutePools(io::EventLoop& loop, const TimeSource& clock, upstream::StreamFactory make_stream,
             upstream::DatagramFactory make_datagram, std::vector<RoutePoolSpec> routes,
             const std::shared_ptr<const tls::ClientCredentials>& credentials);
  RoutePools(const RoutePools&) = delete;
  RoutePools& operator=(const RoutePools&) = delete;

  void start();  // warm connections for the first queries, on every route

  std::size_t size() const { return routes_.size(); }
  // The route's pools. Valid until the next reload() (slot 0, the default upstreams', for
  // ever). Precondition: the route has servers (a zone of transport `upstream` has none).
  upstream::Upstream& route(std::size_t slot) { return *routes_[slot].pools; }
  const UpstreamPools& default_route() const { return *routes_.front().pools; }

  // SIGHUP. A route whose name and transport stay keeps its UpstreamPools (which keeps the
  // connections of the servers that stay, UpstreamPools::reload); one that is new or changed
  // gets a new one; the old ones finish their queries, then are freed.
  void reload(const std::shared_ptr<const tls::ClientCredentials>& credentials,
              std::vector<RoutePoolSpec> routes);

  // What the timer does: frees the removed routes with nothing pending, their counters kept.
  void removed_reap();

  std::size_t pending() const;              // every route's, removed ones too
  upstream::PoolStats stats() const;        // every pool's since start
  std::vector<RouteStatus> status() const;  // the current routes with servers, in slot order

 private:
  struct Route {
    RoutePoolSpec spec;
    std::unique_ptr<UpstreamPools> pools;  // null for a zone of transport `upstream`
  };
  std::unique_ptr<UpstreamPools> pools_create(
      const RoutePoolSpec& spec, std::shared_ptr<const tls::ClientCredentials> credentials);

  io::EventLoop& loop_;
  const TimeSource& clock_;
  upstream::StreamFactory make_stream_;
  upstream::DatagramFactory make_datagram_;
  std::vector<Route> routes_;
  std::vector<std::unique_ptr<UpstreamPools>> removed_;  // finishing their queries
  upstream::PoolStats freed_stats_;                      // counters of the routes freed
  io::Timer reap_timer_;                                 // armed while a route is removed
};

}  // namespace dp::proxy
