// Drives a ClientSession against an in-memory GnuTLS server until the client's handshake is
// done or fails, for the TLS tests that expect failures (pins, OCSP, versions).
#pragma once

#include <gnutls/gnutls.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "fakes/memory_dot_server.h"
#include "tls/client_session.h"

namespace dp::tls {

// A failing server is expected: like a real one it sends the alert that says why, then hangs
// up (its error text in *server_error when given).
inline Result<void, TlsError> run_memory_handshake(ClientSession& c, testing::MemoryTlsServer& s,
                                                   std::string* server_error = nullptr) {
  bool server_failed = false;
  const auto server_step = [&] {
    if (server_failed) return;
    const int rc = s.handshake();
    if (rc < 0 && rc != GNUTLS_E_AGAIN) {
      server_failed = true;
      if (server_error != nullptr) *server_error = gnutls_strerror(rc);
      (void)gnutls_alert_send_appropriate(s.session(), rc);
      c.feed(s.take_output());
      c.feed_eof();
    }
  };
  for (int round = 0; round < 10; ++round) {
    auto step = c.handshake();
    s.feed(std::exchange(c.output(), {}));
    server_step();  // TLS 1.3: the client's Finished (and any alert behind it)
    if (!step) return unexpected(step.error());
    if (*step == IoState::kDone) return {};
    c.feed(s.take_output());
  }
  ADD_FAILURE() << "handshake did not finish in 10 rounds";
  return unexpected(TlsError{TlsErrorKind::kHandshake, "test: too many rounds"});
}

// One handshake's result, with both ends kept for what the test checks next.
struct MemoryHandshake {
  Result<void, TlsError> result;
  std::unique_ptr<ClientSession> client;
  std::unique_ptr<testing::MemoryTlsServer> server;
};

inline MemoryHandshake memory_handshake(const testing::MemoryServerOptions& server_options,
                                        const std::string& ca_file,
                                        const SessionOptions& session_options) {
  auto server = std::make_unique<testing::MemoryTlsServer>(server_options);
  auto session = ClientSession::create(ClientCredentials::create(ca_file), session_options);
  EXPECT_TRUE(session.has_value());
  if (!session) return {unexpected(session.error()), nullptr, std::move(server)};
  auto client = std::move(*session);
  auto result = run_memory_handshake(*client, *server);
  return {std::move(result), std::move(client), std::move(server)};
}

}  // namespace dp::tls
