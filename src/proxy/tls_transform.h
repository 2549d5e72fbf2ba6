// The DoT listener's io::StreamTransform: a tls::ServerSession under a client connection,
// counting every handshake's outcome in the worker's TlsStats.
#pragma once

#include <memory>

#include "common/socket_address.h"
#include "io/stream_transform.h"
#include "policy/rate_limiter.h"
#include "proxy/tls_stats.h"
#include "tls/server_session.h"

namespace dp::proxy {

// Owned by one TcpClientConnection; `stats` is its worker's and outlives it.
class TlsTransform final : public io::StreamTransform {
 public:
  // Null (and a protocol failure counted) when GnuTLS cannot make a session.
  static std::unique_ptr<TlsTransform> create(
      const std::shared_ptr<const tls::ServerCredentials>& credentials, const SocketAddress& peer,
      TlsStats& stats);

  void feed(std::span<const std::uint8_t> wire) override { session_->feed(wire); }
  void feed_eof() override { session_->feed_eof(); }
  Handshake handshake() override;
  std::optional<std::size_t> read(std::span<std::uint8_t> buf) override;
  bool write(std::span<const std::uint8_t> plaintext) override;
  std::vector<std::uint8_t>& output() override { return session_->output(); }
  void abandoned(bool timed_out) override;

 private:
  TlsTransform(std::unique_ptr<tls::ServerSession> session, const SocketAddress& peer,
               TlsStats& stats)
      : session_(std::move(session)), peer_(peer), stats_(stats) {}
  std::unique_ptr<tls::ServerSession> session_;
  SocketAddress peer_;
  TlsStats& stats_;
};

// The per-client-address bucket of new TLS handshakes: `per_second` a second with a burst of
// as many, per IP address (not per network: one NAT gateway is one client either way).
// 0: off (RateLimiter::enabled() is false).
policy::RateLimitOptions handshake_limit_options(unsigned per_second);

}  // namespace dp::proxy
