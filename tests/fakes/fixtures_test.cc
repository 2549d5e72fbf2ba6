// Smoke tests of the fixtures themselves, against real clients (kdig) where it matters.
#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "common/c_ptr.h"
#include "fakes/dot_test_client.h"
#include "fakes/dot_test_server.h"
#include "fakes/process.h"
#include "fakes/synthetic_zone.h"
#include "fakes/test_pki.h"
#include "fakes/unbound_upstream.h"

namespace dp::testing {
namespace {

using namespace std::chrono_literals;
using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;

constexpr const char* kName = "dns.test";

PacketPtr parse(const std::vector<std::uint8_t>& wire) {
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  return PacketPtr(pkt);
}

std::uint16_t id_of(const std::vector<std::uint8_t>& wire) {
  return static_cast<std::uint16_t>((wire.at(0) << 8) | wire.at(1));
}

// The question section's bytes (header excluded), for exact echo checks.
std::vector<std::uint8_t> question_bytes(const std::vector<std::uint8_t>& wire) {
  std::size_t pos = 12;
  while (wire.at(pos) != 0) pos += 1 + wire.at(pos);
  return {wire.begin() + 12, wire.begin() + static_cast<std::ptrdiff_t>(pos + 5)};
}

// kdig against a DoT server, bounded: +timeout=2 +retry=0 and a hard 10 s kill.
CaptureResult kdig(std::uint16_t port, const std::string& ca_file, const std::string& host,
                   const std::string& name, const std::string& type,
                   std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {"kdig",
                                   "@127.0.0.1",
                                   "-p",
                                   std::to_string(port),
                                   "+tls",
                                   "+tls-ca=" + ca_file,
                                   "+tls-host=" + host,
                                   "+timeout=2",
                                   "+retry=0",
                                   name,
                                   type};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_capture(argv, 10s);
}

class FixturesTest : public ::testing::Test {
 protected:
  FixturesTest() : pki_(TestPki::create(dir_.path(), kName)) {}

  std::unique_ptr<DotTestServer> start(const CertKey& ck, bool tls12_only = false) {
    DotTestServerConfig config;
    config.cert_file = ck.cert_file;
    config.key_file = ck.key_file;
    config.tls12_only = tls12_only;
    return std::make_unique<DotTestServer>(config);
  }

  DotTestClient connect(const DotTestServer& server) {
    DotTestClientConfig config;
    config.port = server.port();
    config.ca_file = pki_.ca_file;
    config.server_name = kName;
    return DotTestClient(config);
  }

  TempDir dir_;
  TestPki pki_;
};

// --- synthetic zone ------------------------------------------------------------------------

TEST_F(FixturesTest, ZoneEchoesQuestionCaseAndId) {
  const auto query = make_query("WwW.TeSt", LDNS_RR_TYPE_A, 0x1234, false);
  const auto answer = zone_answer(query);
  ASSERT_GE(answer.size(), 12u);
  EXPECT_EQ(id_of(answer), 0x1234);
  EXPECT_EQ(question_bytes(answer), question_bytes(query));
  PacketPtr pkt = parse(answer);
  ASSERT_NE(pkt, nullptr);
  EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
  EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
  EXPECT_TRUE(ldns_pkt_ra(pkt.get()));
  EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  ASSERT_EQ(ldns_pkt_ancount(pkt.get()), 1);
  ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 0);
  EXPECT_EQ(ldns_rr_ttl(rr), 60u);
  char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
  EXPECT_STREQ(text, "192.0.2.1");
  free(text);
  EXPECT_FALSE(ldns_pkt_edns(pkt.get()));
}

TEST_F(FixturesTest, ZoneRdIsCopied) {
  auto query = make_query("www.test", LDNS_RR_TYPE_A, 1, false);
  query[2] &= static_cast<std::uint8_t>(~0x01);  // clear RD
  PacketPtr pkt = parse(zone_answer(query));
  ASSERT_NE(pkt, nullptr);
  EXPECT_FALSE(ldns_pkt_rd(pkt.get()));
}

TEST_F(FixturesTest, ZoneTypesAndRcodes) {
  struct Row {
    const char* name;
    ldns_rr_type type;
    ldns_pkt_rcode rcode;
    int answers;
    int authority;
  };
  const Row rows[] = {
      {"a.b.test", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, 1, 0},
      {"x.test", LDNS_RR_TYPE_TXT, LDNS_RCODE_NOERROR, 1, 0},
      {"x.test", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, 0, 1},
      {"test", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR, 1, 0},
      {"big.test", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 100, 0},
      {"nx.test", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, 0, 1},
      {"deep.NX.test", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NXDOMAIN, 0, 1},
      {"example.com", LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED, 0, 0},
      {"nottest", LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED, 0, 0},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    PacketPtr pkt = parse(zone_answer(make_query(row.name, row.type, 7, true)));
    ASSERT_NE(pkt, nullptr);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), row.rcode);
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), row.answers);
    EXPECT_EQ(ldns_pkt_nscount(pkt.get()), row.authority);
  }
}

