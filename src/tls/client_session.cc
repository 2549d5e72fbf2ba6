#include "tls/client_session.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "common/c_ptr.h"

namespace dp::tls {

struct SessionHooks {
  // TLS 1.3: a NewSessionTicket arrived, so session_data() can now resume.
  static int on_ticket(gnutls_session_t session, unsigned /*type*/, unsigned /*when*/,
                       unsigned /*incoming*/, const gnutls_datum_t* /*message*/) noexcept {
    static_cast<ClientSession*>(gnutls_session_get_ptr(session))->ticket_received_ = true;
    return 0;
  }
};
namespace {

using CrtPtr = CPtr<gnutls_x509_crt_int, gnutls_x509_crt_deinit>;
using PubkeyPtr = CPtr<gnutls_pubkey_st, gnutls_pubkey_deinit>;

// gnutls_free is a variable (a function pointer), so CPtr cannot take it.
struct DatumFree {
  gnutls_datum_t* datum;
  ~DatumFree() { gnutls_free(datum->data); }
};

// SHA-256 of the DER SubjectPublicKeyInfo of a DER or PEM certificate. Errors: GnuTLS's words.
Result<SpkiPin, std::string> spki_sha256(const gnutls_datum_t& cert, gnutls_x509_crt_fmt_t format) {
  const auto fail = [](const char* what, int rc) {
    return unexpected(std::string(what) + ": " + gnutls_strerror(rc));
  };
  gnutls_x509_crt_t raw_crt = nullptr;
  int rc = gnutls_x509_crt_init(&raw_crt);
  if (rc < 0) return fail("certificate", rc);
  const CrtPtr crt(raw_crt);
  rc = gnutls_x509_crt_import(crt.get(), &cert, format);
  if (rc < 0) return fail("certificate", rc);
  gnutls_pubkey_t raw_key = nullptr;
  rc = gnutls_pubkey_init(&raw_key);
  if (rc < 0) return fail("public key", rc);
  const PubkeyPtr key(raw_key);
  rc = gnutls_pubkey_import_x509(key.get(), crt.get(), 0);
  if (rc < 0) return fail("public key", rc);
  gnutls_datum_t spki{nullptr, 0};
  rc = gnutls_pubkey_export2(key.get(), GNUTLS_X509_FMT_DER, &spki);
  if (rc < 0) return fail("public key export", rc);
  const DatumFree guard{&spki};
  SpkiPin hash{};
  rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, hash.data());
  if (rc < 0) return fail("SHA-256", rc);
  return hash;
}

std::string base64(const SpkiPin& pin) {
  const gnutls_datum_t in{const_cast<unsigned char*>(pin.data()),
                          static_cast<unsigned>(pin.size())};
  gnutls_datum_t out{nullptr, 0};
  if (gnutls_base64_encode2(&in, &out) < 0) return "?";  // out of memory only
  const DatumFree guard{&out};
  return std::string(reinterpret_cast<const char*>(out.data), out.size);
}

}  // namespace

Result<std::string, std::string> spki_pin_sha256(std::span<const std::uint8_t> cert) {
  constexpr std::string_view kPem = "-----BEGIN";
  const bool pem = cert.size() >= kPem.size() &&
                   std::equal(kPem.begin(), kPem.end(), cert.begin(),
                              [](char a, std::uint8_t b) { return a == static_cast<char>(b); });
  const gnutls_datum_t datum{const_cast<std::uint8_t*>(cert.data()),
                             static_cast<unsigned>(cert.size())};
  auto hash = spki_sha256(datum, pem ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER);
  if (!hash) return unexpected(hash.error());
  return base64(*hash);
}

const char* tls_error_name(TlsErrorKind kind) {
  switch (kind) {
    case TlsErrorKind::kHandshake:
      return "tls_handshake";
    case TlsErrorKind::kVerify:
      return "tls_verify";
    case TlsErrorKind::kClosed:
      return "closed";
    case TlsErrorKind::kRecord:
      return "tls_record";
  }
  return "tls";
}

