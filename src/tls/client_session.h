// One client TLS session driven sans-IO: the owner feeds it ciphertext from the network and
// sends what it leaves in output(); GnuTLS never touches a socket, so tests run it in memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "tls/credentials.h"
#include "tls/gnutls_ptr.h"
#include "tls/memory_transport.h"

namespace dp::tls {

using SpkiPin = std::array<std::uint8_t, 32>;

// The pin of a certificate (PEM or DER) as pin_sha256 spells it: base64 of the SHA-256 of its
// DER SubjectPublicKeyInfo, what `openssl x509 -pubkey | openssl pkey -pubin -outform der |
// openssl dgst -sha256 -binary | base64` prints. Errors: GnuTLS's reason (not a certificate).
Result<std::string, std::string> spki_pin_sha256(std::span<const std::uint8_t> cert);

struct SessionOptions {
  std::string auth_name;  // verified against the certificate and sent as SNI; may be empty
  std::string ip;         // verified against the certificate's IP SANs when auth_name is empty
  std::vector<std::uint8_t> resume_data{};  // an earlier session's session_data(); may be empty
  // RFC 7858 §4.2 SPKI pin set (SHA-256 of a DER SubjectPublicKeyInfo), checked on top of the
  // CA chain and the name: one must match some certificate of the chain. Empty: no pin check.
  std::vector<SpkiPin> pins{};
  TlsVersion min_version = TlsVersion::kTls12;
};

// Owned by one upstream connection and used on its worker's thread only.
class ClientSession {
 public:
  // Errors: kHandshake when GnuTLS cannot set the session up (out of memory, bad name).
  static Result<std::unique_ptr<ClientSession>, TlsError> create(
      std::shared_ptr<const ClientCredentials> credentials, const SessionOptions& options);
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Ciphertext received from the network.
  void feed(std::span<const std::uint8_t> ciphertext) { transport_.feed(ciphertext); }
  // Ciphertext to send; the owner sends it and clears it.
  std::vector<std::uint8_t>& output() { return transport_.output(); }
  // The peer closed the transport: reads past the buffered bytes fail with kClosed.
  void feed_eof() { transport_.feed_eof(); }

  // Succeeds only once the chain, the name and the pins (if any) are verified, so nothing is
  // written to an unauthenticated peer. Errors: kHandshake, kVerify (the verification status
  // in words, or "SPKI pin mismatch: ..." with the leaf's pin); once failed, always failed.
  Result<IoState, TlsError> handshake();
  bool handshake_done() const { return handshake_done_; }

  // Encrypts plaintext into output(). Errors: kRecord (also before the handshake is done).
  Result<void, TlsError> write(std::span<const std::uint8_t> plaintext);
  // Between cork() and uncork(), writes are gathered and then leave as one record (or as few
  // as the record size allows): the peer decrypts one record for a loop turn's queries.
  void cork() { transport_.cork(); }
  Result<void, TlsError> uncork() { return transport_.uncork(); }
  // Decrypts into buf; 0 means no whole record is buffered yet. Errors: kClosed, kRecord.
  Result<std::size_t, TlsError> read(std::span<std::uint8_t> buf);

  // "TLS1.3" etc., for logs.
  std::string protocol_name() const;
  // When the server's leaf certificate expires (Unix seconds); nullopt before the handshake or
  // when the session shows no certificate (possible on resumption).
  std::optional<std::int64_t> peer_certificate_expiry() const;
  bool resumed() const;
  // What a later session to the same upstream needs to resume this one (TLS 1.3 ticket or
  // TLS 1.2 session); empty until the server has sent one.
  std::vector<std::uint8_t> session_data() const;

 private:
  ClientSession() = default;
  friend struct SessionHooks;  // GnuTLS handshake hooks (their types stay in the .cc)
  // The pin set against the chain GnuTLS has already verified. Errors: kVerify.
  Result<void, TlsError> pins_check() const;

  std::shared_ptr<const ClientCredentials> credentials_;  // outlives the session
  std::string verify_name_;    // GnuTLS holds a pointer to it for the session's lifetime
  MemoryTransport transport_;  // the session's pull and push: our buffers, never a socket
  // Declared after what it points into (credentials, name, transport), so it goes first.
  SessionPtr session_;
  bool handshake_done_ = false;
  bool ticket_received_ = false;  // TLS 1.3 NewSessionTicket seen: session_data() can resume
  std::vector<SpkiPin> pins_;
  TlsVersion min_version_ = TlsVersion::kTls12;
  std::string pin_failure_;  // the pin mismatch, repeated by later handshake() calls
};

}  // namespace dp::tls
