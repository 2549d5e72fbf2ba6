// A worker's client TCP connections, plain and DoT: accepted under a per-worker cap, a
// per-address cap and (DoT) a handshake rate per address, and found by id when a reply is ready.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/socket_address.h"
#include "io/event_loop.h"
#include "io/tcp_client_connection.h"
#include "policy/rate_limiter.h"
#include "proxy/reply_sink.h"
#include "proxy/tls_stats.h"
#include "tls/server_credentials.h"

namespace dp::proxy {

struct TcpClientTableOptions {
  io::TcpClientLimits limits;                // each connection's
  std::size_t max_clients = 1024;            // open at once; beyond, new ones are closed
  std::size_t max_clients_per_address = 64;  // open at once from one IP address
};

// Owned by one worker; its loop's thread only. Owns every connection it accepted until the
// connection reports itself closed (freed on the next loop turn: that report comes from inside
// the connection's own callback).
class TcpClientTable final : private io::TcpClientConnection::Handler {
 public:
  // A whole query from a client; it is answered later through reply_send().
  using OnMessage = std::function<void(std::span<const std::uint8_t>, const ClientRef&)>;

  // `tls_credentials` (null: no DoT listener) and `handshake_limit` serve accept_tls(); the
  // handshake limit keeps its start-up value (reload() leaves it).
  TcpClientTable(io::EventLoop& loop, const TimeSource& clock, const TcpClientTableOptions& options,
                 OnMessage on_message, TlsStats& tls_stats,
                 std::shared_ptr<const tls::ServerCredentials> tls_credentials = nullptr,
                 const policy::RateLimitOptions& handshake_limit = {});
  TcpClientTable(const TcpClientTable&) = delete;
  TcpClientTable& operator=(const TcpClientTable&) = delete;
  ~TcpClientTable() override = default;

  // Takes ownership of `fd`: a new connection, or closed at once when a cap is reached.
  void accept(int fd, const SocketAddress& peer);
  // Likewise for the DoT listener, after the handshake rate: a full handshake costs far more
  // than a query, so it is checked before any slot or handshake is spent.
  void accept_tls(int fd, const SocketAddress& peer);

  // Answers a query from connection `id`; an empty reply frees its slot without an answer. A
  // client that left before its answer came gets nothing.
  void reply_send(std::uint64_t id, std::span<const std::uint8_t> reply);

  // SIGHUP: caps and limits for connections accepted from now on; open ones keep theirs.
  void reload(const TcpClientTableOptions& options) { options_ = options; }

  std::size_t size() const { return clients_.size(); }
  std::uint64_t refused() const { return refused_; }          // over a cap
  bool replies_owed() const;                                  // some connection waits for an answer
  std::size_t clients_from(const SocketAddress& peer) const;  // open from its IP address

 private:
  void add(int fd, const SocketAddress& peer, bool tls);

  // io::TcpClientConnection::Handler
  void on_client_message(io::TcpClientConnection& conn,
                         std::span<const std::uint8_t> message) override;
  void on_client_closed(io::TcpClientConnection& conn) override;

  io::EventLoop& loop_;
  const TimeSource& clock_;
  TcpClientTableOptions options_;
  OnMessage on_message_;
  TlsStats& tls_stats_;
  std::shared_ptr<const tls::ServerCredentials> tls_credentials_;  // null: no DoT listener
  policy::RateLimiter handshake_limiter_;                          // per client IP address
  std::unordered_map<std::uint64_t, std::unique_ptr<io::TcpClientConnection>> clients_;
  // Open connections per IP address (text form): one host cannot take every slot.
  std::unordered_map<std::string, std::size_t> per_address_;
  std::uint64_t next_id_ = 1;
  std::uint64_t refused_ = 0;
};

}  // namespace dp::proxy
