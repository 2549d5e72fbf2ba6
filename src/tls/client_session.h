// One client TLS session driven sans-IO: the owner feeds it ciphertext from the network and
// sends what it leaves in output(); GnuTLS never touches a socket, so tests run it in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "tls/credentials.h"

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

struct SessionOptions {
  std::string auth_name;  // verified against the certificate and sent as SNI; may be empty
  std::string ip;         // verified against the certificate's IP SANs when auth_name is empty
};

// Owned by one upstream connection and used on its worker's thread only.
class ClientSession {
 public:
  // Errors: kHandshake when GnuTLS cannot set the session up (out of memory, bad name).
  static Result<std::unique_ptr<ClientSession>, TlsError> create(
      std::shared_ptr<const ClientCredentials> credentials, const SessionOptions& options);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Ciphertext received from the network.
  void feed(std::span<const std::uint8_t> ciphertext);
  // Ciphertext to send; the owner sends it and clears it.
  std::vector<std::uint8_t>& output() { return output_; }
  // The peer closed the transport: reads past the buffered bytes fail with kClosed.
  void feed_eof() { eof_ = true; }

  // Errors: kHandshake, kVerify (with the verification status in words).
  Result<IoState, TlsError> handshake();
  bool handshake_done() const { return handshake_done_; }

  // Encrypts plaintext into output(). Errors: kRecord.
  Result<void, TlsError> write(std::span<const std::uint8_t> plaintext);
  // Decrypts into buf; 0 means no whole record is buffered yet. Errors: kClosed, kRecord.
  Result<std::size_t, TlsError> read(std::span<std::uint8_t> buf);

  // "TLS1.3" etc., for logs.
  std::string protocol_name() const;
  bool resumed() const;

 private:
  ClientSession() = default;
  static long pull(void* self, void* data, std::size_t size) noexcept;
  static long push(void* self, const void* data, std::size_t size) noexcept;
  static int pull_timeout(void* self, unsigned int ms) noexcept;

  gnutls_session_int* session_ = nullptr;
  std::shared_ptr<const ClientCredentials> credentials_;  // outlives the session
  std::string verify_name_;  // GnuTLS holds a pointer to it for the session's lifetime
  std::vector<std::uint8_t> input_;
  std::size_t input_pos_ = 0;
  std::vector<std::uint8_t> output_;
  bool eof_ = false;
  bool handshake_done_ = false;
};

}  // namespace dp::tls
