#include "tls/client_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "fakes/memory_dot_server.h"
#include "fakes/test_pki.h"

namespace dp::tls {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using testing::MemoryServerOptions;
using testing::MemoryTlsServer;
using ::testing::Not;

constexpr const char* kName = "dns.test";

Bytes take(std::vector<std::uint8_t>& out) { return std::exchange(out, {}); }

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Whole TLS records; fails the test if `bytes` is anything else.
std::vector<Bytes> split_records(const Bytes& bytes) {
  std::vector<Bytes> records = testing::split_tls_records(bytes);
  std::size_t total = 0;
  for (const Bytes& r : records) total += r.size();
  EXPECT_EQ(total, bytes.size()) << "not whole TLS records";
  return records;
}

class TlsClientSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tls-test");
    pki_ = new testing::TestPki(testing::TestPki::create(dir_->path(), kName));
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete dir_;
  }

  static MemoryServerOptions server_options(const testing::CertKey& cert) {
    MemoryServerOptions options;
    options.cert_file = cert.cert_file;
    options.key_file = cert.key_file;
    return options;
  }
  static std::unique_ptr<ClientSession> client(const SessionOptions& options) {
    auto session = ClientSession::create(ClientCredentials::create(pki_->ca_file), options);
    EXPECT_TRUE(session.has_value());
    return session ? std::move(*session) : nullptr;
  }

  // Shuttles flights between the two until both handshakes are done or the client fails.
  // The server's last flight (TLS 1.3 tickets) stays in its output.
  static Result<void, TlsError> run_handshake(ClientSession& c, MemoryTlsServer& s) {
    for (int round = 0; round < 10; ++round) {
      auto step = c.handshake();
      s.feed(take(c.output()));
      if (!step) return unexpected(step.error());
      const int rc = s.handshake();
      EXPECT_TRUE(rc == 0 || rc == GNUTLS_E_AGAIN) << gnutls_strerror(rc);
      if (*step == IoState::kDone && s.handshake_done()) return {};
      c.feed(s.take_output());
    }
    ADD_FAILURE() << "handshake did not finish in 10 rounds";
    return unexpected(TlsError{TlsErrorKind::kHandshake, "test: too many rounds"});
  }

  // A completed handshake followed by one echo each way.
  static void expect_echo(ClientSession& c, MemoryTlsServer& s) {
    const std::string ping = "ping over tls";
    ASSERT_TRUE(c.write(Bytes(ping.begin(), ping.end())).has_value());
    s.feed(take(c.output()));
    const Bytes got = s.read();
    EXPECT_EQ(std::string(got.begin(), got.end()), ping);
    s.write(got);
    c.feed(s.take_output());
    std::uint8_t buf[256];
    auto n = c.read(buf);
    ASSERT_TRUE(n.has_value()) << n.error().detail;
    EXPECT_EQ(std::string(buf, buf + *n), ping);
  }

  static Result<void, TlsError> handshake_with(const testing::CertKey& cert,
                                               const SessionOptions& options) {
    MemoryTlsServer server(server_options(cert));
    auto c = client(options);
    return run_handshake(*c, server);
  }

  static testing::TempDir* dir_;
  static testing::TestPki* pki_;
};

testing::TempDir* TlsClientSessionTest::dir_ = nullptr;
testing::TestPki* TlsClientSessionTest::pki_ = nullptr;

TEST_F(TlsClientSessionTest, HandshakeAndEchoInMemoryTls13) {
  MemoryTlsServer server(server_options(pki_->good));
  auto c = client({kName, "127.0.0.1"});
  ASSERT_TRUE(run_handshake(*c, server).has_value());
  EXPECT_TRUE(c->handshake_done());
  EXPECT_EQ(c->protocol_name(), "TLS1.3");
  EXPECT_FALSE(c->resumed());
  expect_echo(*c, server);
}