Result<std::unique_ptr<ClientSession>, TlsError> ClientSession::create(
    std::shared_ptr<const ClientCredentials> credentials, const SessionOptions& options) {
  std::unique_ptr<ClientSession> s(new ClientSession());
  s->credentials_ = std::move(credentials);
  auto fail = [](const char* what, int rc) {
    return unexpected(
        TlsError{TlsErrorKind::kHandshake, std::string(what) + ": " + gnutls_strerror(rc)});
  };
  gnutls_session_t raw = nullptr;
  int rc = gnutls_init(&raw, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
  s->session_.reset(raw);
  if (rc < 0) return fail("gnutls_init", rc);
  s->pins_ = options.pins;
  s->min_version_ = options.min_version;
  rc = gnutls_priority_set(s->session_.get(), s->credentials_->priorities(options.min_version));
  if (rc < 0) return fail("priorities", rc);
  rc = gnutls_credentials_set(s->session_.get(), GNUTLS_CRD_CERTIFICATE,
                              s->credentials_->certificates());
  if (rc < 0) return fail("credentials", rc);

  // RFC 8310 §8.1: the auth name is both the SNI and what the certificate must match; without
  // one, the upstream's IP address must be in the certificate (RFC 6066: no IP in SNI).
  // GnuTLS keeps the pointer, not a copy: the name lives as long as the session.
  s->verify_name_ = options.auth_name.empty() ? options.ip : options.auth_name;
  if (!options.auth_name.empty()) {
    rc = gnutls_server_name_set(s->session_.get(), GNUTLS_NAME_DNS, options.auth_name.data(),
                                options.auth_name.size());
    if (rc < 0) return fail("server name", rc);
  }
  gnutls_session_set_verify_cert(s->session_.get(), s->verify_name_.c_str(), 0);

  if (!options.resume_data.empty()) {
    // A stale or foreign ticket only costs a full handshake, so the result is not fatal.
    gnutls_session_set_data(s->session_.get(), options.resume_data.data(),
                            options.resume_data.size());
  }
  gnutls_session_set_ptr(s->session_.get(), s.get());
  gnutls_handshake_set_hook_function(s->session_.get(), GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
                                     GNUTLS_HOOK_POST, &SessionHooks::on_ticket);
  s->transport_.install(s->session_.get());
  gnutls_handshake_set_timeout(s->session_.get(), 0);  // deadlines are the connection's job
  // OCSP stapling (RFC 6066 §8): ask for the server's stapled status; GnuTLS's verification
  // then rejects a certificate the stapled response says is revoked.
  rc = gnutls_ocsp_status_request_enable_client(s->session_.get(), nullptr, 0, nullptr);
  if (rc < 0) return fail("OCSP status request", rc);
  return s;
}

Result<IoState, TlsError> ClientSession::handshake() {
  if (handshake_done_) return IoState::kDone;
  if (!pin_failure_.empty()) return unexpected(TlsError{TlsErrorKind::kVerify, pin_failure_});
  const int rc = gnutls_handshake(session_.get());
  if (rc == GNUTLS_E_SUCCESS) {
    // GnuTLS has verified the chain and the name; the pins come on top, before any query.
    if (auto pinned = pins_check(); !pinned) {
      pin_failure_ = pinned.error().detail;
      // Tell the server why; the owner flushes output() and closes. Best effort: push() never
      // blocks, and the connection fails either way.
      (void)gnutls_alert_send(session_.get(), GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
      return unexpected(pinned.error());
    }
    handshake_done_ = true;
    return IoState::kDone;
  }
  // A server without TLS 1.3 fails in its own words (an alert, a hang-up), so say what we
  // asked for.
  const auto handshake_error = [this](std::string detail) {
    if (min_version_ == TlsVersion::kTls13) detail += " (tls_min_version \"1.3\": TLS 1.3 only)";
    return unexpected(TlsError{TlsErrorKind::kHandshake, std::move(detail)});
  };
  if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
    if (transport_.eof()) return handshake_error("connection closed by peer");
    return IoState::kNeedRead;
  }
  if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
    const unsigned status = gnutls_session_get_verify_cert_status(session_.get());
    gnutls_datum_t text{};
    std::string detail = "certificate rejected";
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0) {
      detail.assign(reinterpret_cast<const char*>(text.data), text.size);
      gnutls_free(text.data);
      while (!detail.empty() && (detail.back() == ' ' || detail.back() == '\0')) detail.pop_back();
    }
    return unexpected(TlsError{TlsErrorKind::kVerify, std::move(detail)});
  }
  std::string detail = gnutls_strerror(rc);
  if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
    detail += std::string(": ") + gnutls_alert_get_name(gnutls_alert_get(session_.get()));
  }
  if (transport_.eof() && rc == GNUTLS_E_PREMATURE_TERMINATION)
    detail = "connection closed by peer";
  return handshake_error(std::move(detail));
}

