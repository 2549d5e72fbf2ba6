// End to end: real clients (dig, kdig, raw sockets) → dotproxy → a real DoT upstream.
#include <set>

#include "fakes/unbound_upstream.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IntegrationForwardingTest : public IntegrationTest {
 protected:
  void SetUp() override {
    server_ = start_server();
    proxy_ = start_proxy(spec(server_->port()));
  }
  std::string port() const { return std::to_string(proxy_->port()); }

  std::unique_ptr<DotTestServer> server_;
  std::unique_ptr<DotproxyProcess> proxy_;
};

TEST_F(IntegrationForwardingTest, DigAndKdigOverUdpAndTcpGetTheAnswerWithTheirCase) {
  for (const char* transport : {"+notcp", "+tcp"}) {
    auto dig = run_capture(
        {"dig", "@127.0.0.1", "-p", port(), "+tries=1", "+time=3", transport, "WwW.TeSt", "A"});
    ASSERT_EQ(dig.exit_code, 0) << dig.out << dig.err;
    EXPECT_NE(dig.out.find("status: NOERROR"), std::string::npos) << dig.out;
    EXPECT_NE(dig.out.find(";WwW.TeSt.\t\t\tIN\tA"), std::string::npos) << dig.out;
    EXPECT_NE(dig.out.find("192.0.2.1"), std::string::npos) << dig.out;
  }
  for (const char* transport : {"+notcp", "+tcp"}) {
    auto kdig = run_capture({"kdig", "@127.0.0.1", "-p", port(), "+retry=0", "+timeout=3",
                             transport, "www.test", "AAAA"});
    ASSERT_EQ(kdig.exit_code, 0) << kdig.out << kdig.err;
    EXPECT_NE(kdig.out.find("status: NOERROR"), std::string::npos) << kdig.out;
    EXPECT_NE(kdig.out.find("2001:db8::1"), std::string::npos) << kdig.out;
  }
  // SNI carried the auth name (RFC 8310 §8.1).
  EXPECT_EQ(server_->last_sni(), kAuthName);
}

TEST_F(IntegrationForwardingTest, NxdomainPassesThroughWithItsSoa) {
  auto dig = run_capture(
      {"dig", "@127.0.0.1", "-p", port(), "+tries=1", "+time=3", "missing.nx.test", "A"});
  EXPECT_NE(dig.out.find("status: NXDOMAIN"), std::string::npos) << dig.out;
  EXPECT_NE(dig.out.find("SOA\tns.test. admin.test."), std::string::npos) << dig.out;
}

TEST_F(IntegrationForwardingTest, HundredRecordAnswerIsTruncatedOverUdpAndWholeOverTcp) {
  auto udp = run_capture({"dig", "@127.0.0.1", "-p", port(), "+tries=1", "+time=3", "+ignore",
                          "+bufsize=1232", "big.test", "A"});
  // The test server sets AA; dotproxy is no authority and clears it (RFC 1035 §4.1.1).
  EXPECT_NE(udp.out.find("flags: qr tc rd ra"), std::string::npos) << udp.out;
  EXPECT_NE(udp.out.find("ANSWER: 0"), std::string::npos) << udp.out;

  auto tcp = run_capture(
      {"dig", "@127.0.0.1", "-p", port(), "+tries=1", "+time=3", "+tcp", "big.test", "A"});
  EXPECT_NE(tcp.out.find("ANSWER: 100,"), std::string::npos) << tcp.out;

  // Without EDNS the limit is 512 bytes (RFC 1035 §4.2.1).
  UdpClient client(proxy_->port());
  client.send(query_build("big.test.", LDNS_RR_TYPE_A, 77, /*edns=*/false));
  auto reply = client.receive(seconds(3));
  ASSERT_TRUE(reply);
  EXPECT_LE(reply->size(), 512u);
  auto pkt = reply_parse(*reply);
  EXPECT_TRUE(ldns_pkt_tc(pkt.get()));
  EXPECT_EQ(ldns_pkt_id(pkt.get()), 77);

  // kdig retries over TCP by itself and gets all 100.
  auto kdig =
      run_capture({"kdig", "@127.0.0.1", "-p", port(), "+retry=0", "+timeout=3", "big.test", "A"});
  EXPECT_NE(kdig.out.find("ANSWER: 100;"), std::string::npos) << kdig.out;
}