TEST_F(FixturesTest, ZoneBigAnswerExceeds1232Bytes) {
  const auto answer = zone_answer(make_query("big.test", LDNS_RR_TYPE_A, 9, false));
  EXPECT_GT(answer.size(), 1232u);
  PacketPtr pkt = parse(answer);
  ASSERT_NE(pkt, nullptr);
  ldns_rr* last = ldns_rr_list_rr(ldns_pkt_answer(pkt.get()), 99);
  char* text = ldns_rdf2str(ldns_rr_rdf(last, 0));
  EXPECT_STREQ(text, "198.51.100.99");
  free(text);
  EXPECT_EQ(ldns_rr_ttl(last), 300u);
}

TEST_F(FixturesTest, ZoneEdnsAnswerIsPaddedTo468) {
  for (const char* name : {"www.test", "big.test", "nx.test"}) {
    SCOPED_TRACE(name);
    const auto answer = zone_answer(make_query(name, LDNS_RR_TYPE_A, 3, true));
    EXPECT_EQ(answer.size() % kZonePaddingBlock, 0u);
    PacketPtr pkt = parse(answer);
    ASSERT_NE(pkt, nullptr);
    ASSERT_TRUE(ldns_pkt_edns(pkt.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), kZoneEdnsUdpSize);
    ldns_edns_option_list* options = ldns_pkt_edns_get_option_list(pkt.get());
    ASSERT_NE(options, nullptr);
    ASSERT_EQ(ldns_edns_option_list_get_count(options), 1u);
    EXPECT_EQ(ldns_edns_get_code(ldns_edns_option_list_get_option(options, 0)), 12);
  }
}

TEST_F(FixturesTest, ZoneBadInput) {
  EXPECT_TRUE(zone_answer(std::vector<std::uint8_t>(11, 0)).empty());
  std::vector<std::uint8_t> garbage(20, 0xff);
  garbage[2] = 0x01;  // QR=0, opcode 0, RD
  auto answer = zone_answer(garbage);
  ASSERT_EQ(answer.size(), 12u);
  EXPECT_EQ(id_of(answer), 0xffff);
  EXPECT_EQ(answer[3] & 0x0f, LDNS_RCODE_FORMERR);
  auto notify = make_query("www.test", LDNS_RR_TYPE_SOA, 5, false);
  notify[2] = static_cast<std::uint8_t>(LDNS_PACKET_NOTIFY << 3);
  answer = zone_answer(notify);
  ASSERT_EQ(answer.size(), 12u);
  EXPECT_EQ(answer[3] & 0x0f, LDNS_RCODE_NOTIMPL);
}

// --- DoT test server with kdig -------------------------------------------------------------

