// What operators and orchestrators see and do, against the real binary: /metrics counters that
// move and add up, /healthz and /readyz, SIGTERM draining what is in flight, dropping root,
// JSON logs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "fakes/prometheus_parse.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IntegrationOperationsTest : public IntegrationTest {
 protected:
  void SetUp() override { server_ = start_server(); }

  PacketPtr ask(const std::string& name, std::uint16_t id) {
    UdpClient client(proxy_->port());
    client.send(query_build(name, LDNS_RR_TYPE_A, id));
    auto reply = client.receive(seconds(5));
    return reply ? reply_parse(*reply) : nullptr;
  }
  Exposition scrape() {
    const HttpReply reply = http_get(proxy_->metrics_port(), "/metrics");
    EXPECT_EQ(reply.status, 200);
    Exposition parsed = exposition_parse(reply.body);
    EXPECT_EQ(parsed.error, "") << reply.body;
    return parsed;
  }

  std::unique_ptr<DotTestServer> server_;
  std::unique_ptr<DotproxyProcess> proxy_;
};

TEST_F(IntegrationOperationsTest, MetricsMoveWithTrafficAndAddUp) {
  proxy_ =
      start_proxy(spec(server_->port()), {"--metrics-listen", "127.0.0.1:0", "--workers", "2"});
  ASSERT_NE(proxy_->metrics_port(), 0) << proxy_->log();
  const Exposition before = scrape();
  EXPECT_EQ(before.value("dotproxy_queries_total{transport=\"udp\"}"), 0);
  EXPECT_EQ(before.value("dotproxy_workers_answering"), 2);
  for (std::uint16_t id = 0; id < 5; ++id) ASSERT_TRUE(ask("www.test.", id));  // 1 miss, 4 hits
  for (std::uint16_t id = 0; id < 3; ++id) {
    ASSERT_TRUE(ask("m" + std::to_string(id) + ".test.", id));
  }
  ASSERT_TRUE(ask("gone.nx.test.", 9));
  const Exposition after = scrape();
  EXPECT_EQ(after.value("dotproxy_queries_total{transport=\"udp\"}"), 9);
  const double hits = after.value("dotproxy_cache_hits_total");
  const double misses = after.value("dotproxy_cache_misses_total");
  EXPECT_EQ(hits, 4);
  EXPECT_EQ(misses, 5);
  EXPECT_EQ(hits + misses, 9);  // every query took the cache path once
  EXPECT_EQ(after.value("dotproxy_responses_total{rcode=\"NOERROR\"}"), 8);
  EXPECT_EQ(after.value("dotproxy_responses_total{rcode=\"NXDOMAIN\"}"), 1);
  EXPECT_EQ(after.value("dotproxy_upstream_queries_total"), misses);
  EXPECT_EQ(after.value("dotproxy_upstream_queries_total"), server_->queries_received());
  EXPECT_EQ(after.value("dotproxy_cache_inserts_total"), 5);
  EXPECT_EQ(after.value("dotproxy_cache_entries"), 5);
  EXPECT_GT(after.value("dotproxy_cache_bytes"), 0);
  const std::string up = "{upstream=\"" + spec(server_->port()) + "\",transport=\"tls\"}";
  EXPECT_EQ(after.value("dotproxy_upstream_latency_seconds_count" + up), 5);
  EXPECT_GE(after.value("dotproxy_upstream_open_connections" + up), 1);
  EXPECT_EQ(after.value("dotproxy_upstream_usable" + up), 1);
  // The test PKI's server certificate is valid for days, not years.
  const double expiry = after.value("dotproxy_upstream_certificate_expiry_seconds" + up);
  EXPECT_GT(expiry, 0);
  EXPECT_LT(expiry, 400.0 * 86'400);
  EXPECT_GE(after.value("dotproxy_upstream_handshakes_total{kind=\"full\"}"), 1);
}

TEST_F(IntegrationOperationsTest, DroppedQueriesAreCountedByCause) {
  proxy_ = start_proxy(spec(server_->port()),
                       {"--metrics-listen", "127.0.0.1:0", "--acl", "127.0.0.3 drop", "--acl",
                        "127.0.0.0/8 allow", "--rate-limit", "5", "--rate-limit-slip", "0"});
  UdpClient dropped(proxy_->port(), "127.0.0.3");
  dropped.send(query_build("www.test.", LDNS_RR_TYPE_A, 1));
  UdpClient garbage(proxy_->port());
  garbage.send(Bytes{1, 2, 3});
  UdpClient flood(proxy_->port(), "127.0.1.1");  // a network of its own, over its 5 q/s
  for (std::uint16_t id = 0; id < 50; ++id) {
    flood.send(query_build("f.test.", LDNS_RR_TYPE_A, id));
  }
  int flood_answered = 0;
  while (flood.receive(milliseconds(300))) ++flood_answered;
  ASSERT_TRUE(ask("www.test.", 2));  // another network is still served
  const Exposition m = scrape();
  EXPECT_EQ(m.value("dotproxy_dropped_total{cause=\"acl\"}"), 1);
  EXPECT_EQ(m.value("dotproxy_dropped_total{cause=\"bad_input\"}"), 1);
  EXPECT_EQ(m.value("dotproxy_rejected_total{reason=\"too_short\"}"), 1);
  EXPECT_LE(flood_answered, 15);
  EXPECT_EQ(m.value("dotproxy_dropped_total{cause=\"rate_limit\"}"), 50 - flood_answered);
}

TEST_F(IntegrationOperationsTest, HealthzAndReadyzFollowTheUpstream) {
  proxy_ = start_proxy(spec(server_->port()), {"--metrics-listen", "127.0.0.1:0"});
  EXPECT_EQ(http_get(proxy_->metrics_port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(proxy_->metrics_port(), "/readyz").status, 200);
  EXPECT_EQ(http_get(proxy_->metrics_port(), "/nothing").status, 404);
  // An upstream nobody listens on: alive, but not ready once its connections have failed.
  const std::uint16_t dead = server_->port();
  server_->stop();
  auto down = start_proxy(spec(dead), {"--metrics-listen", "127.0.0.1:0"});
  EXPECT_TRUE(wait_until([&] { return http_get(down->metrics_port(), "/readyz").status == 503; },
                         seconds(5)))
      << down->log();
  const HttpReply not_ready = http_get(down->metrics_port(), "/readyz");
  EXPECT_NE(not_ready.body.find("no upstream usable"), std::string::npos) << not_ready.body;
  EXPECT_EQ(http_get(down->metrics_port(), "/healthz").status, 200);
}

// --dnssec validate over an upstream that cannot do DNSSEC (the test server REFUSEs the root's
// DNSKEY query): no silent downgrade. /readyz says why, answers are SERVFAIL with the EDE;
// --dnssec permissive stays ready and answers.
TEST_F(IntegrationOperationsTest, AnUpstreamThatCannotDoDnssecIsNotReadyForValidation) {
  proxy_ = start_proxy(spec(server_->port()),
                       {"--metrics-listen", "127.0.0.1:0", "--dnssec", "validate"});
  EXPECT_TRUE(wait_until([&] { return http_get(proxy_->metrics_port(), "/readyz").status == 503; },
                         seconds(5)))
      << proxy_->log();
  const HttpReply not_ready = http_get(proxy_->metrics_port(), "/readyz");
  EXPECT_NE(not_ready.body.find("the upstream cannot do DNSSEC"), std::string::npos)
      << not_ready.body;
  EXPECT_NE(proxy_->log().find("the upstream cannot do DNSSEC"), std::string::npos);
  const PacketPtr reply = ask("www.test.", 7);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(ldns_pkt_get_rcode(reply.get()), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(scrape().value("dotproxy_dnssec_upstream_unusable"), 1);

  auto permissive = start_proxy(spec(server_->port()),
                                {"--metrics-listen", "127.0.0.1:0", "--dnssec", "permissive"});
  UdpClient client(permissive->port());
  client.send(query_build("www.test.", LDNS_RR_TYPE_A, 8));
  const auto answer = client.receive(seconds(5));
  ASSERT_TRUE(answer);
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*answer).get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(http_get(permissive->metrics_port(), "/readyz").status, 200);
}

TEST_F(IntegrationOperationsTest, SigtermAnswersWhatIsInFlightThenExitsZero) {
  proxy_ = start_proxy(spec(server_->port()));
  ASSERT_TRUE(ask("warm.test.", 1)) << proxy_->log();
  server_->behaviour().delay_ms = 500;
  UdpClient client(proxy_->port());
  client.send(query_build("slow.test.", LDNS_RR_TYPE_A, 2));
  std::this_thread::sleep_for(milliseconds(100));  // the query is with the upstream now
  proxy_->process().signal(SIGTERM);
  auto reply = client.receive(seconds(3));
  ASSERT_TRUE(reply) << "the query in flight was not answered\n" << proxy_->log();
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(proxy_->process().wait_exit(seconds(5)), 0) << proxy_->log();
  // Nothing new is taken once draining began.
  EXPECT_NE(proxy_->log().find("msg=stopped"), std::string::npos) << proxy_->log();
}

TEST_F(IntegrationOperationsTest, SigtermWithAStuckUpstreamStopsAtTheDrainTimeout) {
  proxy_ = start_proxy(spec(server_->port()), {"--drain-timeout", "300ms"});
  ASSERT_TRUE(ask("warm.test.", 1)) << proxy_->log();
  server_->behaviour().silent = true;
  UdpClient client(proxy_->port());
  client.send(query_build("stuck.test.", LDNS_RR_TYPE_A, 2));
  std::this_thread::sleep_for(milliseconds(50));
  const auto signalled = std::chrono::steady_clock::now();
  proxy_->process().signal(SIGTERM);
  EXPECT_EQ(proxy_->process().wait_exit(seconds(5)), 0);
  const auto took = std::chrono::steady_clock::now() - signalled;
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(2'000));
}

TEST_F(IntegrationOperationsTest, RootIsDroppedAfterBinding) {
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  if (::geteuid() != 0) {
    // Not root (a developer's run): switching users cannot work, and must say so at start-up.
    Process refused({dotproxy_binary(), "--listen", "127.0.0.1:0", "--upstream",
                     spec(server_->port()), "--ca-file", pki_->ca_file, "--user", "root"});
    EXPECT_EQ(refused.wait_exit(seconds(5)), 1);
    EXPECT_NE(refused.stderr_text().find("needs root"), std::string::npos) << refused.stderr_text();
    return;
  }
  proxy_ = start_proxy(spec(server_->port()), {"--user", "nobody"});
  ASSERT_TRUE(ask("www.test.", 1)) << proxy_->log();
  std::ifstream status("/proc/" + std::to_string(proxy_->process().pid()) + "/status");
  std::string line;
  std::string uids;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uids = line;
  }
  const std::string id = std::to_string(nobody->pw_uid);
  // Real, effective, saved and filesystem uid: all of them nobody's, none 0.
  EXPECT_EQ(uids, "Uid:\t" + id + "\t" + id + "\t" + id + "\t" + id) << uids;
  Process bad({dotproxy_binary(), "--listen", "127.0.0.1:0", "--upstream", spec(server_->port()),
               "--ca-file", pki_->ca_file, "--user", "no-such-user-here"});
  EXPECT_EQ(bad.wait_exit(seconds(5)), 1);
  EXPECT_NE(bad.stderr_text().find("no such user 'no-such-user-here'"), std::string::npos)
      << bad.stderr_text();
}

TEST_F(IntegrationOperationsTest, TheQueryLogHasALinePerAnswerAndIsReopenedOnSighup) {
  TempDir dir("dotproxy-qlog");
  const std::string path = dir.path() + "/query.log";
  proxy_ = start_proxy(spec(server_->port()), {"--query-log", path});
  ASSERT_TRUE(ask("www.test.", 1)) << proxy_->log();
  ASSERT_TRUE(ask("www.test.", 2));
  ASSERT_TRUE(ask("gone.nx.test.", 3));
  const auto lines_of = [](const std::string& file) {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  };
  // Written off the hot path within 200 ms.
  ASSERT_TRUE(wait_until([&] { return lines_of(path).size() == 3; }, seconds(3)))
      << lines_of(path).size() << " lines";
  const auto lines = lines_of(path);
  EXPECT_NE(lines[0].find("transport=udp name=www.test. type=A route=upstream rcode=NOERROR"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[2].find("name=gone.nx.test. type=A route=upstream rcode=NXDOMAIN"),
            std::string::npos)
      << lines[2];
  // logrotate: the file is moved away, SIGHUP, and new lines go to a new file.
  ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
  proxy_->process().signal(SIGHUP);
  ASSERT_TRUE(proxy_->wait_for_log("reload", seconds(5))) << proxy_->log();
  ASSERT_TRUE(ask("after.test.", 4));
  ASSERT_TRUE(wait_until([&] { return lines_of(path).size() == 1; }, seconds(3))) << proxy_->log();
  EXPECT_NE(lines_of(path)[0].find("name=after.test."), std::string::npos);
  EXPECT_EQ(lines_of(path + ".1").size(), 3u);
}

TEST_F(IntegrationOperationsTest, JsonLogsAreOneObjectPerLine) {
  proxy_ = start_proxy(spec(server_->port()), {"--log-format", "json"});
  ASSERT_TRUE(ask("www.test.", 1)) << proxy_->log();
  std::istringstream lines(proxy_->log());
  std::string line;
  int objects = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find("\"time\":\""), std::string::npos) << line;
    ++objects;
  }
  EXPECT_GE(objects, 1);
  EXPECT_NE(proxy_->log().find("\"msg\":\"dotproxy started\""), std::string::npos);
}

}  // namespace
}  // namespace dp::testing
