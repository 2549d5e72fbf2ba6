#include "proxy/tls_transform.h"

#include "common/log.h"

namespace dp::proxy {

std::unique_ptr<TlsTransform> TlsTransform::create(
    const std::shared_ptr<const tls::ServerCredentials>& credentials, const SocketAddress& peer,
    TlsStats& stats) {
  auto session = tls::ServerSession::create(credentials);
  if (!session) {
    ++stats.handshakes_failed[static_cast<std::size_t>(tls::HandshakeFailure::kProtocol)];
    DP_LOG(kWarn, "TLS client refused: no session", {"peer", peer.to_string()},
           {"error", session.error().detail});
    return nullptr;
  }
  return std::unique_ptr<TlsTransform>(new TlsTransform(std::move(*session), peer, stats));
}

io::StreamTransform::Handshake TlsTransform::handshake() {
  const auto step = session_->handshake();
  if (!step) {
    ++stats_.handshakes_failed[static_cast<std::size_t>(step.error().failure)];
    DP_LOG(kDebug, "TLS handshake failed", {"peer", peer_.to_string()},
           {"reason", tls::handshake_failure_name(step.error().failure)},
           {"error", step.error().detail});
    return Handshake::kFailed;
  }
  if (*step == tls::IoState::kNeedRead) return Handshake::kNeedMore;
  ++stats_.handshakes_completed;
  if (session_->resumed()) ++stats_.handshakes_resumed;
  DP_LOG(kDebug, "TLS client", {"peer", peer_.to_string()}, {"tls", session_->protocol_name()},
         {"alpn", session_->alpn()}, {"resumed", session_->resumed() ? "yes" : "no"});
  return Handshake::kDone;
}

std::optional<std::size_t> TlsTransform::read(std::span<std::uint8_t> buf) {
  auto got = session_->read(buf);
  if (got) return *got;
  // close_notify or EOF: nothing more comes; the TCP EOF (or the idle timeout) then ends the
  // connection the way it ends a plain one, after the answers still owed (RFC 7766 §6.2.2).
  if (got.error().kind == tls::TlsErrorKind::kClosed) return std::size_t{0};
  ++stats_.records_failed;
  DP_LOG(kDebug, "TLS client record failed", {"peer", peer_.to_string()},
         {"error", got.error().detail});
  return std::nullopt;
}

bool TlsTransform::write(std::span<const std::uint8_t> plaintext) {
  auto written = session_->write(plaintext);
  if (written) return true;
  ++stats_.records_failed;
  return false;
}

void TlsTransform::abandoned(bool timed_out) {
  ++(timed_out ? stats_.handshakes_timed_out : stats_.handshakes_abandoned);
  if (timed_out) DP_LOG(kDebug, "TLS handshake timed out", {"peer", peer_.to_string()});
}

policy::RateLimitOptions handshake_limit_options(unsigned per_second) {
  policy::RateLimitOptions options;
  options.queries_per_second = per_second;
  options.burst = per_second;
  options.ipv4_prefix = 32;
  options.ipv6_prefix = 128;
  options.slip = 0;  // over the limit: closed, never "slipped"
  return options;
}

}  // namespace dp::proxy
