#include "tls/client_session.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cerrno>
#include <cstring>

namespace dp::tls {

const char* tls_error_name(TlsErrorKind kind) {
  switch (kind) {
    case TlsErrorKind::kHandshake: return "tls_handshake";
    case TlsErrorKind::kVerify: return "tls_verify";
    case TlsErrorKind::kClosed: return "closed";
    case TlsErrorKind::kRecord: return "tls_record";
  }
  return "tls";
}

Result<std::unique_ptr<ClientSession>, TlsError> ClientSession::create(
    std::shared_ptr<const ClientCredentials> credentials, const SessionOptions& options) {
  std::unique_ptr<ClientSession> s(new ClientSession());
  s->credentials_ = std::move(credentials);
  auto fail = [](const char* what, int rc) {
    return unexpected(TlsError{TlsErrorKind::kHandshake, std::string(what) + ": " +
                                                             gnutls_strerror(rc)});
  };
  int rc = gnutls_init(&s->session_, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
  if (rc < 0) return fail("gnutls_init", rc);
  rc = gnutls_priority_set(s->session_, s->credentials_->priorities());
  if (rc < 0) return fail("priorities", rc);
  rc = gnutls_credentials_set(s->session_, GNUTLS_CRD_CERTIFICATE,
                              s->credentials_->certificates());
  if (rc < 0) return fail("credentials", rc);

  // RFC 8310 §8.1: the auth name is both the SNI and what the certificate must match; without
  // one, the upstream's IP address must be in the certificate (RFC 6066: no IP in SNI).
  // GnuTLS keeps the pointer, not a copy: the name lives as long as the session.
  s->verify_name_ = options.auth_name.empty() ? options.ip : options.auth_name;
  if (!options.auth_name.empty()) {
    rc = gnutls_server_name_set(s->session_, GNUTLS_NAME_DNS, options.auth_name.data(),
                                options.auth_name.size());
    if (rc < 0) return fail("server name", rc);
  }
  gnutls_session_set_verify_cert(s->session_, s->verify_name_.c_str(), 0);

  gnutls_transport_set_ptr(s->session_, s.get());
  gnutls_transport_set_pull_function(s->session_, &ClientSession::pull);
  gnutls_transport_set_push_function(s->session_, &ClientSession::push);
  gnutls_transport_set_pull_timeout_function(s->session_, &ClientSession::pull_timeout);
  gnutls_handshake_set_timeout(s->session_, 0);  // deadlines are the connection's job
  return s;
}

ClientSession::~ClientSession() {
  if (session_ != nullptr) gnutls_deinit(session_);
}

long ClientSession::pull(void* self, void* data, std::size_t size) noexcept {
  auto* s = static_cast<ClientSession*>(self);
  const std::size_t available = s->input_.size() - s->input_pos_;
  if (available == 0) {
    if (s->eof_) return 0;
    gnutls_transport_set_errno(s->session_, EAGAIN);
    return -1;
  }
  const std::size_t n = std::min(size, available);
  std::memcpy(data, s->input_.data() + s->input_pos_, n);
  s->input_pos_ += n;
  if (s->input_pos_ == s->input_.size()) {
    s->input_.clear();
    s->input_pos_ = 0;
  }
  return static_cast<long>(n);
}

long ClientSession::push(void* self, const void* data, std::size_t size) noexcept {
  auto* s = static_cast<ClientSession*>(self);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  s->output_.insert(s->output_.end(), bytes, bytes + size);
  return static_cast<long>(size);
}

int ClientSession::pull_timeout(void* self, unsigned int /*ms*/) noexcept {
  auto* s = static_cast<ClientSession*>(self);
  return (s->input_.size() > s->input_pos_ || s->eof_) ? 1 : 0;
}

void ClientSession::feed(std::span<const std::uint8_t> ciphertext) {
  input_.insert(input_.end(), ciphertext.begin(), ciphertext.end());
}

Result<IoState, TlsError> ClientSession::handshake() {
  if (handshake_done_) return IoState::kDone;
  const int rc = gnutls_handshake(session_);
  if (rc == GNUTLS_E_SUCCESS) {
    handshake_done_ = true;
    return IoState::kDone;
  }
  if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
    if (eof_) return unexpected(TlsError{TlsErrorKind::kHandshake, "connection closed by peer"});
    return IoState::kNeedRead;
  }
  if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
    const unsigned status = gnutls_session_get_verify_cert_status(session_);
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
    detail += std::string(": ") + gnutls_alert_get_name(gnutls_alert_get(session_));
  }
  if (eof_ && rc == GNUTLS_E_PREMATURE_TERMINATION) detail = "connection closed by peer";
  return unexpected(TlsError{TlsErrorKind::kHandshake, std::move(detail)});
}

Result<void, TlsError> ClientSession::write(std::span<const std::uint8_t> plaintext) {
  std::size_t done = 0;
  while (done < plaintext.size()) {
    const ssize_t n =
        gnutls_record_send(session_, plaintext.data() + done, plaintext.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    // push() never blocks, so EAGAIN cannot happen here; anything else is fatal.
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) continue;
    return unexpected(TlsError{TlsErrorKind::kRecord, gnutls_strerror(static_cast<int>(n))});
  }
  return {};
}

Result<std::size_t, TlsError> ClientSession::read(std::span<std::uint8_t> buf) {
  for (;;) {
    const std::size_t unread_before = input_.size() - input_pos_;
    const ssize_t n = gnutls_record_recv(session_, buf.data(), buf.size());
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return unexpected(TlsError{TlsErrorKind::kClosed, "close_notify from peer"});
    if (n == GNUTLS_E_AGAIN) {
      // GnuTLS also says AGAIN after a post-handshake message (TLS 1.3 NewSessionTicket)
      // with more records still in our buffer: keep going while it makes progress.
      const std::size_t unread = input_.size() - input_pos_;
      if (unread > 0 && unread < unread_before) continue;
      if (eof_) return unexpected(TlsError{TlsErrorKind::kClosed, "connection closed by peer"});
      return std::size_t{0};
    }
    if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_REHANDSHAKE) continue;
    if (n == GNUTLS_E_PREMATURE_TERMINATION) {
      return unexpected(TlsError{TlsErrorKind::kClosed, "connection closed without close_notify"});
    }
    return unexpected(TlsError{TlsErrorKind::kRecord, gnutls_strerror(static_cast<int>(n))});
  }
}

std::string ClientSession::protocol_name() const {
  const char* name = gnutls_protocol_get_name(gnutls_protocol_get_version(session_));
  return name != nullptr ? name : "unknown";
}

bool ClientSession::resumed() const { return gnutls_session_is_resumed(session_) != 0; }

}  // namespace dp::tls
