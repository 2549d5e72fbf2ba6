// The DoT listener end to end: kdig +tls and our DoT test client against dotproxy's
// --listen-tls, with and without mutual TLS, a client that never handshakes, a handshake
// burst from one address, and plain UDP/TCP alongside.
#include <sys/socket.h>

#include <set>
#include <thread>

#include "fakes/dot_test_client.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IntegrationTlsListenerTest : public IntegrationTest {
 protected:
  void SetUp() override { server_ = start_server(); }

  // dotproxy with a DoT listener on a kernel-chosen port, presenting the good certificate.
  std::unique_ptr<DotproxyProcess> start_tls_proxy(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen-tls",       "127.0.0.1:0", "--tls-cert",
                                     pki_->good.cert_file, "--tls-key",   pki_->good.key_file};
    args.insert(args.end(), extra.begin(), extra.end());
    auto proxy = start_proxy(spec(server_->port()), args);
    EXPECT_NE(proxy->tls_port(), 0) << proxy->log();
    EXPECT_NE(proxy->tls_port(), proxy->port());
    return proxy;
  }

  // kdig over TLS, verifying dotproxy's certificate as dns.test against the test CA.
  static CaptureResult kdig_tls(const DotproxyProcess& proxy, const std::string& name,
                                std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"kdig",
                                     "@127.0.0.1",
                                     "-p",
                                     std::to_string(proxy.tls_port()),
                                     "+tls-ca=" + pki_->ca_file,
                                     "+tls-hostname=" + std::string(kAuthName),
                                     "+retry=0",
                                     "+timeout=3"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {name, "A"});
    return run_capture(argv);
  }

  static void expect_answered(const CaptureResult& kdig) {
    EXPECT_EQ(kdig.exit_code, 0) << kdig.out << kdig.err;
    EXPECT_NE(kdig.out.find("status: NOERROR"), std::string::npos) << kdig.out << kdig.err;
    EXPECT_NE(kdig.out.find("192.0.2.1"), std::string::npos) << kdig.out;
  }
  static void expect_not_answered(const CaptureResult& kdig) {
    EXPECT_NE(kdig.exit_code, 0) << kdig.out << kdig.err;
    EXPECT_EQ(kdig.out.find("192.0.2.1"), std::string::npos) << kdig.out;
  }

  DotTestClientConfig dot_client(const DotproxyProcess& proxy) const {
    DotTestClientConfig config;
    config.port = proxy.tls_port();
    config.ca_file = pki_->ca_file;
    config.server_name = kAuthName;
    return config;
  }

  std::unique_ptr<DotTestServer> server_;
};

TEST_F(IntegrationTlsListenerTest, KdigOverTlsIsAnsweredAndPlainUdpAndTcpStillWork) {
  auto proxy = start_tls_proxy();
  EXPECT_NE(proxy->log().find("listen_tls=127.0.0.1:" + std::to_string(proxy->tls_port())),
            std::string::npos)
      << proxy->log();
  expect_answered(kdig_tls(*proxy, "www.test"));
  for (const char* transport : {"+notcp", "+tcp"}) {
    auto kdig = run_capture({"kdig", "@127.0.0.1", "-p", std::to_string(proxy->port()), "+retry=0",
                             "+timeout=3", transport, "plain.test", "A"});
    expect_answered(kdig);
  }
  // Nothing of the plain port speaks TLS, nothing of the TLS port speaks plain DNS.
  TcpClient plain_on_tls(proxy->tls_port());
  plain_on_tls.send(query_build("www.test.", LDNS_RR_TYPE_A, 7));
  EXPECT_FALSE(plain_on_tls.receive(seconds(2)));
}

TEST_F(IntegrationTlsListenerTest, PipelinedQueriesAreAnsweredWithTcpSizedReplies) {
  auto proxy = start_tls_proxy();
  DotTestClient client(dot_client(*proxy));
  // big.test is > 1232 bytes: over TLS it comes whole, never truncated as over UDP.
  client.send_message(make_query("big.test", 1, 100));
  for (std::uint16_t id = 1; id <= 20; ++id) {
    client.send_message(make_query("q" + std::to_string(id) + ".test", 1, id));
  }
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 21; ++i) {
    auto reply = client.read_message(seconds(5));
    ASSERT_TRUE(reply) << proxy->log();
    auto pkt = reply_parse(*reply);
    ASSERT_TRUE(pkt);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    ids.insert(ldns_pkt_id(pkt.get()));
    if (ldns_pkt_id(pkt.get()) == 100) {
      EXPECT_FALSE(ldns_pkt_tc(pkt.get()));
      EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 100u);
      EXPECT_GT(reply->size(), 1232u);
    }
  }
  EXPECT_EQ(ids.size(), 21u);
}

