#include "tls/server_credentials.h"

#include <gnutls/gnutls.h>

#include <stdexcept>

namespace dp::tls {
namespace {
// RFC 8310 §8 / RFC 7525 for the client side too: no TLS below 1.2; 1.3 preferred.
constexpr const char* kServerPriorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
}  // namespace

std::shared_ptr<const ServerCredentials> ServerCredentials::create(
    const ServerTlsOptions& options) {
  std::shared_ptr<ServerCredentials> out(new ServerCredentials());
  gnutls_certificate_credentials_t certificates = nullptr;
  int rc = gnutls_certificate_allocate_credentials(&certificates);
  out->certificates_.reset(certificates);
  if (rc < 0) throw std::runtime_error(std::string("TLS credentials: ") + gnutls_strerror(rc));

  rc = gnutls_certificate_set_x509_key_file(out->certificates_.get(), options.cert_file.c_str(),
                                            options.key_file.c_str(), GNUTLS_X509_FMT_PEM);
  if (rc < 0) {
    throw std::runtime_error("--tls-cert " + options.cert_file + " / --tls-key " +
                             options.key_file + ": " + gnutls_strerror(rc));
  }
  if (!options.client_ca_file.empty()) {
    rc = gnutls_certificate_set_x509_trust_file(
        out->certificates_.get(), options.client_ca_file.c_str(), GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
      throw std::runtime_error("--tls-client-ca " + options.client_ca_file + ": " +
                               gnutls_strerror(rc));
    }
    if (rc == 0) {
      throw std::runtime_error("--tls-client-ca " + options.client_ca_file +
                               ": no PEM certificate in the file");
    }
    out->client_cert_required_ = true;
  }

  const char* err_pos = nullptr;
  gnutls_priority_t priorities = nullptr;
  rc = gnutls_priority_init(&priorities, kServerPriorities, &err_pos);
  out->priorities_.reset(priorities);
  if (rc < 0) throw std::runtime_error(std::string("TLS priorities: ") + gnutls_strerror(rc));

  gnutls_datum_t key{nullptr, 0};
  rc = gnutls_session_ticket_key_generate(&key);
  if (rc < 0) {
    throw std::runtime_error(std::string("TLS session ticket key: ") + gnutls_strerror(rc));
  }
  out->ticket_key_.assign(key.data, key.data + key.size);
  gnutls_memset(key.data, 0, key.size);
  gnutls_free(key.data);
  return out;
}

ServerCredentials::~ServerCredentials() {
  if (!ticket_key_.empty()) gnutls_memset(ticket_key_.data(), 0, ticket_key_.size());
}

}  // namespace dp::tls