TEST_F(FixturesTest, KdigGetsAnswerAndServerSeesSni) {
  auto server = start(pki_.good);
  const CaptureResult r = kdig(server->port(), pki_.ca_file, kName, "www.test", "A", {"+short"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "192.0.2.1\n") << r.err;
  EXPECT_EQ(server->last_sni(), kName);
  EXPECT_EQ(server->connections_accepted(), 1u);
  EXPECT_EQ(server->handshakes_completed(), 1u);
  EXPECT_EQ(server->queries_received(), 1u);
}

TEST_F(FixturesTest, KdigShowsPaddingAndBigAnswer) {
  auto server = start(pki_.good);
  CaptureResult r = kdig(server->port(), pki_.ca_file, kName, "big.test", "A");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::regex a_record(R"(big\.test\.\s+300\s+IN\s+A\s+198\.51\.100\.\d+)");
  const auto count = std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), a_record),
                                   std::sregex_iterator());
  EXPECT_EQ(count, 100) << r.out;
  EXPECT_NE(r.out.find("PADDING"), std::string::npos) << r.out;
}

TEST_F(FixturesTest, KdigRejectsBadCertificates) {
  struct Row {
    const char* what;
    const CertKey* cert;
  };
  const Row rows[] = {
      {"expired", &pki_.expired}, {"untrusted", &pki_.untrusted}, {"wrong name", &pki_.wrong_name}};
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    auto server = start(*row.cert);
    const CaptureResult r = kdig(server->port(), pki_.ca_file, kName, "www.test", "A", {"+short"});
    EXPECT_NE(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find("192.0.2.1"), std::string::npos) << r.out;
    EXPECT_NE((r.out + r.err).find("certificate"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(server->handshakes_completed(), 0u);
    EXPECT_EQ(server->queries_received(), 0u);
  }
}

TEST_F(FixturesTest, OwnClientVerifiesLikeKdig) {
  auto good = start(pki_.good);
  EXPECT_NO_THROW(connect(*good));
  auto expired = start(pki_.expired);
  EXPECT_THROW(connect(*expired), std::runtime_error);
  auto wrong = start(pki_.wrong_name);
  EXPECT_THROW(connect(*wrong), std::runtime_error);
  auto untrusted = start(pki_.untrusted);
  EXPECT_THROW(connect(*untrusted), std::runtime_error);
}

TEST_F(FixturesTest, Tls12OnlyServerStillServes) {
  auto server = start(pki_.good, true);
  const CaptureResult r = kdig(server->port(), pki_.ca_file, kName, "www.test", "AAAA", {"+short"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2001:db8::1\n");
}

// --- misbehaviour knobs --------------------------------------------------------------------

TEST_F(FixturesTest, PipelinedQueriesAllAnswered) {
  auto server = start(pki_.good);
  DotTestClient client = connect(*server);
  for (std::uint16_t id = 1; id <= 5; ++id) {
    client.send_message(make_query("www.test", LDNS_RR_TYPE_A, id));
  }
  for (std::uint16_t id = 1; id <= 5; ++id) {
    auto answer = client.read_message(2s);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(id_of(*answer), id);
  }
  EXPECT_EQ(server->queries_received(), 5u);
  EXPECT_EQ(server->answers_sent(), 5u);
}

TEST_F(FixturesTest, CloseAfterQueries) {
  auto server = start(pki_.good);
  server->behaviour().close_after_queries = 2;
  DotTestClient client = connect(*server);
  std::vector<std::uint8_t> burst;
  for (std::uint16_t id = 1; id <= 3; ++id) {
    const auto q = make_query("www.test", LDNS_RR_TYPE_A, id);
    burst.push_back(static_cast<std::uint8_t>(q.size() >> 8));
    burst.push_back(static_cast<std::uint8_t>(q.size()));
    burst.insert(burst.end(), q.begin(), q.end());
  }
  client.send_raw(burst);
  EXPECT_TRUE(client.read_message(2s).has_value());
  EXPECT_TRUE(client.read_message(2s).has_value());
  EXPECT_FALSE(client.read_message(2s).has_value());
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(server->answers_sent(), 2u);
}

TEST_F(FixturesTest, SilentReadsButNeverAnswers) {
  auto server = start(pki_.good);
  server->behaviour().silent = true;
  DotTestClient client = connect(*server);
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 1));
  EXPECT_FALSE(client.read_message(300ms).has_value());
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server->queries_received(), 1u);
  EXPECT_EQ(server->answers_sent(), 0u);

  const CaptureResult r =
      kdig(server->port(), pki_.ca_file, kName, "www.test", "A", {"+short", "+timeout=1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out.find("192.0.2.1"), std::string::npos);

  server->behaviour().silent = false;  // knobs apply to live connections
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 2));
  auto answer = client.read_message(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(id_of(*answer), 2);
}

TEST_F(FixturesTest, ReverseBatches) {
  auto server = start(pki_.good);
  server->behaviour().reverse_batches = true;
  DotTestClient client = connect(*server);
  std::vector<std::uint8_t> burst;
  for (std::uint16_t id = 1; id <= 4; ++id) {
    const auto q = make_query("www.test", LDNS_RR_TYPE_A, id);
    burst.push_back(static_cast<std::uint8_t>(q.size() >> 8));
    burst.push_back(static_cast<std::uint8_t>(q.size()));
    burst.insert(burst.end(), q.begin(), q.end());
  }
  client.send_raw(burst);
  for (std::uint16_t id = 4; id >= 1; --id) {
    auto answer = client.read_message(2s);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(id_of(*answer), id);
  }
}

TEST_F(FixturesTest, DelayHoldsEachAnswer) {
  auto server = start(pki_.good);
  server->behaviour().delay_ms = 150;
  DotTestClient client = connect(*server);
  const auto t0 = std::chrono::steady_clock::now();
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 1));
  EXPECT_FALSE(client.read_message(50ms).has_value());
  ASSERT_TRUE(client.read_message(2s).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
}