std::optional<std::int64_t> ClientSession::peer_certificate_expiry() const {
  if (!handshake_done_) return std::nullopt;
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session_.get(), &count);
  if (chain == nullptr || count == 0) return std::nullopt;
  gnutls_x509_crt_t raw = nullptr;
  if (gnutls_x509_crt_init(&raw) != GNUTLS_E_SUCCESS) return std::nullopt;
  const CrtPtr crt(raw);
  if (gnutls_x509_crt_import(crt.get(), &chain[0], GNUTLS_X509_FMT_DER) != GNUTLS_E_SUCCESS) {
    return std::nullopt;
  }
  const time_t expires = gnutls_x509_crt_get_expiration_time(crt.get());
  if (expires == static_cast<time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(expires);
}

Result<void, TlsError> ClientSession::pins_check() const {
  if (pins_.empty()) return {};
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session_.get(), &count);
  if (chain == nullptr || count == 0) {
    // GnuTLS restores the chain from the ticket on resumption; should one ever lack it, the
    // ticket still came from session_data() of a session that passed this check
    // (handshake_done_), which is why GnuTLS skips the CA and name checks there too.
    if (resumed()) return {};
    return unexpected(TlsError{TlsErrorKind::kVerify, "SPKI pin check: no server certificate"});
  }
  std::string leaf_pin;
  // RFC 7858 §4.2 and stubby/getdns: a pin may name the leaf or any CA the server sends.
  for (unsigned i = 0; i < count; ++i) {
    auto hash = spki_sha256(chain[i], GNUTLS_X509_FMT_DER);
    if (!hash) {
      return unexpected(
          TlsError{TlsErrorKind::kVerify,
                   "SPKI pin check: certificate " + std::to_string(i) + ": " + hash.error()});
    }
    if (std::find(pins_.begin(), pins_.end(), *hash) != pins_.end()) return {};
    if (i == 0) leaf_pin = base64(*hash);
  }
  const std::string none = pins_.size() == 1 ? "the configured pin does not match"
                                             : "none of the " + std::to_string(pins_.size()) +
                                                   " configured pins matches";
  std::string detail = "SPKI pin mismatch: the chain's leaf has pin_sha256 \"" + leaf_pin + "\", ";
  return unexpected(TlsError{TlsErrorKind::kVerify, detail + none});
}

Result<void, TlsError> ClientSession::write(std::span<const std::uint8_t> plaintext) {
  // Only an authenticated session carries queries (RFC 8310 strict profile).
  if (!handshake_done_) {
    return unexpected(TlsError{TlsErrorKind::kRecord, "write before the handshake is done"});
  }
  return transport_.send(plaintext);
}

Result<std::size_t, TlsError> ClientSession::read(std::span<std::uint8_t> buf) {
  return transport_.receive(buf, /*continue_on_rehandshake=*/true);
}

std::string ClientSession::protocol_name() const {
  const char* name = gnutls_protocol_get_name(gnutls_protocol_get_version(session_.get()));
  return name != nullptr ? name : "unknown";
}

bool ClientSession::resumed() const { return gnutls_session_is_resumed(session_.get()) != 0; }

std::vector<std::uint8_t> ClientSession::session_data() const {
  // TLS 1.3 tickets come after the handshake (RFC 8446 §4.6.1); before one has arrived, the
  // data GnuTLS returns cannot resume anything.
  if (!handshake_done_) return {};
  if (gnutls_protocol_get_version(session_.get()) == GNUTLS_TLS1_3 && !ticket_received_) return {};
  gnutls_datum_t data{};
  if (gnutls_session_get_data2(session_.get(), &data) < 0) return {};
  std::vector<std::uint8_t> out(data.data, data.data + data.size);
  gnutls_free(data.data);
  return out;
}

}  // namespace dp::tls
