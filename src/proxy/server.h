// The whole daemon minus main(): binds every listen address for every worker, then runs the
// workers until stop().
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "common/socket_address.h"
#include "config/config.h"
#include "dnstap/writer.h"
#include "proxy/metrics_page.h"
#include "proxy/query_log.h"
#include "proxy/route_tags.h"
#include "proxy/worker.h"
#include "tls/credentials.h"
#include "tls/server_credentials.h"

namespace dp::proxy {

struct Settings;

// Owned by main(); start/stop/wait from the main thread.
class Server {
 public:
  // Binds all sockets and opens the dnstap output (config.dnstap); throws std::runtime_error
  // with one line on failure (nothing started).
  Server(const config::Config& config,
         const std::shared_ptr<const tls::ClientCredentials>& credentials,
         const std::shared_ptr<const policy::Blocklist>& blocklist = nullptr,
         QueryLogWriter* query_log = nullptr,
         const std::shared_ptr<const tls::ServerCredentials>& tls_credentials = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  void stop();
  void wait();
  // SIGTERM: every worker stops taking queries and finishes those in flight, for at most
  // `timeout`; wait() returns once all have.
  void drain(std::chrono::milliseconds timeout);
  // SIGHUP: every worker takes the reloadable parts of `config` (see Worker::reload);
  // returns once all have. Throws std::runtime_error (nothing applied) when the local data
  // cannot be read.
  void reload(const std::shared_ptr<const tls::ClientCredentials>& credentials,
              const std::shared_ptr<const config::Config>& config);
  // SIGHUP: every worker takes the new blocklist (null: none); returns once all have. The old
  // list goes with the last worker to drop it: two frees, as it is two flat arrays.
  void update_blocklist(const std::shared_ptr<const policy::Blocklist>& blocklist,
                        dns::BlockedAnswer answer);

  // Every worker's counters; a worker that does not answer within `timeout` (a stuck loop)
  // is left out rather than holding the scrape.
  std::vector<WorkerSnapshot> snapshot(std::chrono::milliseconds timeout);
  // The control channel's flushes: every worker's validator forgets the keys it holds of
  // `name` (lowercased wire form; `subtree`: and below; empty: all). A worker that does not
  // answer within `timeout` is not waited for. Returns the entries removed.
  std::size_t dnssec_keys_forget(const std::string& name, bool subtree,
                                 std::chrono::milliseconds timeout);

  // The listen addresses with port 0 replaced by the port the kernel chose.
  const std::vector<SocketAddress>& listen_addresses() const { return listen_; }
  // The DoT listener's addresses, port 0 likewise replaced; empty: no listener.
  const std::vector<SocketAddress>& tls_listen_addresses() const { return listen_tls_; }
  std::size_t worker_count() const { return workers_.size(); }
  const cache::Cache* cache() const { return cache_.get(); }  // null: caching off
  cache::Cache* cache() { return cache_.get(); }              // the control channel's flushes
  // The forward zone of each cache route tag in use now (0, the default upstreams', is not
  // in it). Any thread.
  std::map<std::uint16_t, std::string> route_zones() const;
  ControlCounters& control_counters() { return control_counters_; }

 private:
  std::vector<SocketAddress> listen_;
  std::vector<SocketAddress> listen_tls_;
  void route_zones_set(const Settings& settings);

  RouteTags route_tags_;                  // the forward zones' cache tags, kept across reloads
  mutable std::mutex route_zones_mutex_;  // guards route_zones_: the control thread reads it
  std::map<std::uint16_t, std::string> route_zones_;
  ControlCounters control_counters_;
  std::unique_ptr<cache::Cache> cache_;  // before the workers: they use it until they stop
  // Before the workers too: destroyed after them, it writes out what they queued (SIGTERM
  // flushes the file). Null: dnstap off.
  std::unique_ptr<dnstap::Writer> dnstap_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace dp::proxy