TEST_F(FixturesTest, StopClosesLiveConnectionsPromptly) {
  auto server = start(pki_.good);
  server->behaviour().delay_ms = 60000;  // stop() must interrupt it
  DotTestClient idle = connect(*server);
  DotTestClient waiting = connect(*server);
  waiting.send_message(make_query("www.test", LDNS_RR_TYPE_A, 1));
  ASSERT_FALSE(waiting.read_message(100ms).has_value());
  EXPECT_EQ(server->connections_open(), 2u);
  const auto t0 = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(server->connections_open(), 0u);
  EXPECT_FALSE(idle.read_message(1s).has_value());
  EXPECT_TRUE(idle.closed());
  EXPECT_FALSE(waiting.read_message(1s).has_value());
  EXPECT_TRUE(waiting.closed());
  server->stop();  // idempotent
}

TEST_F(FixturesTest, ManyShortConnections) {
  auto server = start(pki_.good);
  for (int i = 0; i < 20; ++i) {
    DotTestClient client = connect(*server);
    client.send_message(make_query("www.test", LDNS_RR_TYPE_A, static_cast<std::uint16_t>(i)));
    ASSERT_TRUE(client.read_message(2s).has_value());
  }
  EXPECT_EQ(server->connections_accepted(), 20u);
  EXPECT_EQ(server->last_query().size(), make_query("www.test", LDNS_RR_TYPE_A, 0).size());
}

TEST_F(FixturesTest, SessionResumptionIsCounted) {
  auto server = start(pki_.good);
  std::vector<std::uint8_t> ticket;
  {
    DotTestClient first = connect(*server);
    first.send_message(make_query("www.test", LDNS_RR_TYPE_A, 1));
    ASSERT_TRUE(first.read_message(2s).has_value());  // the TLS 1.3 ticket came before it
    ticket = first.session_data();
    EXPECT_FALSE(first.resumed());
  }
  ASSERT_FALSE(ticket.empty());
  DotTestClientConfig config;
  config.port = server->port();
  config.ca_file = pki_.ca_file;
  config.server_name = kName;
  config.resume_data = ticket;
  DotTestClient second(config);
  EXPECT_TRUE(second.resumed());
  second.send_message(make_query("www.test", LDNS_RR_TYPE_A, 2));
  ASSERT_TRUE(second.read_message(2s).has_value());
  EXPECT_EQ(server->handshakes_completed(), 2u);
  EXPECT_EQ(server->handshakes_resumed(), 1u);
}

TEST_F(FixturesTest, WaitUntilIsBounded) {
  auto server = start(pki_.good);
  EXPECT_FALSE(wait_until([&] { return server->connections_accepted() > 0; }, 20ms));
  DotTestClient client = connect(*server);
  EXPECT_TRUE(wait_until([&] { return server->handshakes_completed() == 1; }));
  EXPECT_EQ(server->last_sni(), kName);
}

