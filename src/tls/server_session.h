// One server TLS session of the DoT listener driven sans-IO, the mirror of ClientSession: the
// owner feeds it the client's ciphertext and sends what it leaves in output().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "tls/client_session.h"
#include "tls/gnutls_ptr.h"
#include "tls/memory_transport.h"
#include "tls/server_credentials.h"

namespace dp::tls {

// Why a client's handshake failed; the names double as metric labels.
enum class HandshakeFailure {
  kProtocol,             // alert, no common version or cipher, garbage, hang-up mid-handshake
  kClientCertMissing,    // mutual TLS on and the client sent no certificate
  kClientCertUntrusted,  // its certificate does not chain to the client CA (or is expired)
  kLast = kClientCertUntrusted,  // keep it the last value: it sizes the per-failure counters
};
const char* handshake_failure_name(HandshakeFailure failure);

struct HandshakeError {
  HandshakeFailure failure;
  std::string detail;  // GnuTLS's words
};

// Owned by one client connection and used on its worker's thread only.
class ServerSession {
 public:
  // Errors: kProtocol when GnuTLS cannot set the session up (out of memory).
  static Result<std::unique_ptr<ServerSession>, HandshakeError> create(
      std::shared_ptr<const ServerCredentials> credentials);
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  void feed(std::span<const std::uint8_t> ciphertext) { transport_.feed(ciphertext); }
  std::vector<std::uint8_t>& output() {
    return transport_.output();
  }  // the owner sends and clears it
  void feed_eof() { transport_.feed_eof(); }

  // Done only once the handshake and, with mutual TLS, the client's certificate check have
  // succeeded: before that, read() gives nothing, so no DNS byte is taken from an
  // unauthenticated client. On failure the alert that says why is in output(); once failed,
  // always failed.
  Result<IoState, HandshakeError> handshake();
  bool handshake_done() const { return handshake_done_; }

  // Encrypts into output(). Errors: kRecord (also before the handshake is done).
  Result<void, TlsError> write(std::span<const std::uint8_t> plaintext);
  // Decrypts into buf; 0: no whole record buffered yet. Errors: kClosed, kRecord (also
  // before the handshake is done).
  Result<std::size_t, TlsError> read(std::span<std::uint8_t> buf);

  std::string protocol_name() const;  // "TLS1.3" etc., for logs
  bool resumed() const;               // from a session ticket
  std::string alpn() const;           // "dot" when the client offered it; "" otherwise

 private:
  ServerSession() = default;

  std::shared_ptr<const ServerCredentials> credentials_;  // outlives the session
  MemoryTransport transport_;  // the session's pull and push: our buffers, never a socket
  // Declared after what it points into (credentials, transport), so it goes first.
  SessionPtr session_;
  bool handshake_done_ = false;
  std::optional<HandshakeError> failed_;  // repeated by later handshake() calls
};

}  // namespace dp::tls
