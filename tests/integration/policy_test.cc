// The guard end to end: the ACL, the per-network UDP rate limit and local zones, each against
// the real binary, with a legitimate client served alongside.
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IntegrationPolicyTest : public IntegrationTest {
 protected:
  void SetUp() override { server_ = start_server(); }

  // Sends one query from `source` and returns the reply (null when none came).
  static PacketPtr ask(std::uint16_t port, const std::string& source, const std::string& name,
                       std::uint16_t id) {
    UdpClient client(port, source);
    client.send(query_build(name, LDNS_RR_TYPE_A, id));
    auto reply = client.receive(seconds(2));
    return reply ? reply_parse(*reply) : nullptr;
  }

  std::unique_ptr<DotTestServer> server_;
};

TEST_F(IntegrationPolicyTest, AClientOutsideTheAclIsRefusedAndOthersAreServed) {
  auto proxy = start_proxy(spec(server_->port()), {"--acl", "127.0.0.2 refuse", "--acl",
                                                   "127.0.0.3 drop", "--acl", "127.0.0.0/8 allow"});
  auto refused = ask(proxy->port(), "127.0.0.2", "www.test.", 1);
  ASSERT_TRUE(refused) << proxy->log();
  EXPECT_EQ(ldns_pkt_get_rcode(refused.get()), LDNS_RCODE_REFUSED);
  const ldns_rdf* ede = ldns_pkt_edns_data(refused.get());
  ASSERT_NE(ede, nullptr);
  EXPECT_EQ(ldns_rdf_data(ede)[5], 18);  // EDE 18 Prohibited (RFC 8914 §4.19)
  EXPECT_FALSE(ask(proxy->port(), "127.0.0.3", "www.test.", 2));  // dropped: nothing back
  auto served = ask(proxy->port(), "127.0.0.1", "www.test.", 3);
  ASSERT_TRUE(served);
  EXPECT_EQ(ldns_pkt_get_rcode(served.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(server_->queries_received(), 1u);  // only the allowed query went upstream
}

TEST_F(IntegrationPolicyTest, AFloodFromOneNetworkIsLimitedWhileAnotherIsServed) {
  auto proxy = start_proxy(spec(server_->port()), {"--rate-limit", "50", "--rate-limit-slip", "0"});
  UdpClient flood(proxy->port(), "127.0.1.1");
  for (int i = 0; i < 500; ++i) {
    flood.send(query_build("f" + std::to_string(i) + ".test.", LDNS_RR_TYPE_A,
                           static_cast<std::uint16_t>(i)));
  }
  int answered = 0;
  while (flood.receive(milliseconds(300))) ++answered;
  // 50 at once, plus what refills while the burst is sent: far fewer than 500.
  EXPECT_GE(answered, 50);
  EXPECT_LT(answered, 150);
  // Another /24 at the same moment is served in full.
  for (std::uint16_t id = 0; id < 20; ++id) {
    auto reply = ask(proxy->port(), "127.0.2.1", "ok.test.", id);
    ASSERT_TRUE(reply) << "query " << id;
    EXPECT_EQ(ldns_pkt_get_rcode(reply.get()), LDNS_RCODE_NOERROR);
  }
}

TEST_F(IntegrationPolicyTest, SlippedQueriesGetTcAndTcpStillWorksForThem) {
  auto proxy = start_proxy(spec(server_->port()), {"--rate-limit", "5", "--rate-limit-slip", "1"});
  UdpClient client(proxy->port(), "127.0.3.1");
  for (int i = 0; i < 20; ++i) client.send(query_build("s.test.", LDNS_RR_TYPE_A, 100));
  int truncated = 0;
  while (auto reply = client.receive(milliseconds(300))) {
    if (ldns_pkt_tc(reply_parse(*reply).get())) ++truncated;
  }
  EXPECT_GE(truncated, 10);
  TcpClient tcp(proxy->port(), "127.0.3.1");  // the retry a real client makes
  tcp.send(query_build("s.test.", LDNS_RR_TYPE_A, 101));
  auto reply = tcp.receive(seconds(3));
  ASSERT_TRUE(reply);
  EXPECT_EQ(answer_addresses(reply_parse(*reply).get()), std::vector<std::string>{"192.0.2.1"});
}

TEST_F(IntegrationPolicyTest, LocalNamesNeverLeaveTheHost) {
  auto proxy = start_proxy(spec(server_->port()));
  auto localhost = ask(proxy->port(), "127.0.0.1", "localhost.", 1);
  ASSERT_TRUE(localhost);
  EXPECT_EQ(answer_addresses(localhost.get()), std::vector<std::string>{"127.0.0.1"});
  auto invalid = ask(proxy->port(), "127.0.0.1", "foo.invalid.", 2);
  ASSERT_TRUE(invalid);
  EXPECT_EQ(ldns_pkt_get_rcode(invalid.get()), LDNS_RCODE_NXDOMAIN);
  auto reverse = run_capture({"dig", "@127.0.0.1", "-p", std::to_string(proxy->port()), "+tries=1",
                              "+time=2", "-x", "192.168.1.1"});
  EXPECT_NE(reverse.out.find("status: NXDOMAIN"), std::string::npos) << reverse.out;
  EXPECT_NE(reverse.out.find("168.192.in-addr.arpa."), std::string::npos) << reverse.out;
  EXPECT_EQ(server_->queries_received(), 0u);

  auto forwarded = start_proxy(spec(server_->port()), {"--local-zones", "false"});
  ask(forwarded->port(), "127.0.0.1", "localhost.", 3);
  EXPECT_EQ(server_->queries_received(), 1u);  // configured otherwise: it goes upstream
}

}  // namespace
}  // namespace dp::testing
