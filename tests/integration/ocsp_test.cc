// OCSP stapling end to end: the real binary asks every upstream for a stapled status; a staple
// that says the upstream's certificate is revoked is an authentication failure (SERVFAIL, one
// tls_verify log line), a good one changes nothing.
#include <sstream>

#include "fakes/test_ocsp.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::seconds;

class IntegrationOcspTest : public IntegrationTest {
 protected:
  static void SetUpTestSuite() {
    IntegrationTest::SetUpTestSuite();
    good_ = new std::string(make_ocsp_response(*pki_, OcspStatus::kGood, pki_dir_->path()));
    revoked_ = new std::string(make_ocsp_response(*pki_, OcspStatus::kRevoked, pki_dir_->path()));
  }
  static void TearDownTestSuite() {
    delete revoked_;
    delete good_;
    IntegrationTest::TearDownTestSuite();
  }

  // The good leaf, stapling `ocsp_file`.
  static std::unique_ptr<DotTestServer> start_stapling(const std::string& ocsp_file,
                                                       bool tls12_only = false) {
    DotTestServerConfig config;
    config.cert_file = pki_->good.cert_file;
    config.key_file = pki_->good.key_file;
    config.tls12_only = tls12_only;
    config.ocsp_response_file = ocsp_file;
    return std::make_unique<DotTestServer>(config);
  }

  static ldns_pkt_rcode query_rcode(DotproxyProcess& proxy, std::uint16_t id) {
    UdpClient client(proxy.port());
    client.send(query_build("www.test.", LDNS_RR_TYPE_A, id));
    auto reply = client.receive(seconds(5));
    EXPECT_TRUE(reply) << proxy.log();
    if (!reply) return LDNS_RCODE_REFUSED;  // anything but the two the tests expect
    auto pkt = reply_parse(*reply);
    EXPECT_EQ(ldns_pkt_id(pkt.get()), id);
    return ldns_pkt_get_rcode(pkt.get());
  }

  // The log line that says error=tls_verify; "" if none.
  static std::string verify_line(const std::string& log) {
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("error=tls_verify") != std::string::npos) return line;
    }
    return "";
  }

  void expect_revoked_is_servfail(bool tls12_only) {
    auto server = start_stapling(*revoked_, tls12_only);
    auto proxy = start_proxy(spec(server->port()));
    EXPECT_EQ(query_rcode(*proxy, 4242), LDNS_RCODE_SERVFAIL);
    ASSERT_TRUE(proxy->wait_for_log("error=tls_verify", seconds(2))) << proxy->log();
    const std::string line = verify_line(proxy->log());
    EXPECT_NE(line.find("revoked"), std::string::npos) << proxy->log();
    EXPECT_NE(line.find("upstream=127.0.0.1@" + std::to_string(server->port())), std::string::npos)
        << proxy->log();
    EXPECT_GE(server->staples_sent(), 1u);
    EXPECT_EQ(server->queries_received(), 0u);  // never sent to a revoked server
  }

  static std::string* good_;
  static std::string* revoked_;
};

std::string* IntegrationOcspTest::good_ = nullptr;
std::string* IntegrationOcspTest::revoked_ = nullptr;

TEST_F(IntegrationOcspTest, RevokedStapleIsServfailAndSaysRevoked) {
  expect_revoked_is_servfail(/*tls12_only=*/false);
}

// TLS 1.2 carries the staple in its own handshake message (CertificateStatus), not in the
// Certificate message as TLS 1.3 does.
TEST_F(IntegrationOcspTest, RevokedStapleOverTls12IsServfailAndSaysRevoked) {
  expect_revoked_is_servfail(/*tls12_only=*/true);
}

TEST_F(IntegrationOcspTest, GoodStapleIsNoerror) {
  auto server = start_stapling(*good_);
  auto proxy = start_proxy(spec(server->port()));
  EXPECT_EQ(query_rcode(*proxy, 7), LDNS_RCODE_NOERROR) << proxy->log();
  EXPECT_GE(server->staples_sent(), 1u);  // dotproxy asked for it and got it
  EXPECT_EQ(server->queries_received(), 1u);
  EXPECT_EQ(verify_line(proxy->log()), "") << proxy->log();
}

}  // namespace
}  // namespace dp::testing
