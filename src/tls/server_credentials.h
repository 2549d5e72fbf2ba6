// Server-side TLS for the DoT listener (RFC 7858): our certificate and key, the CA that client
// certificates must chain to when mutual TLS is on, and the session ticket key. Built once at
// start-up, read by every worker's sessions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tls/gnutls_ptr.h"

namespace dp::tls {

struct ServerTlsOptions {
  std::string cert_file;       // PEM chain, leaf first
  std::string key_file;        // PEM private key of the leaf
  std::string client_ca_file;  // PEM CAs for client certificates; empty: no client auth
};

// Owned through a shared_ptr by every worker that accepts TLS clients; immutable after
// create(), so sessions on any thread may use it at once (GnuTLS allows concurrent reads).
class ServerCredentials {
 public:
  // Throws std::runtime_error with one line (which file, GnuTLS's reason) when the
  // certificate or key cannot be read, they do not match, or the client CA file holds none.
  static std::shared_ptr<const ServerCredentials> create(const ServerTlsOptions& options);

  ~ServerCredentials();  // wipes the ticket key
  ServerCredentials(const ServerCredentials&) = delete;
  ServerCredentials& operator=(const ServerCredentials&) = delete;

  gnutls_certificate_credentials_st* certificates() const { return certificates_.get(); }
  gnutls_priority_st* priorities() const {
    return priorities_.get();
  }  // TLS 1.3 preferred, 1.2 min
  // The key every session encrypts its tickets with, so a ticket from one connection (and
  // one worker) resumes on the next; made at start-up, never leaves the process.
  const std::vector<std::uint8_t>& ticket_key() const { return ticket_key_; }
  bool client_cert_required() const { return client_cert_required_; }

 private:
  ServerCredentials() = default;
  CertificatesPtr certificates_;
  PrioritiesPtr priorities_;
  std::vector<std::uint8_t> ticket_key_;
  bool client_cert_required_ = false;
};

}  // namespace dp::tls
