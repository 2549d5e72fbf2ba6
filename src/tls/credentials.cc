#include "tls/credentials.h"

#include <gnutls/gnutls.h>

#include <stdexcept>

namespace dp::tls {
namespace {
// Strict profile: no TLS 1.0/1.1, no SSL3; GnuTLS's NORMAL ciphers otherwise.
constexpr const char* kPriorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
// tls_min_version = "1.3": a server that cannot do TLS 1.3 fails the handshake.
constexpr const char* kPrioritiesTls13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3";
}  // namespace

std::shared_ptr<const ClientCredentials> ClientCredentials::create(const std::string& ca_file) {
  std::shared_ptr<ClientCredentials> out(new ClientCredentials());
  gnutls_certificate_credentials_t certificates = nullptr;
  int rc = gnutls_certificate_allocate_credentials(&certificates);
  out->certificates_.reset(certificates);
  if (rc < 0) throw std::runtime_error(std::string("TLS credentials: ") + gnutls_strerror(rc));

  if (ca_file.empty()) {
    rc = gnutls_certificate_set_x509_system_trust(out->certificates_.get());
    if (rc < 0) {
      throw std::runtime_error(std::string("cannot load the system CA store: ") +
                               gnutls_strerror(rc) + " (install ca-certificates or use --ca-file)");
    }
    if (rc == 0) {
      throw std::runtime_error(
          "the system CA store is empty (install ca-certificates or use --ca-file)");
    }
  } else {
    rc = gnutls_certificate_set_x509_trust_file(out->certificates_.get(), ca_file.c_str(),
                                                GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
      throw std::runtime_error("--ca-file " + ca_file + ": " + gnutls_strerror(rc));
    }
    if (rc == 0) {
      throw std::runtime_error("--ca-file " + ca_file + ": no PEM certificate in the file");
    }
  }
  out->ca_count_ = rc;

  const char* err_pos = nullptr;
  gnutls_priority_t priorities = nullptr;
  rc = gnutls_priority_init(&priorities, kPriorities, &err_pos);
  out->priorities_.reset(priorities);
  if (rc < 0) throw std::runtime_error(std::string("TLS priorities: ") + gnutls_strerror(rc));
  priorities = nullptr;
  rc = gnutls_priority_init(&priorities, kPrioritiesTls13, &err_pos);
  out->priorities_tls13_.reset(priorities);
  if (rc < 0) {
    throw std::runtime_error(std::string("TLS 1.3 priorities: ") + gnutls_strerror(rc));
  }
  return out;
}

}  // namespace dp::tls
