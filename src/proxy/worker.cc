#include "proxy/worker.h"

#include <unistd.h>

#include "common/log.h"
#include "io/tcp_stream.h"
#include "proxy/tls_transform.h"

namespace dp::proxy {

Worker::Worker(std::size_t index, const config::Config& config,
               const std::vector<ListenSockets>& sockets,
               std::shared_ptr<const tls::ClientCredentials> credentials, cache::Cache* cache,
               std::shared_ptr<const policy::Blocklist> blocklist, TlsListenSockets tls)
    : index_(index),
      max_tcp_clients_(config.max_tcp_clients),
      max_tcp_clients_per_ip_(config.max_tcp_clients_per_address),
      rate_limiter_(config.rate_limit),
      tls_credentials_(std::move(tls.credentials)),
      handshake_limiter_(handshake_limit_options(config.tls_handshake_rate)) {
  tcp_limits_.idle_timeout = config.tcp_idle_timeout;
  tcp_limits_.max_in_flight = config.max_tcp_queries_per_client;
  tcp_limits_.read_timeout = config.tcp_read_timeout;
  pool_ = std::make_unique<upstream::Pool>(
      loop_, clock_, config.upstreams, std::move(credentials),
      upstream::PoolOptions::from_config(config),
      [this] { return std::make_unique<io::TcpStream>(loop_); });
  QueryPolicy policy{std::make_shared<const policy::Acl>(config.acl),
                     rate_limiter_.enabled() ? &rate_limiter_ : nullptr,
                     std::make_shared<const dns::LocalZones>(config.local_zones
                                                                 ? dns::LocalZones::defaults()
                                                                 : dns::LocalZones::none()),
                     std::move(blocklist), config.blocklist_answer};
  handler_ = std::make_unique<QueryHandler>(loop_, *pool_, static_cast<ReplySink&>(*this), stats_,
                                            std::move(policy), &clock_, cache,
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
}

void Worker::start() {
  pool_->start();  // before the thread: the first queries find warm connections
  thread_ = std::thread([this] { loop_.run(); });
}

void Worker::stop() { loop_.stop(); }

std::future<void> Worker::update_trust(std::shared_ptr<const tls::ClientCredentials> credentials,
                                       std::vector<config::UpstreamConfig> upstreams) {
  auto applied = std::make_shared<std::promise<void>>();
  std::future<void> done = applied->get_future();
  loop_.post([this, applied, credentials = std::move(credentials),
              upstreams = std::move(upstreams)] {
    pool_->update_trust(credentials, upstreams);
    applied->set_value();
  });
  return done;
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
