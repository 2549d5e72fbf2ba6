// The DoT listener's server session in memory: against our ClientSession and a plain GnuTLS
// client (for ALPN, client certificates and old protocol versions), with certificates made
// at test time.
#include "tls/server_session.h"

#include <gmock/gmock.h>
#include <gnutls/gnutls.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/c_ptr.h"
#include "fakes/shared_pki.h"

namespace dp::tls {
namespace {

using Bytes = std::vector<std::uint8_t>;
using ::testing::HasSubstr;
using testing::SharedPki;

Bytes take(std::vector<std::uint8_t>& out) { return std::exchange(out, {}); }

const testing::TestPki& pki() { return SharedPki::get().pki; }

std::shared_ptr<const ServerCredentials> server_credentials(bool mutual_tls) {
  return ServerCredentials::create(
      {pki().good.cert_file, pki().good.key_file, mutual_tls ? pki().ca_file : ""});
}

std::unique_ptr<ServerSession> server_session(std::shared_ptr<const ServerCredentials> creds) {
  auto session = ServerSession::create(std::move(creds));
  EXPECT_TRUE(session.has_value());
  return session ? std::move(*session) : nullptr;
}

struct RawClientOptions {
  const testing::CertKey* cert = nullptr;  // client certificate for mutual TLS; null: none
  std::string priority = "NORMAL";
  bool alpn = true;  // offer "dot"
};

// A plain GnuTLS client over buffers that verifies the server as dns.test against the test CA.
class RawTlsClient {
 public:
  explicit RawTlsClient(const RawClientOptions& options) {
    gnutls_certificate_credentials_t certs = nullptr;
    check(gnutls_certificate_allocate_credentials(&certs), "credentials");
    certs_.reset(certs);
    check(gnutls_certificate_set_x509_trust_file(certs, pki().ca_file.c_str(), GNUTLS_X509_FMT_PEM),
          "trust");
    if (options.cert != nullptr) {
      check(
          gnutls_certificate_set_x509_key_file(certs, options.cert->cert_file.c_str(),
                                               options.cert->key_file.c_str(), GNUTLS_X509_FMT_PEM),
          "client certificate");
    }
    gnutls_session_t session = nullptr;
    check(gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NONBLOCK), "init");
    session_.reset(session);
    check(gnutls_priority_set_direct(session, options.priority.c_str(), nullptr), "priority");
    check(gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, certs), "credentials_set");
    check(gnutls_server_name_set(session, GNUTLS_NAME_DNS, "dns.test", 8), "sni");
    gnutls_session_set_verify_cert(session, "dns.test", 0);
    if (options.alpn) {
      static unsigned char dot[] = "dot";
      const gnutls_datum_t alpn{dot, 3};
      check(gnutls_alpn_set_protocols(session, &alpn, 1, 0), "alpn");
    }
    gnutls_transport_set_ptr(session, this);
    gnutls_transport_set_pull_function(session, &RawTlsClient::pull);
    gnutls_transport_set_push_function(session, &RawTlsClient::push);
    gnutls_transport_set_pull_timeout_function(session, &RawTlsClient::pull_timeout);
  }

  void feed(const Bytes& bytes) { input_.insert(input_.end(), bytes.begin(), bytes.end()); }
  Bytes take_output() { return std::exchange(output_, {}); }
  void write(const Bytes& plain) {
    ASSERT_EQ(gnutls_record_send(session_.get(), plain.data(), plain.size()),
              static_cast<ssize_t>(plain.size()));
  }
  // Plaintext decrypted from what was fed; `error` set to GnuTLS's words on a fatal error.
  Bytes read(std::string* error = nullptr) {
    Bytes plain;
    std::uint8_t chunk[4096];
    for (;;) {
      const ssize_t n = gnutls_record_recv(session_.get(), chunk, sizeof chunk);
      if (n > 0) {
        plain.insert(plain.end(), chunk, chunk + n);
        continue;
      }
      if (n == GNUTLS_E_AGAIN && !input_.empty()) continue;
      if (n < 0 && n != GNUTLS_E_AGAIN && error != nullptr) {
        *error = gnutls_strerror(static_cast<int>(n));
        if (n == GNUTLS_E_FATAL_ALERT_RECEIVED) {
          *error += std::string(": ") + gnutls_alert_get_name(gnutls_alert_get(session_.get()));
        }
      }
      return plain;
    }
  }
  gnutls_session_t session() const { return session_.get(); }

