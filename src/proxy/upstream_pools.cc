#include "proxy/upstream_pools.h"

#include <algorithm>
#include <utility>

namespace dp::proxy {
namespace {

bool same_servers(const std::vector<upstream::ServerSpec>& a,
                  const std::vector<upstream::ServerSpec>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.display() == y.display(); });
}

}  // namespace

UpstreamPools::UpstreamPools(io::EventLoop& loop, const TimeSource& clock,
                             upstream::Transport transport, upstream::StreamFactory make_stream,
                             upstream::DatagramFactory make_datagram,
                             std::vector<upstream::ServerSpec> servers,
                             std::shared_ptr<const tls::ClientCredentials> credentials,
                             const upstream::PoolOptions& options)
    : loop_(loop),
      clock_(clock),
      transport_(transport),
      make_stream_(std::move(make_stream)),
      make_datagram_(std::move(make_datagram)),
      servers_(std::move(servers)),
      options_(options),
      current_(pool_create(std::move(credentials))),
      reap_timer_(loop, [this] { retired_reap(); }) {}

std::unique_ptr<upstream::Pool> UpstreamPools::pool_create(
    std::shared_ptr<const tls::ClientCredentials> credentials) {
  return std::make_unique<upstream::Pool>(loop_, clock_, transport_, servers_,
                                          std::move(credentials), options_, make_stream_,
                                          make_datagram_);
}

bool UpstreamPools::reload(std::shared_ptr<const tls::ClientCredentials> credentials,
                           const std::vector<upstream::ServerSpec>& servers,
                           const upstream::PoolOptions& options) {
  if (options == options_) {
    if (same_servers(servers, servers_)) {
      current_->update_trust(std::move(credentials), servers);
      return false;
    }
    // Servers that stay keep their connections: the list changes inside the pool.
    if (current_->servers_update(credentials, servers)) {
      servers_ = servers;
      return false;
    }
  }
  servers_ = servers;
  options_ = options;
  retired_.push_back(std::move(current_));  // finishes its queries, then is freed
  current_ = pool_create(std::move(credentials));
  current_->start();
  reap_timer_.arm(kReapEvery);
  return true;
}

void UpstreamPools::retired_reap() {
  std::erase_if(retired_, [this](const std::unique_ptr<upstream::Pool>& pool) {
    if (pool->pending() > 0) return false;
    freed_stats_ += pool->stats();
    return true;
  });
  if (!retired_.empty()) reap_timer_.arm(kReapEvery);
}

std::size_t UpstreamPools::pending() const {
  std::size_t n = current_->pending();
  for (const auto& pool : retired_) n += pool->pending();
  return n;
}

upstream::PoolStats UpstreamPools::stats() const {
  upstream::PoolStats out = current_->stats();
  out += freed_stats_;
  for (const auto& pool : retired_) out += pool->stats();
  return out;
}

}  // namespace dp::proxy
