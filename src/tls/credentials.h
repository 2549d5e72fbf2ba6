// Client-side TLS trust: the CA store (system or a PEM file) and the protocol priorities that
// every upstream session uses. Built once at start-up, read by all workers' sessions.
#pragma once

#include <memory>
#include <string>

#include "common/tls_version.h"
#include "tls/gnutls_ptr.h"

namespace dp::tls {

// Owned through a shared_ptr by every pool that opens sessions with it; immutable after
// create(), so sessions on any thread may use it at once (GnuTLS allows concurrent reads).
class ClientCredentials {
 public:
  // ca_file empty: the system trust store. Throws std::runtime_error with one clear line
  // (which file, GnuTLS's reason) when the store cannot be loaded or holds no certificate.
  static std::shared_ptr<const ClientCredentials> create(const std::string& ca_file);

  ClientCredentials(const ClientCredentials&) = delete;
  ClientCredentials& operator=(const ClientCredentials&) = delete;

  gnutls_certificate_credentials_st* certificates() const { return certificates_.get(); }
  // TLS 1.3 preferred, `min` the lowest offered; both caches are built by create().
  gnutls_priority_st* priorities(TlsVersion min = TlsVersion::kTls12) const {
    return min == TlsVersion::kTls13 ? priorities_tls13_.get() : priorities_.get();
  }
  int ca_count() const { return ca_count_; }

 private:
  ClientCredentials() = default;
  CertificatesPtr certificates_;
  PrioritiesPtr priorities_;        // TLS 1.3 and 1.2
  PrioritiesPtr priorities_tls13_;  // TLS 1.3 only
  int ca_count_ = 0;
};

}  // namespace dp::tls