TEST_F(IntegrationForwardingTest, TwoHundredPipelinedTcpQueriesEachGetTheirOwnAnswer) {
  server_->behaviour().reverse_batches = true;  // upstream answers out of order too
  TcpClient client(proxy_->port());
  Bytes burst;
  for (int i = 0; i < 200; ++i) {
    const Bytes query = query_build("q" + std::to_string(i) + ".pipe.test.", LDNS_RR_TYPE_A,
                                    static_cast<std::uint16_t>(1000 + i));
    burst.push_back(static_cast<std::uint8_t>(query.size() >> 8));
    burst.push_back(static_cast<std::uint8_t>(query.size() & 0xff));
    burst.insert(burst.end(), query.begin(), query.end());
  }
  client.send_raw(burst);  // all 200 in one write: truly pipelined
  std::set<int> seen;
  for (int i = 0; i < 200; ++i) {
    auto reply = client.receive(seconds(10));
    ASSERT_TRUE(reply) << "after " << i << " replies";
    auto pkt = reply_parse(*reply);
    const int n = ldns_pkt_id(pkt.get()) - 1000;
    ASSERT_GE(n, 0);
    ASSERT_LT(n, 200);
    EXPECT_EQ(question_name(pkt.get()), "q" + std::to_string(n) + ".pipe.test.");
    EXPECT_EQ(answer_addresses(pkt.get()), std::vector<std::string>{"192.0.2.1"});
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST_F(IntegrationForwardingTest, TwoThousandQueriesAtOnceShareAHandfulOfConnections) {
  UdpClient client(proxy_->port());
  constexpr int kQueries = 2000;
  for (int i = 0; i < kQueries; ++i) {
    client.send(query_build("n" + std::to_string(i) + ".burst.test.", LDNS_RR_TYPE_A,
                            static_cast<std::uint16_t>(i)));
  }
  std::set<int> answered;
  while (answered.size() < kQueries) {
    auto reply = client.receive(seconds(10));
    if (!reply) break;
    auto pkt = reply_parse(*reply);
    ASSERT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    const int n = ldns_pkt_id(pkt.get());
    EXPECT_EQ(question_name(pkt.get()), "n" + std::to_string(n) + ".burst.test.");
    answered.insert(n);
  }
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(kQueries));
  EXPECT_EQ(server_->queries_received(), static_cast<std::uint64_t>(kQueries));
  // One worker, two connections per upstream by default: no connection per query.
  EXPECT_LE(server_->connections_accepted(), 2u);
}

TEST_F(IntegrationForwardingTest, QueriesOnAConnectionTheServerClosesAreRetried) {
  server_->behaviour().close_after_queries = 1;  // every connection dies after one answer
  for (int i = 0; i < 5; ++i) {
    auto kdig = run_capture({"kdig", "@127.0.0.1", "-p", port(), "+retry=0", "+timeout=3",
                             "r" + std::to_string(i) + ".test", "A"});
    EXPECT_NE(kdig.out.find("192.0.2.1"), std::string::npos) << kdig.out << proxy_->log();
  }
  EXPECT_GE(server_->connections_accepted(), 5u);
}

TEST_F(IntegrationForwardingTest, SilentUpstreamGivesServfailWithinTheTimeout) {
  server_->behaviour().silent = true;
  auto proxy = start_proxy(spec(server_->port()), {"--upstream-timeout", "500ms"});
  UdpClient client(proxy->port());
  const auto start = std::chrono::steady_clock::now();
  client.send(query_build("slow.test.", LDNS_RR_TYPE_A, 9));
  auto reply = client.receive(seconds(5));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(reply);
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_SERVFAIL);
  EXPECT_GE(took, milliseconds(450));
  EXPECT_LT(took, milliseconds(1500));
}

class IntegrationUnboundTest : public IntegrationTest {};

TEST_F(IntegrationUnboundTest, UnboundAsAnIndependentUpstream) {
  ASSERT_TRUE(UnboundUpstream::available()) << "install unbound: scripts/setup --tests";
  UnboundUpstream unbound(*pki_);
  auto proxy = start_proxy(spec(unbound.port()));
  const std::string port = std::to_string(proxy->port());
  for (const char* transport : {"+notcp", "+tcp"}) {
    auto kdig = run_capture({"kdig", "@127.0.0.1", "-p", port, "+retry=0", "+timeout=3", transport,
                             "WWW.unbound.test", "A"});
    EXPECT_NE(kdig.out.find("192.0.2.53"), std::string::npos) << kdig.out << proxy->log();
  }
  // dig prints names as received (kdig lowercases them): the client's case comes back.
  auto dig = run_capture(
      {"dig", "@127.0.0.1", "-p", port, "+tries=1", "+time=3", "WWW.unbound.test", "A"});
  EXPECT_NE(dig.out.find(";WWW.unbound.test.\t\tIN\tA"), std::string::npos) << dig.out;
  auto nx =
      run_capture({"dig", "@127.0.0.1", "-p", port, "+tries=1", "+time=3", "nx.unbound.test", "A"});
  EXPECT_NE(nx.out.find("status: NXDOMAIN"), std::string::npos) << nx.out;
}

}  // namespace
}  // namespace dp::testing
