#include "proxy/worker.h"

#include <unistd.h>

#include "common/log.h"
#include "io/tcp_stream.h"
#include "proxy/tls_transform.h"

namespace dp::proxy {

Worker::Worker(std::size_t index, const config::Config& config,
               const std::vector<ListenSockets>& sockets,
               std::shared_ptr<const tls::ClientCredentials> credentials, cache::Cache* cache,
               std::shared_ptr<const policy::Blocklist> blocklist, QueryLogWriter* query_log,
               TlsListenSockets tls)
    : index_(index),
      max_tcp_clients_(config.max_tcp_clients),
      max_tcp_clients_per_ip_(config.max_tcp_clients_per_address),
      rate_limiter_(config.rate_limit),
      tls_credentials_(std::move(tls.credentials)),
      handshake_limiter_(handshake_limit_options(config.tls_handshake_rate)),
      query_log_(query_log),
      query_log_timer_(loop_, [this] { query_log_flush(); }) {
  tcp_limits_.idle_timeout = config.tcp_idle_timeout;
  tcp_limits_.max_in_flight = config.max_tcp_queries_per_client;
  tcp_limits_.read_timeout = config.tcp_read_timeout;
  pool_ = pool_create(config, std::move(credentials));
  current_pool_.pool = pool_.get();
  QueryPolicy policy{
      std::make_shared<const policy::Acl>(config.acl),
      rate_limiter_.enabled() ? &rate_limiter_ : nullptr,
      std::make_shared<const dns::LocalZones>(config.local_zones ? dns::LocalZones::defaults()
                                                                 : dns::LocalZones::none()),
      std::move(blocklist), config.blocklist_answer};
  handler_ = std::make_unique<QueryHandler>(loop_, current_pool_, static_cast<ReplySink&>(*this),
                                            stats_, std::move(policy), &clock_, cache,
                                            ResolveOptions::from_config(config));
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    udp_.push_back(std::make_unique<io::UdpListener>(
        loop_, sockets[i].udp_fd,
        [this, i](std::span<const std::uint8_t> message, const SocketAddress& from) {
          on_udp(i, message, from);
        }));
    tcp_.push_back(std::make_unique<io::TcpListener>(
        loop_, sockets[i].tcp_fd,
        [this](int fd, const SocketAddress& peer) { on_accept(fd, peer); }));
  }
  for (const int fd : tls.fds) {
    tls_.push_back(std::make_unique<io::TcpListener>(
        loop_, fd, [this](int fd, const SocketAddress& peer) { on_accept_tls(fd, peer); }));
  }
}

Worker::~Worker() {
  stop();
  join();
  query_log_flush();  // the loop is gone: what it gathered last still goes to the file
}

void Worker::query_log_flush() {
  if (query_log_chunk_.empty()) return;
  if (!query_log_->submit(std::move(query_log_chunk_))) {
    stats_.query_log_dropped += query_log_lines_;  // the writer is behind: bounded, counted
  }
  query_log_chunk_.clear();
  query_log_lines_ = 0;
}

void Worker::start() {
  pool_->start();  // before the thread: the first queries find warm connections
  thread_ = std::thread([this] { loop_.run(); });
}

void Worker::stop() { loop_.stop(); }

std::unique_ptr<upstream::Pool> Worker::pool_create(
    const config::Config& config, std::shared_ptr<const tls::ClientCredentials> credentials) {
  pool_options_ = upstream::PoolOptions::from_config(config);
  return std::make_unique<upstream::Pool>(
      loop_, clock_, config.upstreams, std::move(credentials), pool_options_,
      [this] { return std::make_unique<io::TcpStream>(loop_); });
}