// Regression: GnuTLS returns E_AGAIN after a NewSessionTicket even when the next record (our
// answer) is already buffered; read() used to report "nothing yet" and the answer sat there.
// GnuTLS sends its tickets right behind its Finished, so the client is fed the server's flight
// one record at a time until its handshake is done: what is left are the tickets.
TEST_F(TlsClientSessionTest, TicketAndDataInOneFeedReturnsTheData) {
  MemoryTlsServer server(server_options(pki_->good));
  auto c = client({kName, "127.0.0.1"});
  ASSERT_TRUE(c->handshake().has_value());
  server.feed(take(c->output()));
  ASSERT_EQ(server.handshake(), GNUTLS_E_AGAIN);
  std::vector<Bytes> records = split_records(server.take_output());
  ASSERT_FALSE(records.empty());

  std::size_t fed = 0;
  while (fed < records.size() && !c->handshake_done()) {
    c->feed(records[fed++]);
    auto step = c->handshake();
    ASSERT_TRUE(step.has_value()) << step.error().detail;
  }
  ASSERT_TRUE(c->handshake_done());
  ASSERT_EQ(c->protocol_name(), "TLS1.3");
  ASSERT_LT(fed, records.size()) << "no NewSessionTicket behind the Finished: test is moot";
  server.feed(take(c->output()));
  ASSERT_EQ(server.handshake(), 0);

  Bytes one_feed;
  for (std::size_t i = fed; i < records.size(); ++i) {
    one_feed.insert(one_feed.end(), records[i].begin(), records[i].end());
  }
  one_feed = concat(one_feed, server.take_output());
  const std::string answer = "answer after the ticket";
  server.write(Bytes(answer.begin(), answer.end()));
  one_feed = concat(one_feed, server.take_output());

  c->feed(one_feed);
  std::uint8_t buf[256];
  auto n = c->read(buf);
  ASSERT_TRUE(n.has_value()) << n.error().detail;
  EXPECT_EQ(std::string(buf, buf + *n), answer);
}

// The usual path: the whole server flight fed at once leaves the tickets buffered behind the
// Finished; each read() then returns one record's data, at once, and nothing is left behind.
TEST_F(TlsClientSessionTest, BufferedTicketsThenTwoRecordsReadInOrder) {
  MemoryTlsServer server(server_options(pki_->good));
  auto c = client({kName, ""});
  ASSERT_TRUE(run_handshake(*c, server).has_value());
  server.write(Bytes{'o', 'n', 'e'});
  server.write(Bytes{'t', 'w', 'o'});
  c->feed(server.take_output());
  std::uint8_t buf[256];
  auto first = c->read(buf);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_EQ(std::string(buf, buf + *first), "one");
  auto second = c->read(buf);
  ASSERT_TRUE(second.has_value()) << second.error().detail;
  EXPECT_EQ(std::string(buf, buf + *second), "two");
  auto third = c->read(buf);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(*third, 0u);
}

