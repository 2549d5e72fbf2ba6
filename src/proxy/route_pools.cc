#include "proxy/route_pools.h"

#include <algorithm>
#include <utility>

namespace dp::proxy {

RoutePools::RoutePools(io::EventLoop& loop, const TimeSource& clock,
                       upstream::StreamFactory make_stream, upstream::DatagramFactory make_datagram,
                       std::vector<RoutePoolSpec> routes,
                       const std::shared_ptr<const tls::ClientCredentials>& credentials)
    : loop_(loop),
      clock_(clock),
      make_stream_(std::move(make_stream)),
      make_datagram_(std::move(make_datagram)),
      reap_timer_(loop, [this] { removed_reap(); }) {
  for (auto& spec : routes) {
    auto pools = pools_create(spec, credentials);
    routes_.push_back(Route{std::move(spec), std::move(pools)});
  }
}

std::unique_ptr<UpstreamPools> RoutePools::pools_create(
    const RoutePoolSpec& spec, std::shared_ptr<const tls::ClientCredentials> credentials) {
  if (!spec.name.empty() && spec.servers.empty()) return nullptr;  // transport upstream
  // Plain transports carry no TLS: their pools get no credentials at all.
  if (spec.transport != upstream::Transport::kTls) credentials = nullptr;
  return std::make_unique<UpstreamPools>(loop_, clock_, spec.transport, make_stream_,
                                         make_datagram_, spec.servers, std::move(credentials),
                                         spec.options);
}

void RoutePools::start() {
  for (auto& route : routes_) {
    if (route.pools != nullptr) route.pools->start();
  }
}

void RoutePools::reload(const std::shared_ptr<const tls::ClientCredentials>& credentials,
                        std::vector<RoutePoolSpec> routes) {
  std::vector<Route> next;
  for (auto& spec : routes) {
    const auto kept = std::find_if(routes_.begin(), routes_.end(), [&spec](const Route& r) {
      return r.pools != nullptr && !spec.servers.empty() && r.spec.name == spec.name &&
             r.spec.transport == spec.transport;
    });
    if (kept != routes_.end()) {
      auto creds = spec.transport == upstream::Transport::kTls ? credentials : nullptr;
      kept->pools->reload(std::move(creds), spec.servers, spec.options);
      next.push_back(Route{std::move(spec), std::move(kept->pools)});
      continue;
    }
    auto pools = pools_create(spec, credentials);
    if (pools != nullptr) pools->start();
    next.push_back(Route{std::move(spec), std::move(pools)});
  }
  for (auto& route : routes_) {
    if (route.pools != nullptr) removed_.push_back(std::move(route.pools));
  }
  routes_ = std::move(next);
  if (!removed_.empty()) reap_timer_.arm(UpstreamPools::kReapEvery);
}

void RoutePools::removed_reap() {
  std::erase_if(removed_, [this](const std::unique_ptr<UpstreamPools>& pools) {
    pools->retired_reap();
    if (pools->pending() > 0) return false;
    freed_stats_ += pools->stats();
    return true;
  });
  if (!removed_.empty()) reap_timer_.arm(UpstreamPools::kReapEvery);
}

std::size_t RoutePools::pending() const {
  std::size_t n = 0;
  for (const auto& route : routes_) n += route.pools != nullptr ? route.pools->pending() : 0;
  for (const auto& pools : removed_) n += pools->pending();
  return n;
}

upstream::PoolStats RoutePools::stats() const {
  upstream::PoolStats out = freed_stats_;
  for (const auto& route : routes_) {
    if (route.pools != nullptr) out += route.pools->stats();
  }
  for (const auto& pools : removed_) out += pools->stats();
  return out;
}

std::vector<RouteStatus> RoutePools::status() const {
  std::vector<RouteStatus> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) {
    if (route.pools == nullptr) continue;
    out.push_back(RouteStatus{route.spec.name, route.spec.transport, route.pools->stats(),
                              route.pools->current().upstream_status()});
  }
  return out;
}

}  // namespace dp::proxy
