// A worker's upstream pools: the current one, which every new query goes to, and those a
// reload replaced, each kept until its own queries are done (a reload loses none), then freed
// with its counters kept.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "io/event_loop.h"
#include "tls/credentials.h"
#include "upstream/pool.h"
#include "upstream/pool_stats.h"
#include "upstream/server_spec.h"
#include "upstream/upstream.h"

namespace dp::proxy {

// Owned by one worker, before everything that sends queries through it; its loop's thread only.
class UpstreamPools final : public upstream::Upstream {
 public:
  static constexpr std::chrono::milliseconds kReapEvery{200};  // retired pools checked for idle

  // `credentials` for Transport::kTls only; `make_datagram` for kUdp only.
  UpstreamPools(io::EventLoop& loop, const TimeSource& clock, upstream::Transport transport,
                upstream::StreamFactory make_stream, upstream::DatagramFactory make_datagram,
                std::vector<upstream::ServerSpec> servers,
                std::shared_ptr<const tls::ClientCredentials> credentials,
                const upstream::PoolOptions& options);
  UpstreamPools(const UpstreamPools&) = delete;
  UpstreamPools& operator=(const UpstreamPools&) = delete;

  void start() { current_->start(); }  // warm connections for the first queries

  // To the current pool.
  void resolve(std::span<const std::uint8_t> query, const dns::Question& question,
               Callback done) override {
    current_->resolve(query, question, std::move(done));
  }

  // SIGHUP. Other pool options: a new current pool, started, for new queries, the old one
  // retired. Another server list (as display() spells it) with the same options: the current
  // pool changes its list in place (Pool::servers_update), so servers that stay keep their
  // connections; a new pool only when it holds too many removed servers already. Either way
  // the pool takes the new trust (CA, pins, TLS version) for its new connections. Returns true
  // when the pool was replaced.
  bool reload(std::shared_ptr<const tls::ClientCredentials> credentials,
              const std::vector<upstream::ServerSpec>& servers,
              const upstream::PoolOptions& options);

  // What the timer does: frees the retired pools with nothing pending, their counters kept.
  void retired_reap();

  const upstream::Pool& current() const { return *current_; }
  std::size_t retired() const { return retired_.size(); }
  std::size_t pending() const;        // queries in flight or queued in any pool, retired ones too
  upstream::PoolStats stats() const;  // every pool's since start, freed ones included

 private:
  std::unique_ptr<upstream::Pool> pool_create(
      std::shared_ptr<const tls::ClientCredentials> credentials);

  io::EventLoop& loop_;
  const TimeSource& clock_;
  upstream::Transport transport_;
  upstream::StreamFactory make_stream_;
  upstream::DatagramFactory make_datagram_;
  std::vector<upstream::ServerSpec> servers_;  // the current pool's
  upstream::PoolOptions options_;              // the current pool's
  std::unique_ptr<upstream::Pool> current_;
  std::vector<std::unique_ptr<upstream::Pool>> retired_;  // finishing their queries
  upstream::PoolStats freed_stats_;                       // counters of the pools freed
  io::Timer reap_timer_;                                  // armed while a pool is retired
};

}  // namespace dp::proxy