// --- standalone binary ---------------------------------------------------------------------

TEST_F(FixturesTest, StandaloneServerBinary) {
  Process server({DOT_TEST_SERVER_PATH, "--cert", pki_.good.cert_file, "--key", pki_.good.key_file,
                  "--port", "0"});
  ASSERT_TRUE(server.wait_for_stdout("\n", 5s)) << server.stderr_text();
  std::smatch m;
  const std::string out = server.stdout_text();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(^listening 127\.0\.0\.1:(\d+)\n)"))) << out;
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1]));
  const CaptureResult r = kdig(port, pki_.ca_file, kName, "www.test", "TXT", {"+short"});
  EXPECT_EQ(r.out, "\"hello\"\n") << r.err;
  EXPECT_EQ(server.terminate(5s), 0) << server.stderr_text();
}

TEST_F(FixturesTest, StandaloneServerBadArguments) {
  const CaptureResult r = run_capture({DOT_TEST_SERVER_PATH, "--cert"}, 5s);
  EXPECT_EQ(r.exit_code, 2);
  const CaptureResult missing =
      run_capture({DOT_TEST_SERVER_PATH, "--cert", "/nonexistent", "--key", "/nonexistent"}, 5s);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent"), std::string::npos) << missing.err;
}

// --- Unbound upstream ----------------------------------------------------------------------

TEST_F(FixturesTest, UnboundAnswersOverTls) {
  ASSERT_TRUE(UnboundUpstream::available())
      << UnboundUpstream::kBinary << " missing: run the project's setup script";
  UnboundUpstream unbound(pki_);
  CaptureResult r = kdig(unbound.port(), pki_.ca_file, kName, "www.unbound.test", "A", {"+short"});
  EXPECT_EQ(r.exit_code, 0) << r.err << unbound.log();
  EXPECT_EQ(r.out, "192.0.2.53\n") << r.err << unbound.log();

  r = kdig(unbound.port(), pki_.ca_file, kName, "nx.unbound.test", "A");
  EXPECT_NE(r.out.find("NXDOMAIN"), std::string::npos) << r.out;
  r = kdig(unbound.port(), pki_.ca_file, kName, "example.com", "A");
  EXPECT_NE(r.out.find("REFUSED"), std::string::npos) << r.out;
}

TEST_F(FixturesTest, TwoUnboundsAtOnce) {
  UnboundUpstream a(pki_);
  UnboundUpstream b(pki_);
  EXPECT_NE(a.port(), b.port());
  EXPECT_TRUE(dot_handshake_ok(a.address(), a.port(), 1s));
  EXPECT_TRUE(dot_handshake_ok(b.address(), b.port(), 1s));
}

// --- process helper ------------------------------------------------------------------------

TEST_F(FixturesTest, ProcessRunCaptureAndExitCodes) {
  CaptureResult r = run_capture({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  r = run_capture({"sleep", "10"}, 100ms);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_THROW(run_capture({"/nonexistent/binary"}), std::runtime_error);
}

TEST_F(FixturesTest, ProcessEnvAndTerminate) {
  Process p({"sh", "-c", "echo $DP_FIXTURE_VAR; exec sleep 60"}, {{"DP_FIXTURE_VAR", "set"}});
  ASSERT_TRUE(p.wait_for_stdout("set\n", 5s));
  EXPECT_TRUE(p.running());
  EXPECT_FALSE(p.wait_exit(10ms).has_value());
  EXPECT_EQ(p.terminate(), 128 + SIGTERM);
  EXPECT_FALSE(p.running());
}

TEST_F(FixturesTest, ProcessTerminateEscalatesToKill) {
  Process p({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"});
  ASSERT_TRUE(p.wait_for_stdout("ready", 5s));
  EXPECT_EQ(p.terminate(200ms), 128 + SIGKILL);
}

TEST_F(FixturesTest, ProcessFreePortAndTempDir) {
  EXPECT_NE(free_port_udp_tcp(), 0);
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
  }
  struct stat st {};
  EXPECT_NE(stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace dp::testing