std::future<void> Worker::reload(std::shared_ptr<const tls::ClientCredentials> credentials,
                                 std::shared_ptr<const config::Config> config) {
  auto applied = std::make_shared<std::promise<void>>();
  std::future<void> done = applied->get_future();
  loop_.post([this, applied, credentials = std::move(credentials), config = std::move(config)] {
    const config::Config& c = *config;
    std::vector<std::string> now_names;
    for (const auto& status : pool_->upstream_status()) now_names.push_back(status.name);
    std::vector<std::string> new_names;
    for (const auto& upstream : c.upstreams) new_names.push_back(upstream.display());
    if (now_names != new_names || upstream::PoolOptions::from_config(c) != pool_options_) {
      retired_pools_.push_back(std::move(pool_));  // finishes its queries, then is freed
      pool_ = pool_create(c, credentials);
      pool_->start();
      current_pool_.pool = pool_.get();
      if (!reap_timer_)
        reap_timer_ = std::make_unique<io::Timer>(loop_, [this] { retired_pools_reap(); });
      reap_timer_->arm(std::chrono::milliseconds(200));
    } else {
      pool_->update_trust(credentials, c.upstreams);
    }
    tcp_limits_.idle_timeout = c.tcp_idle_timeout;  // for connections accepted from now on
    tcp_limits_.max_in_flight = c.max_tcp_queries_per_client;
    tcp_limits_.read_timeout = c.tcp_read_timeout;
    max_tcp_clients_ = c.max_tcp_clients;
    max_tcp_clients_per_ip_ = c.max_tcp_clients_per_address;
    rate_limiter_ = policy::RateLimiter(c.rate_limit);  // buckets start full again
    handler_->update_guard(
        std::make_shared<const policy::Acl>(c.acl),
        rate_limiter_.enabled() ? &rate_limiter_ : nullptr,
        std::make_shared<const dns::LocalZones>(c.local_zones ? dns::LocalZones::defaults()
                                                              : dns::LocalZones::none()));
    handler_->resolver().set_options(ResolveOptions::from_config(c));
    applied->set_value();
  });
  return done;
}

void Worker::retired_pools_reap() {
  std::erase_if(retired_pools_, [this](const std::unique_ptr<upstream::Pool>& pool) {
    if (pool->pending() > 0) return false;
    retired_stats_ += pool->stats();
    return true;
  });
  if (!retired_pools_.empty()) reap_timer_->arm(std::chrono::milliseconds(200));
}

std::future<void> Worker::update_blocklist(std::shared_ptr<const policy::Blocklist> blocklist,
                                           dns::BlockedAnswer answer) {
  auto applied = std::make_shared<std::promise<void>>();
  std::future<void> done = applied->get_future();
  loop_.post([this, applied, blocklist = std::move(blocklist), answer]() mutable {
    handler_->update_blocklist(std::move(blocklist), answer);
    applied->set_value();
  });
  return done;
}

void Worker::drain(TimePoint deadline) {
  loop_.post([this, deadline] {
    for (auto& udp : udp_) udp->stop_reading();
    tcp_.clear();  // closes the listening sockets: new connections are refused
    const auto quiet = [this] {
      if (handler_->resolver().flights() > 0 || pool_->pending() > 0) return false;
      for (const auto& retired : retired_pools_) {
        if (retired->pending() > 0) return false;
      }
      for (const auto& [id, conn] : tcp_clients_) {
        if (conn->in_flight() > 0) return false;
      }
      return true;
    };
    drain_timer_ = std::make_unique<io::Timer>(loop_, [this, deadline, quiet] {
      if (quiet() || clock_.now() >= deadline) {
        loop_.stop();
        return;
      }
      drain_timer_->arm(std::chrono::milliseconds(20));
    });
    drain_timer_->arm(std::chrono::microseconds(0));
  });
}

