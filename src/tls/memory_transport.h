// GnuTLS over our own buffers (sans-IO, as Knot Resolver drives it): the ciphertext the owner
// feeds is what GnuTLS reads, what GnuTLS writes collects in output(). Shared by the client
// and the server sessions, with the record loops both need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

struct gnutls_session_int;

namespace dp::tls {

// What a non-blocking TLS step needs next. Writes never block: records go to output().
enum class IoState { kDone, kNeedRead };

enum class TlsErrorKind {
  kHandshake,  // protocol failure during the handshake (alert, no common version, ...)
  kVerify,     // certificate chain or name rejected: RFC 8310 strict profile
  kClosed,     // the peer ended the session (close_notify or EOF)
  kRecord,     // failure after the handshake (bad record, decryption error, ...)
};
const char* tls_error_name(TlsErrorKind kind);  // metric label

struct TlsError {
  TlsErrorKind kind;
  std::string detail;  // GnuTLS's words: "The certificate is NOT trusted. ..."
};

// Owned by one session, which it must outlive in GnuTLS's callbacks (both die together).
class MemoryTransport {
 public:
  // Points the session's pull, push and pull-timeout functions at this transport.
  void install(gnutls_session_int* session);

  void feed(std::span<const std::uint8_t> ciphertext);
  void feed_eof() { eof_ = true; }
  bool eof() const { return eof_; }
  std::vector<std::uint8_t>& output() { return output_; }

  // Encrypts all of plaintext into output(). Errors: kRecord.
  Result<void, TlsError> send(std::span<const std::uint8_t> plaintext);
  // While corked, send() gathers plaintext; uncork() encrypts it all as few records as fit.
  void cork();
  Result<void, TlsError> uncork();
  // Decrypts one record into buf: its size, or 0 when more ciphertext is needed. Errors:
  // kClosed (close_notify, or EOF), kRecord. continue_on_rehandshake: a TLS 1.2 HelloRequest
  // is ignored (a client may see one); a server refuses renegotiation.
  Result<std::size_t, TlsError> receive(std::span<std::uint8_t> buf, bool continue_on_rehandshake);

 private:
  static long pull(void* self, void* data, std::size_t size) noexcept;
  static long push(void* self, const void* data, std::size_t size) noexcept;
  static int pull_timeout(void* self, unsigned int ms) noexcept;
  std::size_t unread() const { return input_.size() - input_pos_; }

  gnutls_session_int* session_ = nullptr;
  std::vector<std::uint8_t> input_;
  std::size_t input_pos_ = 0;  // what GnuTLS has read of input_
  std::vector<std::uint8_t> output_;
  bool eof_ = false;
};

}  // namespace dp::tls
