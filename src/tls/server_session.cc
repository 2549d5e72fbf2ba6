#include "tls/server_session.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dp::tls {
namespace {

// RFC 7858 §3.2 names no ALPN id; IANA registered "dot" for DNS-over-TLS (RFC 8310 uses it).
constexpr unsigned char kAlpnDot[] = "dot";

// GnuTLS keeps the pointer for the session's lifetime, so it must be static. A client
// certificate must be for client auth (RFC 5280 §4.2.1.12 id-kp-clientAuth), not a server's.
gnutls_typed_vdata_st client_purpose_vdata{
    GNUTLS_DT_KEY_PURPOSE_OID,
    const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(GNUTLS_KP_TLS_WWW_CLIENT)),
    0};

}  // namespace

const char* handshake_failure_name(HandshakeFailure failure) {
  switch (failure) {
    case HandshakeFailure::kProtocol:
      return "protocol";
    case HandshakeFailure::kClientCertMissing:
      return "client_cert_missing";
    case HandshakeFailure::kClientCertUntrusted:
      return "client_cert_untrusted";
  }
  return "tls";
}

Result<std::unique_ptr<ServerSession>, HandshakeError> ServerSession::create(
    std::shared_ptr<const ServerCredentials> credentials) {
  std::unique_ptr<ServerSession> s(new ServerSession());
  s->credentials_ = std::move(credentials);
  auto fail = [](const char* what, int rc) {
    return unexpected(HandshakeError{HandshakeFailure::kProtocol,
                                     std::string(what) + ": " + gnutls_strerror(rc)});
  };
  gnutls_session_t raw = nullptr;
  int rc = gnutls_init(&raw, GNUTLS_SERVER | GNUTLS_NONBLOCK);
  s->session_.reset(raw);
  if (rc < 0) return fail("gnutls_init", rc);
  rc = gnutls_priority_set(s->session_.get(), s->credentials_->priorities());
  if (rc < 0) return fail("priorities", rc);
  rc = gnutls_credentials_set(s->session_.get(), GNUTLS_CRD_CERTIFICATE,
                              s->credentials_->certificates());
  if (rc < 0) return fail("credentials", rc);

  // Tickets (RFC 8446 §4.6.1, RFC 5077) under one process-wide key: a client resumes on any
  // connection and any worker, and skips the certificate exchange.
  const auto& key = s->credentials_->ticket_key();
  const gnutls_datum_t key_datum{const_cast<std::uint8_t*>(key.data()),
                                 static_cast<unsigned>(key.size())};
  rc = gnutls_session_ticket_enable_server(s->session_.get(), &key_datum);  // GnuTLS copies it
  if (rc < 0) return fail("session tickets", rc);

  const gnutls_datum_t alpn{const_cast<unsigned char*>(kAlpnDot), sizeof(kAlpnDot) - 1};
  // Not mandatory: a client that offers no ALPN (most stubs) is served too.
  rc = gnutls_alpn_set_protocols(s->session_.get(), &alpn, 1, GNUTLS_ALPN_SERVER_PRECEDENCE);
  if (rc < 0) return fail("ALPN", rc);

  if (s->credentials_->client_cert_required()) {
    // Mutual TLS: GnuTLS asks for a certificate, fails the handshake without one, and
    // verifies the chain (and its client-auth purpose) before the handshake completes.
    gnutls_certificate_server_set_request(s->session_.get(), GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert2(s->session_.get(), &client_purpose_vdata, 1, 0);
    // No CA names in the CertificateRequest: a GnuTLS client would otherwise withhold a
    // certificate from another CA, and an untrusted client would look like one without a
    // certificate (in the counters and the log). It also keeps our trust list private.
    gnutls_certificate_send_x509_rdn_sequence(s->session_.get(), 1);
  } else {
    gnutls_certificate_server_set_request(s->session_.get(), GNUTLS_CERT_IGNORE);
  }
  s->transport_.install(s->session_.get());
  gnutls_handshake_set_timeout(s->session_.get(), 0);  // the connection's deadline decides
  return s;
}

Result<IoState, HandshakeError> ServerSession::handshake() {
  if (handshake_done_) return IoState::kDone;
  if (failed_) return unexpected(*failed_);
  const int rc = gnutls_handshake(session_.get());
  if (rc == GNUTLS_E_SUCCESS) {
    handshake_done_ = true;
    return IoState::kDone;
  }
  if ((rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) && !transport_.eof())
    return IoState::kNeedRead;

  HandshakeError error{HandshakeFailure::kProtocol, gnutls_strerror(rc)};
  if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED || rc == GNUTLS_E_PREMATURE_TERMINATION) {
    error.detail = "connection closed by peer";
  } else if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND || rc == GNUTLS_E_CERTIFICATE_REQUIRED) {
    // TLS 1.2 says the former, TLS 1.3 (RFC 8446 §4.4.2.4 certificate_required) the latter.
    error.failure = HandshakeFailure::kClientCertMissing;
    error.detail = "no client certificate";
  } else if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
    error.failure = HandshakeFailure::kClientCertUntrusted;
    const unsigned status = gnutls_session_get_verify_cert_status(session_.get());
    gnutls_datum_t text{};
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0) {
      error.detail.assign(reinterpret_cast<const char*>(text.data), text.size);
      gnutls_free(text.data);
      while (!error.detail.empty() && (error.detail.back() == ' ' || error.detail.back() == '\0')) {
        error.detail.pop_back();
      }
    }
  } else if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
    error.detail += std::string(": ") + gnutls_alert_get_name(gnutls_alert_get(session_.get()));
  }
  // Tell the client why (bad_certificate, certificate_required, protocol_version, ...); the
  // owner flushes output() and closes. Best effort: push() never blocks.
  if (!transport_.eof()) (void)gnutls_alert_send_appropriate(session_.get(), rc);
  failed_ = error;
  return unexpected(std::move(error));
}

Result<void, TlsError> ServerSession::write(std::span<const std::uint8_t> plaintext) {
  if (!handshake_done_) {
    return unexpected(TlsError{TlsErrorKind::kRecord, "write before the handshake is done"});
  }
  return transport_.send(plaintext);
}

Result<std::size_t, TlsError> ServerSession::read(std::span<std::uint8_t> buf) {
  // Nothing from a client that has not completed (and, with mutual TLS, passed) the
  // handshake reaches the DNS code.
  if (!handshake_done_) {
    return unexpected(TlsError{TlsErrorKind::kRecord, "read before the handshake is done"});
  }
  // Renegotiation (a TLS 1.2 client hello after the handshake) is refused: GnuTLS says
  // GNUTLS_E_REHANDSHAKE and we never call gnutls_handshake() again.
  return transport_.receive(buf, /*continue_on_rehandshake=*/false);
}

std::string ServerSession::protocol_name() const {
  const char* name = gnutls_protocol_get_name(gnutls_protocol_get_version(session_.get()));
  return name != nullptr ? name : "unknown";
}

bool ServerSession::resumed() const { return gnutls_session_is_resumed(session_.get()) != 0; }

std::string ServerSession::alpn() const {
  gnutls_datum_t selected{nullptr, 0};
  if (gnutls_alpn_get_selected_protocol(session_.get(), &selected) < 0) return {};
  return std::string(reinterpret_cast<const char*>(selected.data), selected.size);
}

}  // namespace dp::tls
