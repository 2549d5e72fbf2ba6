// RFC 8310 strict profile end to end: every authentication failure is SERVFAIL to the client
// and one precise log line for the operator; nothing goes out in clear.
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::seconds;

class IntegrationAuthenticationTest : public IntegrationTest {
 protected:
  // Sends one query through a proxy for `upstream_spec` and expects SERVFAIL.
  void expect_servfail(DotproxyProcess& proxy) {
    UdpClient client(proxy.port());
    client.send(query_build("www.test.", LDNS_RR_TYPE_A, 4242));
    auto reply = client.receive(seconds(5));
    ASSERT_TRUE(reply) << proxy.log();
    auto pkt = reply_parse(*reply);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_SERVFAIL);
    EXPECT_EQ(ldns_pkt_id(pkt.get()), 4242);
  }
};

TEST_F(IntegrationAuthenticationTest, WrongAuthNameIsServfailAndSaysNameMismatch) {
  auto server = start_server();
  auto proxy = start_proxy(spec(server->port(), "other.test"));
  expect_servfail(*proxy);
  ASSERT_TRUE(proxy->wait_for_log("error=tls_verify", seconds(2))) << proxy->log();
  const std::string log = proxy->log();
  EXPECT_NE(log.find("upstream=127.0.0.1@" + std::to_string(server->port()) + "#other.test"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("The name in the certificate does not match"), std::string::npos) << log;
  EXPECT_EQ(server->queries_received(), 0u);  // never sent over an unauthenticated channel
}

TEST_F(IntegrationAuthenticationTest, UntrustedCaIsServfailAndSaysIssuerUnknown) {
  auto server = start_server(&pki_->untrusted);
  auto proxy = start_proxy(spec(server->port()));
  expect_servfail(*proxy);
  ASSERT_TRUE(proxy->wait_for_log("error=tls_verify", seconds(2))) << proxy->log();
  EXPECT_NE(proxy->log().find("issuer is unknown"), std::string::npos) << proxy->log();
  EXPECT_EQ(server->queries_received(), 0u);
}

TEST_F(IntegrationAuthenticationTest, ExpiredCertificateIsServfailAndSaysExpired) {
  auto server = start_server(&pki_->expired);
  auto proxy = start_proxy(spec(server->port()));
  expect_servfail(*proxy);
  ASSERT_TRUE(proxy->wait_for_log("error=tls_verify", seconds(2))) << proxy->log();
  EXPECT_NE(proxy->log().find("expired"), std::string::npos) << proxy->log();
  EXPECT_EQ(server->queries_received(), 0u);
}

TEST_F(IntegrationAuthenticationTest, NoAuthNameVerifiesTheAddress) {
  auto server = start_server();  // the good certificate carries IP:127.0.0.1
  auto proxy = start_proxy(spec(server->port(), ""));
  UdpClient client(proxy->port());
  client.send(query_build("www.test.", LDNS_RR_TYPE_A, 1));
  auto reply = client.receive(seconds(5));
  ASSERT_TRUE(reply) << proxy->log();
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(server->last_sni(), "");  // RFC 6066: no IP address in SNI

  auto wrong = start_server(&pki_->wrong_name);  // no IP SAN
  auto proxy2 = start_proxy(spec(wrong->port(), ""));
  expect_servfail(*proxy2);
}

TEST_F(IntegrationAuthenticationTest, UnreachableUpstreamIsServfailAndFailsOverToTheNext) {
  const std::uint16_t dead = free_port_udp_tcp();  // nothing listens there
  auto server = start_server();
  auto only_dead = start_proxy(spec(dead));
  expect_servfail(*only_dead);
  EXPECT_TRUE(only_dead->wait_for_log("error=connect_failed", seconds(2))) << only_dead->log();

  auto proxy = start_proxy(spec(dead), {"--upstream", spec(server->port())});
  UdpClient client(proxy->port());
  for (std::uint16_t id = 1; id <= 3; ++id) {
    client.send(query_build("www.test.", LDNS_RR_TYPE_A, id));
    auto reply = client.receive(seconds(5));
    ASSERT_TRUE(reply) << proxy->log();
    EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOERROR);
  }
}

}  // namespace
}  // namespace dp::testing
