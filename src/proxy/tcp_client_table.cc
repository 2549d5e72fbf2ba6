#include "proxy/tcp_client_table.h"

#include <unistd.h>

#include <utility>

#include "common/log.h"
#include "proxy/tls_transform.h"

namespace dp::proxy {

TcpClientTable::TcpClientTable(io::EventLoop& loop, const TimeSource& clock,
                               const TcpClientTableOptions& options, OnMessage on_message,
                               TlsStats& tls_stats,
                               std::shared_ptr<const tls::ServerCredentials> tls_credentials,
                               const policy::RateLimitOptions& handshake_limit)
    : loop_(loop),
      clock_(clock),
      options_(options),
      on_message_(std::move(on_message)),
      tls_stats_(tls_stats),
      tls_credentials_(std::move(tls_credentials)),
      handshake_limiter_(handshake_limit) {}

void TcpClientTable::accept_tls(int fd, const SocketAddress& peer) {
  if (handshake_limiter_.enabled() &&
      handshake_limiter_.check(peer, clock_.now()) != policy::RateDecision::kPass) {
    ++tls_stats_.handshakes_rate_limited;
    ::close(fd);
    DP_LOG(kDebug, "TLS client refused: handshake rate", {"peer", peer.to_string()});
    return;
  }
  add(fd, peer, true);
}

void TcpClientTable::accept(int fd, const SocketAddress& peer) { add(fd, peer, false); }

void TcpClientTable::add(int fd, const SocketAddress& peer, bool tls) {
  std::string ip = peer.ip_string();
  std::size_t& from_ip = per_address_[ip];
  if (clients_.size() >= options_.max_clients || from_ip >= options_.max_clients_per_address) {
    ++refused_;
    if (from_ip == 0) per_address_.erase(ip);
    ::close(fd);  // bounded: the client retries or falls back to another resolver
    DP_LOG(kDebug, "TCP client refused: too many connections", {"peer", peer.to_string()});
    return;
  }
  std::unique_ptr<io::StreamTransform> transform;
  if (tls) {
    transform = TlsTransform::create(tls_credentials_, peer, tls_stats_);
    if (transform == nullptr) {
      if (from_ip == 0) per_address_.erase(ip);
      ::close(fd);
      return;
    }
  }
  ++from_ip;
  const std::uint64_t id = next_id_++;
  clients_.emplace(
      id, std::make_unique<io::TcpClientConnection>(
              loop_, fd, id, peer, options_.limits,
              static_cast<io::TcpClientConnection::Handler&>(*this), std::move(transform)));
}

void TcpClientTable::reply_send(std::uint64_t id, std::span<const std::uint8_t> reply) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;  // the client left before its answer came
  if (reply.empty()) {
    it->second->finish_without_reply();
  } else {
    it->second->send(reply);
  }
}

bool TcpClientTable::replies_owed() const {
  for (const auto& [id, conn] : clients_) {
    if (conn->in_flight() > 0) return true;
  }
  return false;
}

std::size_t TcpClientTable::clients_from(const SocketAddress& peer) const {
  auto it = per_address_.find(peer.ip_string());
  return it == per_address_.end() ? 0 : it->second;
}

void TcpClientTable::on_client_message(io::TcpClientConnection& conn,
                                       std::span<const std::uint8_t> message) {
  on_message_(message, ClientRef{Transport::kTcp, 0, conn.peer(), conn.id()});
}

void TcpClientTable::on_client_closed(io::TcpClientConnection& conn) {
  auto per_ip = per_address_.find(conn.peer().ip_string());
  if (per_ip != per_address_.end() && --per_ip->second == 0) per_address_.erase(per_ip);
  // Out of the table now, freed by the loop: we are inside the connection's own callback.
  auto it = clients_.find(conn.id());
  if (it == clients_.end()) return;
  loop_.defer_delete(std::move(it->second));
  clients_.erase(it);
}

}  // namespace dp::proxy
