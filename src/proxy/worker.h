// One worker thread: its own event loop, its own UDP/TCP sockets on every listen address
// (SO_REUSEPORT), its own upstream connections. Workers share nothing on the data plane.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache.h"
#include "common/clock.h"
#include "io/event_loop.h"
#include "io/tcp_listener.h"
#include "io/udp_listener.h"
#include "policy/blocklist.h"
#include "policy/rate_limiter.h"
#include "proxy/cached_resolver.h"
#include "proxy/client_tap.h"
#include "proxy/forwarder_tap.h"
#include "proxy/query_handler.h"
#include "proxy/query_log.h"
#include "proxy/query_log_batch.h"
#include "proxy/query_stats.h"
#include "proxy/route_pools.h"
#include "proxy/settings.h"
#include "proxy/tcp_client_table.h"
#include "proxy/tls_stats.h"
#include "proxy/worker_snapshot.h"
#include "tls/credentials.h"
#include "tls/server_credentials.h"

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
class Worker final : private ReplySink {
 public:
  // Takes ownership of the sockets. `cache` (null: none) is shared by every worker and
  // outlives them; so does `query_log` (null: no query log).
  Worker(std::size_t index, const Settings& settings, const std::vector<ListenSockets>& sockets,
         const std::shared_ptr<const tls::ClientCredentials>& credentials, cache::Cache* cache,
         std::shared_ptr<const policy::Blocklist> blocklist = nullptr,
         QueryLogWriter* query_log = nullptr, TlsListenSockets tls = {},
         const DnstapOutput& dnstap = {});
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
  // From any thread (SIGHUP): the worker takes the reloadable parts of `settings` at its
  // loop's next turn; the future is ready once it has. A changed pool setting gets a new pool
  // for new queries, the old one finishing what it has (no query lost); a changed server list
  // changes in place, keeping the connections of the servers that stay (UpstreamPools::
  // reload); the pool takes the new trust (CA, pins, TLS version) for new connections. ACL, rate
  // limit, local zones, TCP limits and the cache's TTL settings apply to the next query.
  std::future<void> reload(std::shared_ptr<const tls::ClientCredentials> credentials,
                           std::shared_ptr<const Settings> settings);
  // From any thread, like reload: the worker's queries meet the new list (null: none).
  std::future<void> update_blocklist(std::shared_ptr<const policy::Blocklist> blocklist,
                                     dns::BlockedAnswer answer);
  // From any thread (the control channel's flushes): see DnssecValidator::keys_forget. The
  // future holds how many key cache entries went.
  std::future<std::size_t> dnssec_keys_forget(std::string name, bool subtree);

 private:
  // ReplySink
  void reply_send(const ClientRef& client, std::span<const std::uint8_t> reply) override;
  // Every client message starts here: dnstap's CLIENT_QUERY (when on), then the handler.
  void query_receive(std::span<const std::uint8_t> message, const ClientRef& client);
  // The forward zones' routes for the handler, and their names for the query log.
  void routes_apply(const Settings& settings);
  // Where a DS or DNSKEY query for `name` goes: a forward zone that validates, else the
  // default upstreams; through dnstap's FetchTap when dnstap is on.
  upstream::Upstream& fetch_route(std::string_view name);

  std::size_t index_;
  SteadyTimeSource clock_;
  io::EventLoop loop_;  // first: everything below registers events on it
  QueryStats stats_;
  ClientTap dnstap_;                   // before resolver_, which logs into its tap
  FetchTap fetch_tap_{dnstap_.tap()};  // before pools_: their answers to fetches come through it
  TlsStats tls_stats_;                 // before tcp_clients_: their TLS transforms count into it
  policy::RateLimiter rate_limiter_;
  RoutePools pools_;  // before resolver_: its pending queries call back into it
  // After pools_ (its fetches go through them), before resolver_ (its answers go there);
  // null when no route validates.
  std::unique_ptr<DnssecValidator> validator_;
  DnssecMode dnssec_mode_ = DnssecMode::kOff;  // the default route's
  CachedResolver resolver_;
  QueryHandler handler_;
  std::vector<std::unique_ptr<io::UdpListener>> udp_;
  std::vector<std::unique_ptr<io::TcpListener>> tcp_;
  TcpClientTable tcp_clients_;
  std::vector<std::unique_ptr<io::TcpListener>> tls_;
  std::unique_ptr<QueryLogBatch> query_log_;  // null: no --query-log
  std::thread thread_;
  std::unique_ptr<io::Timer> drain_timer_;  // set by drain(): checks for quiet every 20 ms
};

}  // namespace dp::proxy