TEST_F(TlsClientSessionTest, WrongNameFailsVerification) {
  auto result = handshake_with(pki_->wrong_name, {kName, "127.0.0.1"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(result.error().detail, HasSubstr("NOT trusted"));
  EXPECT_THAT(result.error().detail, HasSubstr("name in the certificate does not match"));
  EXPECT_THAT(result.error().detail, Not(HasSubstr("expired")));
  EXPECT_THAT(result.error().detail, Not(HasSubstr("issuer is unknown")));
}

TEST_F(TlsClientSessionTest, UntrustedCaFailsVerification) {
  auto result = handshake_with(pki_->untrusted, {kName, "127.0.0.1"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(result.error().detail, HasSubstr("issuer is unknown"));
  EXPECT_THAT(result.error().detail, Not(HasSubstr("does not match")));
}

TEST_F(TlsClientSessionTest, ExpiredCertFailsVerification) {
  auto result = handshake_with(pki_->expired, {kName, "127.0.0.1"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(result.error().detail, HasSubstr("expired"));
  EXPECT_THAT(result.error().detail, Not(HasSubstr("does not match")));
}

TEST_F(TlsClientSessionTest, EmptyAuthNameVerifiesTheIpSan) {
  auto result = handshake_with(pki_->good, {"", "127.0.0.1"});
  EXPECT_TRUE(result.has_value()) << result.error().detail;
}

TEST_F(TlsClientSessionTest, EmptyAuthNameVerifiesAnIpv6San) {
  auto result = handshake_with(pki_->good, {"", "::1"});
  EXPECT_TRUE(result.has_value()) << result.error().detail;
}

TEST_F(TlsClientSessionTest, EmptyAuthNameRejectsAnIpNotInTheCert) {
  auto result = handshake_with(pki_->good, {"", "127.0.0.2"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(result.error().detail, HasSubstr("does not match"));
}

// wrong_name has no IP SANs: without an auth name the IP is all there is to match.
TEST_F(TlsClientSessionTest, EmptyAuthNameRejectsACertWithoutIpSans) {
  auto result = handshake_with(pki_->wrong_name, {"", "127.0.0.1"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(result.error().detail, HasSubstr("does not match"));
}

TEST_F(TlsClientSessionTest, AuthNameTakesPrecedenceOverIp) {
  // A name that the cert lacks fails even though the IP would match.
  auto result = handshake_with(pki_->good, {"other.test", "127.0.0.1"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, TlsErrorKind::kVerify);
}

TEST_F(TlsClientSessionTest, MissingCaFileThrowsWithTheFileName) {
  const std::string missing = dir_->file("no-such-ca.pem");
  try {
    (void)ClientCredentials::create(missing);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(missing));
  }
}

TEST_F(TlsClientSessionTest, CaFileLoadsItsCertificates) {
  auto credentials = ClientCredentials::create(pki_->ca_file);
  EXPECT_EQ(credentials->ca_count(), 1);
}

TEST_F(TlsClientSessionTest, Tls12OnlyServerWorks) {
  MemoryServerOptions options = server_options(pki_->good);
  options.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
  MemoryTlsServer server(options);
  auto c = client({kName, "127.0.0.1"});
  ASSERT_TRUE(run_handshake(*c, server).has_value());
  c->feed(server.take_output());
  EXPECT_EQ(c->protocol_name(), "TLS1.2");
  expect_echo(*c, server);
}

TEST_F(TlsClientSessionTest, ReadBeforeAnyRecordReturnsZero) {
  MemoryTlsServer server(server_options(pki_->good));
  auto c = client({kName, ""});
  ASSERT_TRUE(run_handshake(*c, server).has_value());
  std::uint8_t buf[64];
  auto n = c->read(buf);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0u);
}

TEST_F(TlsClientSessionTest, CloseNotifyReadsAsClosed) {
  MemoryTlsServer server(server_options(pki_->good));
  auto c = client({kName, ""});
  ASSERT_TRUE(run_handshake(*c, server).has_value());
  server.bye();
  c->feed(server.take_output());
  std::uint8_t buf[64];
  auto n = c->read(buf);
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().kind, TlsErrorKind::kClosed);
}

TEST_F(TlsClientSessionTest, EofDuringHandshakeFails) {
  auto c = client({kName, ""});
  ASSERT_TRUE(c->handshake().has_value());
  c->feed_eof();
  auto step = c->handshake();
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().kind, TlsErrorKind::kHandshake);
}

TEST_F(TlsClientSessionTest, GarbageFromServerFailsTheHandshake) {
  auto c = client({kName, ""});
  ASSERT_TRUE(c->handshake().has_value());
  const std::string garbage = "HTTP/1.1 400 Bad Request\r\n\r\n";
  c->feed(Bytes(garbage.begin(), garbage.end()));
  auto step = c->handshake();
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().kind, TlsErrorKind::kHandshake);
}

}  // namespace
}  // namespace dp::tls
