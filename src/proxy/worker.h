// One worker thread: its own event loop, its own UDP/TCP sockets on every listen address
// (SO_REUSEPORT), its own upstream connections. Workers share nothing on the data plane.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cache/cache.h"
#include "common/clock.h"
#include "config/config.h"
#include "io/event_loop.h"
#include "io/tcp_client_connection.h"
#include "io/tcp_listener.h"
#include "io/udp_listener.h"
#include "proxy/query_handler.h"
#include "proxy/query_log.h"
#include "proxy/query_stats.h"
#include "proxy/tls_stats.h"
#include "proxy/worker_snapshot.h"
#include "tls/credentials.h"
#include "tls/server_credentials.h"
#include "upstream/pool.h"

namespace dp::proxy {

// Bound sockets for one listen address, handed to a worker.
struct ListenSockets {
  int udp_fd = -1;
  int tcp_fd = -1;
};

// The DoT listener's sockets for one worker (one per --listen-tls address) and what its
// sessions need; no fds: no listener.
struct TlsListenSockets {
  std::vector<int> fds;
  std::shared_ptr<const tls::ServerCredentials> credentials;
};

// Owned by the Server; its thread runs the loop until stop().
class Worker final : private ReplySink, private io::TcpClientConnection::Handler {
 public:
  // Takes ownership of the sockets. `cache` (null: none) is shared by every worker and
  // outlives them.
  Worker(std::size_t index, const config::Config& config, const std::vector<ListenSockets>& sockets,
         std::shared_ptr<const tls::ClientCredentials> credentials, cache::Cache* cache,
         std::shared_ptr<const policy::Blocklist> blocklist = nullptr,
         QueryLogWriter* query_log = nullptr, TlsListenSockets tls = {});
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();  // spawns the thread
  void stop();   // from any thread: the loop exits at its next turn
  // From any thread: stops reading UDP and accepting TCP, then stops the loop once nothing is
  // in flight (upstream queries, TCP replies owed) or at `deadline`, whichever comes first.
  void drain(TimePoint deadline);
  void join();
  // From any thread: the worker's counters, copied on its own thread at its loop's next turn.
  std::future<WorkerSnapshot> snapshot();
  // From any thread (SIGHUP): the worker takes the reloadable parts of `config` at its loop's
  // next turn; the future is ready once it has. A changed upstream list or pool setting gets
  // a new pool for new queries, the old one finishing what it has (no query lost); else the
  // pool takes the new trust (CA, pins, TLS version) for new connections. ACL, rate limit,
  // local zones, TCP limits and the cache's TTL settings apply to the next query.
  std::future<void> reload(std::shared_ptr<const tls::ClientCredentials> credentials,
                           std::shared_ptr<const config::Config> config);
  // From any thread, like reload: the worker's queries meet the new list (null: none).
  std::future<void> update_blocklist(std::shared_ptr<const policy::Blocklist> blocklist,
                                     dns::BlockedAnswer answer);

 private:
  void on_udp(std::size_t listener, std::span<const std::uint8_t> message,
              const SocketAddress& from);
  void on_accept(int fd, const SocketAddress& peer, bool tls = false);
  void on_accept_tls(int fd, const SocketAddress& peer);  // rate limit, then on_accept
  void query_log_flush();  // hands the gathered lines to the writer (or counts them dropped)
  std::unique_ptr<upstream::Pool> pool_create(
      const config::Config& config, std::shared_ptr<const tls::ClientCredentials> credentials);
  void retired_pools_reap();  // frees the pools a reload replaced once they are idle

  // The upstream the handler sees: whichever pool is current (a reload may swap it).
  struct CurrentPool final : upstream::Upstream {
    upstream::Pool* pool = nullptr;
    void resolve(std::span<const std::uint8_t> query, const dns::Question& question,
                 Callback done) override {
      pool->resolve(query, question, std::move(done));
    }
  };

  // ReplySink
  void reply_send(const ClientRef& client, std::span<const std::uint8_t> reply) override;
  // io::TcpClientConnection::Handler
  void on_client_message(io::TcpClientConnection& conn,
                         std::span<const std::uint8_t> message) override;
  void on_client_closed(io::TcpClientConnection& conn) override;

  std::size_t index_;
  io::TcpClientLimits tcp_limits_;
  std::size_t max_tcp_clients_;
  std::size_t max_tcp_clients_per_ip_;
  SteadyTimeSource clock_;
  io::EventLoop loop_;  // first: everything below registers events on it
  QueryStats stats_;
  TlsStats tls_stats_;  // before tcp_clients_: their TLS transforms count into it
  policy::RateLimiter rate_limiter_;
  std::unique_ptr<upstream::Pool> pool_;
  upstream::PoolOptions pool_options_;
  CurrentPool current_pool_;
  std::vector<std::unique_ptr<upstream::Pool>> retired_pools_;  // finishing their queries
  upstream::PoolStats retired_stats_;  // counters of the pools already freed
  std::unique_ptr<io::Timer> reap_timer_;
  std::unique_ptr<QueryHandler> handler_;
  std::vector<std::unique_ptr<io::UdpListener>> udp_;
  std::vector<std::unique_ptr<io::TcpListener>> tcp_;
  std::unordered_map<std::uint64_t, std::unique_ptr<io::TcpClientConnection>> tcp_clients_;
  // Open client connections per IP address (text form): one host cannot take every slot.
  std::unordered_map<std::string, std::size_t> tcp_clients_per_ip_;
  std::uint64_t next_conn_id_ = 1;
  std::uint64_t tcp_clients_refused_ = 0;                          // over max_tcp_clients
  std::shared_ptr<const tls::ServerCredentials> tls_credentials_;  // null: no DoT listener
  std::vector<std::unique_ptr<io::TcpListener>> tls_;
  policy::RateLimiter handshake_limiter_;  // --tls-handshake-rate, per client IP
  std::thread thread_;
  std::unique_ptr<io::Timer> drain_timer_;  // set by drain(): checks for quiet every 20 ms
  // --query-log: lines gathered here, handed to the writer in chunks (16 KiB or 200 ms).
  QueryLogWriter* query_log_;
  std::string query_log_chunk_;
  std::uint64_t query_log_lines_ = 0;
  io::Timer query_log_timer_;
};

}  // namespace dp::proxy