 private:
  static void check(int rc, const char* what) {
    if (rc < 0)
      throw std::runtime_error(std::string("RawTlsClient: ") + what + ": " + gnutls_strerror(rc));
  }
  static ssize_t pull(gnutls_transport_ptr_t self, void* data, std::size_t size) noexcept {
    auto* c = static_cast<RawTlsClient*>(self);
    if (c->input_.empty()) {
      gnutls_transport_set_errno(c->session_.get(), EAGAIN);
      return -1;
    }
    const std::size_t n = std::min(size, c->input_.size());
    std::memcpy(data, c->input_.data(), n);
    c->input_.erase(c->input_.begin(), c->input_.begin() + static_cast<std::ptrdiff_t>(n));
    return static_cast<ssize_t>(n);
  }
  static ssize_t push(gnutls_transport_ptr_t self, const void* data, std::size_t size) noexcept {
    auto* c = static_cast<RawTlsClient*>(self);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    c->output_.insert(c->output_.end(), bytes, bytes + size);
    return static_cast<ssize_t>(size);
  }
  static int pull_timeout(gnutls_transport_ptr_t self, unsigned int /*ms*/) noexcept {
    return static_cast<RawTlsClient*>(self)->input_.empty() ? 0 : 1;
  }

  CPtr<gnutls_certificate_credentials_st, gnutls_certificate_free_credentials> certs_;
  CPtr<gnutls_session_int, gnutls_deinit> session_;
  Bytes input_;
  Bytes output_;
};

// Both ends' outcome of one in-memory handshake.
struct Outcome {
  int client_rc = GNUTLS_E_AGAIN;  // 0 done; GnuTLS's code otherwise
  Result<IoState, HandshakeError> server = IoState::kNeedRead;
};

Outcome handshake(RawTlsClient& client, ServerSession& server) {
  Outcome out;
  for (int round = 0; round < 10; ++round) {
    out.client_rc = gnutls_handshake(client.session());
    server.feed(client.take_output());
    out.server = server.handshake();
    client.feed(take(server.output()));
    if (!out.server) return out;
    const bool client_failed = out.client_rc < 0 && out.client_rc != GNUTLS_E_AGAIN;
    if (client_failed || (out.client_rc == 0 && *out.server == IoState::kDone)) return out;
  }
  ADD_FAILURE() << "handshake did not finish in 10 rounds";
  return out;
}

Outcome handshake(ClientSession& client, ServerSession& server) {
  Outcome out;
  for (int round = 0; round < 10; ++round) {
    auto step = client.handshake();
    server.feed(take(client.output()));
    out.server = server.handshake();
    client.feed(take(server.output()));
    if (!step) {
      out.client_rc = -1;
      return out;
    }
    out.client_rc = *step == IoState::kDone ? 0 : GNUTLS_E_AGAIN;
    if (!out.server || (out.client_rc == 0 && *out.server == IoState::kDone)) return out;
  }
  ADD_FAILURE() << "handshake did not finish in 10 rounds";
  return out;
}

std::unique_ptr<ClientSession> client_session(std::vector<std::uint8_t> resume = {}) {
  SessionOptions options;
  options.auth_name = "dns.test";
  options.resume_data = std::move(resume);
  auto session = ClientSession::create(SharedPki::get().credentials, options);
  EXPECT_TRUE(session.has_value());
  return session ? std::move(*session) : nullptr;
}

const Bytes kQuery = {0, 3, 'a', 'b', 'c'};

TEST(TlsServerSessionTest, HandshakeWithOurClientThenRecordsBothWays) {
  auto server = server_session(server_credentials(false));
  auto client = client_session();
  const Outcome out = handshake(*client, *server);
  ASSERT_TRUE(out.server.has_value()) << out.server.error().detail;
  ASSERT_EQ(out.client_rc, 0);
  EXPECT_TRUE(server->handshake_done());
  EXPECT_EQ(server->protocol_name(), "TLS1.3");  // preferred when both can
  EXPECT_FALSE(server->resumed());

  ASSERT_TRUE(client->write(kQuery).has_value());
  server->feed(take(client->output()));
  std::uint8_t buf[64];
  auto got = server->read(buf);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(Bytes(buf, buf + *got), kQuery);
  EXPECT_EQ(server->read(buf).value(), 0u);  // nothing more buffered

  ASSERT_TRUE(server->write(kQuery).has_value());
  client->feed(take(server->output()));
  auto back = client->read(buf);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(Bytes(buf, buf + *back), kQuery);
}