std::future<WorkerSnapshot> Worker::snapshot() {
  auto taken = std::make_shared<std::promise<WorkerSnapshot>>();
  std::future<WorkerSnapshot> out = taken->get_future();
  loop_.post([this, taken] {
    WorkerSnapshot s;
    s.queries = stats_;
    s.tls = tls_stats_;
    s.pool = pool_->stats();
    s.pool += retired_stats_;
    for (const auto& retired : retired_pools_) s.pool += retired->stats();
    s.upstreams = pool_->upstream_status();
    s.tcp_clients = tcp_clients_.size();
    s.tcp_clients_refused = tcp_clients_refused_;
    s.flights = handler_->resolver().flights();
    s.upstream_pending = pool_->pending();
    taken->set_value(std::move(s));
  });
  return out;
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::on_udp(std::size_t listener, std::span<const std::uint8_t> message,
                    const SocketAddress& from) {
  ClientRef client{Transport::kUdp, listener, from, 0};
  handler_->handle(message, client);
}

void Worker::on_accept_tls(int fd, const SocketAddress& peer) {
  // Before any slot or handshake is spent: a full handshake costs far more than a query.
  if (handshake_limiter_.enabled() &&
      handshake_limiter_.check(peer, clock_.now()) != policy::RateDecision::kPass) {
    ++tls_stats_.handshakes_rate_limited;
    ::close(fd);
    DP_LOG(kDebug, "TLS client refused: handshake rate", {"peer", peer.to_string()});
    return;
  }
  on_accept(fd, peer, true);
}

void Worker::on_accept(int fd, const SocketAddress& peer, bool tls) {
  std::string ip = peer.ip_string();
  std::size_t& from_ip = tcp_clients_per_ip_[ip];
  if (tcp_clients_.size() >= max_tcp_clients_ || from_ip >= max_tcp_clients_per_ip_) {
    ++tcp_clients_refused_;
    if (from_ip == 0) tcp_clients_per_ip_.erase(ip);
    ::close(fd);  // bounded: the client retries or falls back to another resolver
    DP_LOG(kDebug, "TCP client refused: too many connections", {"peer", peer.to_string()});
    return;
  }
  std::unique_ptr<io::StreamTransform> transform;
  if (tls) {
    transform = TlsTransform::create(tls_credentials_, peer, tls_stats_);
    if (transform == nullptr) {
      if (from_ip == 0) tcp_clients_per_ip_.erase(ip);
      ::close(fd);
      return;
    }
  }
  ++from_ip;
  const std::uint64_t id = next_conn_id_++;
  tcp_clients_.emplace(
      id, std::make_unique<io::TcpClientConnection>(
              loop_, fd, id, peer, tcp_limits_,
              static_cast<io::TcpClientConnection::Handler&>(*this), std::move(transform)));
}

void Worker::on_client_message(io::TcpClientConnection& conn,
                               std::span<const std::uint8_t> message) {
  ClientRef client{Transport::kTcp, 0, conn.peer(), conn.id()};
  handler_->handle(message, client);
}

void Worker::on_client_closed(io::TcpClientConnection& conn) {
  // Deferred: we are inside the connection's own callback.
  const std::uint64_t id = conn.id();
  auto per_ip = tcp_clients_per_ip_.find(conn.peer().ip_string());
  if (per_ip != tcp_clients_per_ip_.end() && --per_ip->second == 0) {
    tcp_clients_per_ip_.erase(per_ip);
  }
  loop_.defer([this, id] { tcp_clients_.erase(id); });
}

void Worker::reply_send(const ClientRef& client, std::span<const std::uint8_t> reply) {
  if (query_log_ != nullptr && !reply.empty()) {
    constexpr std::size_t kChunkBytes = 16 << 10;
    if (query_log_chunk_.empty()) query_log_timer_.arm(std::chrono::milliseconds(200));
    query_log_line(query_log_chunk_, client, reply);
    ++query_log_lines_;
    if (query_log_chunk_.size() >= kChunkBytes) query_log_flush();
  }
  if (client.transport == Transport::kUdp) {
    if (!reply.empty()) udp_[client.listener]->send(reply, client.peer);
    return;
  }
  auto it = tcp_clients_.find(client.tcp_conn);
  if (it == tcp_clients_.end()) return;  // the client left before its answer came
  if (reply.empty()) {
    it->second->finish_without_reply();
  } else {
    it->second->send(reply);
  }
}

}  // namespace dp::proxy
