#include "tls/memory_transport.h"

#include <gnutls/gnutls.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dp::tls {

void MemoryTransport::install(gnutls_session_int* session) {
  session_ = session;
  gnutls_transport_set_ptr(session, this);
  gnutls_transport_set_pull_function(session, &MemoryTransport::pull);
  gnutls_transport_set_push_function(session, &MemoryTransport::push);
  gnutls_transport_set_pull_timeout_function(session, &MemoryTransport::pull_timeout);
}

long MemoryTransport::pull(void* self, void* data, std::size_t size) noexcept {
  auto* t = static_cast<MemoryTransport*>(self);
  const std::size_t available = t->unread();
  if (available == 0) {
    if (t->eof_) return 0;
    gnutls_transport_set_errno(t->session_, EAGAIN);
    return -1;
  }
  const std::size_t n = std::min(size, available);
  std::memcpy(data, t->input_.data() + t->input_pos_, n);
  t->input_pos_ += n;
  if (t->input_pos_ == t->input_.size()) {
    t->input_.clear();
    t->input_pos_ = 0;
  }
  return static_cast<long>(n);
}

long MemoryTransport::push(void* self, const void* data, std::size_t size) noexcept {
  auto* t = static_cast<MemoryTransport*>(self);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  t->output_.insert(t->output_.end(), bytes, bytes + size);
  return static_cast<long>(size);
}

int MemoryTransport::pull_timeout(void* self, unsigned int /*ms*/) noexcept {
  const auto* t = static_cast<const MemoryTransport*>(self);
  return (t->unread() > 0 || t->eof_) ? 1 : 0;
}

void MemoryTransport::feed(std::span<const std::uint8_t> ciphertext) {
  input_.insert(input_.end(), ciphertext.begin(), ciphertext.end());
}

Result<void, TlsError> MemoryTransport::send(std::span<const std::uint8_t> plaintext) {
  std::size_t done = 0;
  while (done < plaintext.size()) {
    const ssize_t n =
        gnutls_record_send(session_, plaintext.data() + done, plaintext.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) continue;  // push() never blocks
    return unexpected(TlsError{TlsErrorKind::kRecord, gnutls_strerror(static_cast<int>(n))});
  }
  return {};
}

void MemoryTransport::cork() { gnutls_record_cork(session_); }

Result<void, TlsError> MemoryTransport::uncork() {
  for (;;) {
    const int n = gnutls_record_uncork(session_, 0);
    if (n >= 0) return {};
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) continue;  // push() never blocks
    return unexpected(TlsError{TlsErrorKind::kRecord, gnutls_strerror(n)});
  }
}

Result<std::size_t, TlsError> MemoryTransport::receive(std::span<std::uint8_t> buf,
                                                       bool continue_on_rehandshake) {
  for (;;) {
    const std::size_t unread_before = unread();
    const ssize_t n = gnutls_record_recv(session_, buf.data(), buf.size());
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return unexpected(TlsError{TlsErrorKind::kClosed, "close_notify from peer"});
    if (n == GNUTLS_E_AGAIN) {
      // GnuTLS also says AGAIN after a post-handshake message (TLS 1.3 NewSessionTicket or
      // KeyUpdate) with more records still in our buffer: keep going while it makes progress.
      const std::size_t left = unread();
      if (left > 0 && left < unread_before) continue;
      if (eof_) return unexpected(TlsError{TlsErrorKind::kClosed, "connection closed by peer"});
      return std::size_t{0};
    }
    if (n == GNUTLS_E_INTERRUPTED) continue;
    if (n == GNUTLS_E_REHANDSHAKE && continue_on_rehandshake) continue;
    if (n == GNUTLS_E_PREMATURE_TERMINATION) {
      return unexpected(TlsError{TlsErrorKind::kClosed, "connection closed without close_notify"});
    }
    return unexpected(TlsError{TlsErrorKind::kRecord, gnutls_strerror(static_cast<int>(n))});
  }
}

}  // namespace dp::tls