TEST(TlsServerSessionTest, OffersAlpnDotAndServesClientsWithoutAlpn) {
  auto server = server_session(server_credentials(false));
  RawTlsClient client({});
  ASSERT_EQ(handshake(client, *server).client_rc, 0);
  EXPECT_EQ(server->alpn(), "dot");
  gnutls_datum_t selected{};
  ASSERT_EQ(gnutls_alpn_get_selected_protocol(client.session(), &selected), 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(selected.data), selected.size), "dot");

  auto plain = server_session(server_credentials(false));
  RawTlsClient no_alpn({.alpn = false});
  const Outcome out = handshake(no_alpn, *plain);
  EXPECT_EQ(out.client_rc, 0);
  EXPECT_TRUE(plain->handshake_done());
  EXPECT_EQ(plain->alpn(), "");
}

TEST(TlsServerSessionTest, NothingIsReadBeforeTheHandshakeIsDone) {
  auto server = server_session(server_credentials(false));
  std::uint8_t buf[64];
  auto early = server->read(buf);
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().kind, TlsErrorKind::kRecord);
  EXPECT_FALSE(server->write(kQuery).has_value());
  // A ClientHello alone is not a handshake.
  auto client = client_session();
  ASSERT_TRUE(client->handshake().has_value());
  server->feed(take(client->output()));
  EXPECT_EQ(server->handshake().value(), IoState::kNeedRead);
  EXPECT_FALSE(server->read(buf).has_value());
}

