#include "tls/gnutls_ptr.h"

#include <gnutls/gnutls.h>

namespace dp::tls {

void session_free_fn(gnutls_session_int* session) noexcept { gnutls_deinit(session); }

void certificates_free_fn(gnutls_certificate_credentials_st* certificates) noexcept {
  gnutls_certificate_free_credentials(certificates);
}

void priorities_free_fn(gnutls_priority_st* priorities) noexcept {
  gnutls_priority_deinit(priorities);
}

}  // namespace dp::tls
