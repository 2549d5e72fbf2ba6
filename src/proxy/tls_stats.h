// Counters of one worker's DoT listener (exported as dotproxy_tls_* by the metrics page).
#pragma once

#include <array>
#include <cstdint>

namespace dp::proxy {

inline constexpr std::size_t kHandshakeFailureCount = 3;  // tls::HandshakeFailure values

// Plain integers: one per worker thread, summed on read.
struct TlsStats {
  std::uint64_t handshakes_completed = 0;
  std::uint64_t handshakes_resumed = 0;  // of those, from a session ticket
  // By tls::HandshakeFailure: protocol, client_cert_missing, client_cert_untrusted.
  std::array<std::uint64_t, kHandshakeFailureCount> handshakes_failed{};
  std::uint64_t handshakes_timed_out = 0;     // not done within --tcp-read-timeout: closed
  std::uint64_t handshakes_abandoned = 0;     // the client left before the handshake was done
  std::uint64_t handshakes_rate_limited = 0;  // over --tls-handshake-rate: closed at accept
  std::uint64_t records_failed = 0;           // a bad record after the handshake: closed
};

}  // namespace dp::proxy