TEST_F(IntegrationTlsListenerTest, MutualTlsAnswersOnlyAClientWithAGoodCertificate) {
  auto proxy = start_tls_proxy({"--tls-client-ca", pki_->ca_file});
  expect_not_answered(kdig_tls(*proxy, "nocert.test"));
  expect_not_answered(kdig_tls(*proxy, "untrusted.test",
                               {"+tls-certfile=" + pki_->untrusted_client.cert_file,
                                "+tls-keyfile=" + pki_->untrusted_client.key_file}));
  // A server's certificate from the right CA is not a client's.
  expect_not_answered(
      kdig_tls(*proxy, "servercert.test",
               {"+tls-certfile=" + pki_->good.cert_file, "+tls-keyfile=" + pki_->good.key_file}));
  EXPECT_EQ(server_->queries_received(), 0u);  // nothing of theirs went upstream
  expect_answered(kdig_tls(
      *proxy, "www.test",
      {"+tls-certfile=" + pki_->client.cert_file, "+tls-keyfile=" + pki_->client.key_file}));
  EXPECT_EQ(server_->queries_received(), 1u);
}

TEST_F(IntegrationTlsListenerTest, AClientThatNeverHandshakesIsClosedAtTheDeadline) {
  auto proxy = start_tls_proxy({"--tcp-read-timeout", "1s"});
  TcpClient silent(proxy->tls_port());
  TcpClient trickle(proxy->tls_port());
  trickle.send_raw({0x16, 0x03, 0x01});  // the start of a ClientHello, and no more
  EXPECT_FALSE(silent.closed_by_peer(milliseconds(500)));
  EXPECT_TRUE(silent.closed_by_peer(seconds(3)));
  EXPECT_TRUE(trickle.closed_by_peer(seconds(1)));
  // A client past its handshake is held to the idle timeout (10 s), not to this deadline.
  DotTestClient idle(dot_client(*proxy));
  std::this_thread::sleep_for(milliseconds(1500));
  idle.send_message(make_query("late.test", 1, 9));
  auto reply = idle.read_message(seconds(3));
  ASSERT_TRUE(reply) << proxy->log();
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOERROR);
}

TEST_F(IntegrationTlsListenerTest, AHandshakeBurstFromOneAddressIsLimitedWhileAnotherIsServed) {
  auto proxy = start_tls_proxy({"--tls-handshake-rate", "2"});
  std::vector<std::unique_ptr<TcpClient>> burst;
  for (int i = 0; i < 10; ++i) burst.push_back(std::make_unique<TcpClient>(proxy->tls_port()));
  std::size_t closed = 0;
  wait_until(
      [&] {
        closed = 0;
        for (auto& c : burst) closed += c->closed_by_peer(milliseconds(0)) ? 1 : 0;
        return closed >= 8;
      },
      seconds(2));
  // A burst of 2 passes; the rest are closed at accept (7 if a token came back meanwhile).
  EXPECT_GE(closed, 7u);
  EXPECT_LE(closed, 8u);
  expect_answered(kdig_tls(*proxy, "www.test", {"-b", "127.0.0.2"}));
  // Plain TCP from the limited address is not a TLS handshake and is served as ever.
  TcpClient plain(proxy->port());
  plain.send(query_build("www.test.", LDNS_RR_TYPE_A, 3));
  EXPECT_TRUE(plain.receive(seconds(3)));
}

TEST_F(IntegrationTlsListenerTest, MissingOrBadCertificateIsAConfigError) {
  auto no_key = run_capture({dotproxy_binary(), "--listen-tls", "127.0.0.1:0", "--tls-cert",
                             pki_->good.cert_file, "--check-config"});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_NE(no_key.err.find("--tls-cert FILE --tls-key FILE"), std::string::npos) << no_key.err;

  auto mismatch = run_capture({dotproxy_binary(), "--listen", "127.0.0.1:0", "--listen-tls",
                               "127.0.0.1:0", "--tls-cert", pki_->good.cert_file, "--tls-key",
                               pki_->expired.key_file, "--ca-file", pki_->ca_file});
  EXPECT_EQ(mismatch.exit_code, 2);
  EXPECT_NE(mismatch.err.find("do not match"), std::string::npos) << mismatch.err;
}

}  // namespace
}  // namespace dp::testing