TEST(TlsServerSessionTest, Tls12ClientIsServedAndTls11IsRefused) {
  auto server = server_session(server_credentials(false));
  RawTlsClient tls12({.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2"});
  ASSERT_EQ(handshake(tls12, *server).client_rc, 0);
  EXPECT_EQ(server->protocol_name(), "TLS1.2");

  auto old = server_session(server_credentials(false));
  RawTlsClient tls11({.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0"});
  const Outcome out = handshake(tls11, *old);
  ASSERT_FALSE(out.server.has_value());
  EXPECT_EQ(out.server.error().failure, HandshakeFailure::kProtocol);
  EXPECT_FALSE(old->handshake_done());
  // Once failed, always failed.
  EXPECT_FALSE(old->handshake().has_value());
}

TEST(TlsServerSessionTest, GarbageIsAProtocolFailure) {
  auto server = server_session(server_credentials(false));
  server->feed(Bytes{0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});  // DNS, not TLS
  auto result = server->handshake();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().failure, HandshakeFailure::kProtocol);
  EXPECT_STREQ(handshake_failure_name(result.error().failure), "protocol");
}

TEST(TlsServerSessionTest, HangUpMidHandshakeIsAProtocolFailure) {
  auto server = server_session(server_credentials(false));
  auto client = client_session();
  ASSERT_TRUE(client->handshake().has_value());
  server->feed(take(client->output()));
  ASSERT_EQ(server->handshake().value(), IoState::kNeedRead);
  server->feed_eof();
  auto result = server->handshake();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().failure, HandshakeFailure::kProtocol);
  EXPECT_EQ(result.error().detail, "connection closed by peer");
}

TEST(TlsServerSessionTest, SessionTicketResumes) {
  auto creds = server_credentials(false);
  auto first_server = server_session(creds);
  auto first = client_session();
  ASSERT_EQ(handshake(*first, *first_server).client_rc, 0);
  // TLS 1.3: the ticket came with the server's last flight; the client takes it on a read.
  std::uint8_t buf[64];
  ASSERT_TRUE(first->read(buf).has_value());
  auto resume = first->session_data();
  ASSERT_FALSE(resume.empty());

  auto second_server = server_session(creds);  // another connection, same process key
  auto second = client_session(resume);
  ASSERT_EQ(handshake(*second, *second_server).client_rc, 0);
  EXPECT_TRUE(second_server->resumed());
  EXPECT_TRUE(second->resumed());

  // A ticket from another process (another key) is only a full handshake.
  auto stranger = server_session(server_credentials(false));
  auto third = client_session(resume);
  ASSERT_EQ(handshake(*third, *stranger).client_rc, 0);
  EXPECT_FALSE(stranger->resumed());
}

class TlsServerMutualTest : public ::testing::TestWithParam<const char*> {
 protected:
  // TLS 1.3 and 1.2 send and check the client certificate in different messages.
  RawClientOptions options(const testing::CertKey* cert) const {
    return {.cert = cert, .priority = GetParam()};
  }
};

TEST_P(TlsServerMutualTest, GoodClientCertificateIsAccepted) {
  auto server = server_session(server_credentials(true));
  RawTlsClient client(options(&pki().client));
  const Outcome out = handshake(client, *server);
  ASSERT_TRUE(out.server.has_value()) << out.server.error().detail;
  ASSERT_EQ(out.client_rc, 0);
  EXPECT_TRUE(server->handshake_done());
  client.write(kQuery);
  server->feed(client.take_output());
  std::uint8_t buf[64];
  auto got = server->read(buf);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(Bytes(buf, buf + *got), kQuery);
}

TEST_P(TlsServerMutualTest, NoClientCertificateFailsAndTheQueryIsNeverRead) {
  auto server = server_session(server_credentials(true));
  RawTlsClient client(options(nullptr));
  const Outcome out = handshake(client, *server);
  ASSERT_FALSE(out.server.has_value());
  EXPECT_EQ(out.server.error().failure, HandshakeFailure::kClientCertMissing)
      << out.server.error().detail;
  EXPECT_FALSE(server->handshake_done());
  if (out.client_rc == 0) {  // TLS 1.3: the client thinks it is done and sends its query
    client.write(kQuery);
    server->feed(client.take_output());
  }
  std::uint8_t buf[64];
  EXPECT_FALSE(server->read(buf).has_value());
  // The client learns why from the alert.
  std::string error;
  client.read(&error);
  if (out.client_rc == 0) {
    EXPECT_THAT(error, HasSubstr("alert"));
  }
}

TEST_P(TlsServerMutualTest, UntrustedClientCertificateFails) {
  auto server = server_session(server_credentials(true));
  RawTlsClient client(options(&pki().untrusted_client));
  const Outcome out = handshake(client, *server);
  ASSERT_FALSE(out.server.has_value());
  EXPECT_EQ(out.server.error().failure, HandshakeFailure::kClientCertUntrusted);
  EXPECT_THAT(out.server.error().detail, HasSubstr("issuer is unknown"));
  EXPECT_STREQ(handshake_failure_name(out.server.error().failure), "client_cert_untrusted");
}

TEST_P(TlsServerMutualTest, AServerCertificateIsNotAClientCertificate) {
  auto server = server_session(server_credentials(true));
  RawTlsClient client(options(&pki().good));  // same CA, serverAuth purpose only
  const Outcome out = handshake(client, *server);
  ASSERT_FALSE(out.server.has_value());
  EXPECT_EQ(out.server.error().failure, HandshakeFailure::kClientCertUntrusted);
}

INSTANTIATE_TEST_SUITE_P(Versions, TlsServerMutualTest,
                         ::testing::Values("NORMAL:-VERS-ALL:+VERS-TLS1.3",
                                           "NORMAL:-VERS-ALL:+VERS-TLS1.2"),
                         [](const auto& info) { return info.index == 0 ? "Tls13" : "Tls12"; });

TEST(TlsServerCredentialsTest, BadFilesAreOneLineWithGnutlsReason) {
  try {
    ServerCredentials::create({pki().good.cert_file, pki().expired.key_file, ""});
    FAIL() << "mismatched key accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("--tls-cert " + pki().good.cert_file));
    EXPECT_THAT(e.what(), HasSubstr("do not match"));
  }
  try {
    ServerCredentials::create({pki().dir + "/missing.pem", pki().good.key_file, ""});
    FAIL() << "missing certificate accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.pem"));
  }
  try {
    ServerCredentials::create({pki().good.cert_file, pki().good.key_file, pki().dir + "/no-ca"});
    FAIL() << "missing client CA accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("--tls-client-ca " + pki().dir + "/no-ca"));
  }
  auto good = ServerCredentials::create({pki().good.cert_file, pki().good.key_file, ""});
  EXPECT_FALSE(good->client_cert_required());
  EXPECT_FALSE(good->ticket_key().empty());
  EXPECT_TRUE(server_credentials(true)->client_cert_required());
}

}  // namespace
}  // namespace dp::tls
