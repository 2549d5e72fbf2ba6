// Owners of the GnuTLS objects src/tls keeps (sessions, credentials, priority caches): CPtr
// with a deleter defined in gnutls_ptr.cc, so these headers need no GnuTLS include.
#pragma once

#include "common/c_ptr.h"

struct gnutls_session_int;
struct gnutls_certificate_credentials_st;
struct gnutls_priority_st;

namespace dp::tls {

void session_free_fn(gnutls_session_int* session) noexcept;  // gnutls_deinit
void certificates_free_fn(gnutls_certificate_credentials_st* certificates) noexcept;
void priorities_free_fn(gnutls_priority_st* priorities) noexcept;  // gnutls_priority_deinit

using SessionPtr = CPtr<gnutls_session_int, session_free_fn>;
using CertificatesPtr = CPtr<gnutls_certificate_credentials_st, certificates_free_fn>;
using PrioritiesPtr = CPtr<gnutls_priority_st, priorities_free_fn>;

}  // namespace dp::tls
