// Smoke tests of the fixtures themselves, against real clients (kdig) where it matters.
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"
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

void append_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

std::size_t prefix_of(const std::vector<std::uint8_t>& bytes) {
  return (static_cast<std::size_t>(bytes.at(0)) << 8) | bytes.at(1);
}

// make_query() (with EDNS) plus these options in its OPT RR, which make_query() puts last.
std::vector<std::uint8_t> query_with_options(
    std::string_view name, std::uint16_t id,
    const std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>>& options) {
  std::vector<std::uint8_t> q = make_query(name, LDNS_RR_TYPE_A, id, true);
  const std::size_t rdlength_at = q.size() - 2;
  for (const auto& [code, data] : options) {
    append_u16(q, code);
    append_u16(q, static_cast<std::uint16_t>(data.size()));
    q.insert(q.end(), data.begin(), data.end());
  }
  const std::size_t rdlength = q.size() - rdlength_at - 2;
  q[rdlength_at] = static_cast<std::uint8_t>(rdlength >> 8);
  q[rdlength_at + 1] = static_cast<std::uint8_t>(rdlength & 0xff);
  return q;
}

// The data of EDNS option `code` in a parsed message, read through ldns rather than through
// query_option() so the two check each other. nullopt if absent.
std::optional<std::vector<std::uint8_t>> ldns_option(ldns_pkt* pkt, std::uint16_t code) {
  ldns_edns_option_list* options = ldns_pkt_edns_get_option_list(pkt);
  if (options == nullptr) return std::nullopt;
  for (std::size_t i = 0; i < ldns_edns_option_list_get_count(options); ++i) {
    ldns_edns_option* option = ldns_edns_option_list_get_option(options, i);
    if (ldns_edns_get_code(option) != code) continue;
    const std::uint8_t* data = ldns_edns_get_data(option);
    return std::vector<std::uint8_t>(data, data + ldns_edns_get_size(option));
  }
  return std::nullopt;
}

// How a RawTlsClient's stream ended.
struct RawRead {
  std::vector<std::uint8_t> bytes;  // all plaintext, however framed
  int end = 1;                      // 1: still open at the deadline; 0: close_notify; else error
  int sys_errno = 0;                // errno right after the error (ECONNRESET for a reset)
};

// What DotTestClient hides: the bytes of a partial frame, and whether the stream ended with a
// close_notify, a reset or not at all. No certificate check: the tests above cover that.
class RawTlsClient {
 public:
  explicit RawTlsClient(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      if (fd_ >= 0) close(fd_);
      throw std::runtime_error("RawTlsClient: connect failed");
    }
    gnutls_certificate_credentials_t creds = nullptr;
    gnutls_certificate_allocate_credentials(&creds);
    creds_.reset(creds);
    gnutls_session_t session = nullptr;
    gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL);
    session_.reset(session);
    gnutls_set_default_priority(session);
    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, creds);
    gnutls_transport_set_int(session, fd_);
    gnutls_handshake_set_timeout(session, 2000);
    int rc = 0;
    do {
      rc = gnutls_handshake(session);
    } while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
    if (rc < 0) {
      session_.reset();
      close(fd_);
      throw std::runtime_error(std::string("RawTlsClient: ") + gnutls_strerror(rc));
    }
  }
  ~RawTlsClient() {
    session_.reset();
    if (fd_ >= 0) close(fd_);
  }
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;

  void send(std::span<const std::uint8_t> message) {
    std::vector<std::uint8_t> framed;
    append_u16(framed, static_cast<std::uint16_t>(message.size()));
    framed.insert(framed.end(), message.begin(), message.end());
    ASSERT_EQ(gnutls_record_send(session_.get(), framed.data(), framed.size()),
              static_cast<ssize_t>(framed.size()));
  }

  // Reads until the stream ends or `timeout` passes.
  RawRead read_all(std::chrono::milliseconds timeout) {
    RawRead r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (gnutls_record_check_pending(session_.get()) == 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd_, POLLIN, 0};
        if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return r;
      }
      std::uint8_t chunk[16384];
      errno = 0;
      const ssize_t n = gnutls_record_recv(session_.get(), chunk, sizeof chunk);
      if (n > 0) {
        r.bytes.insert(r.bytes.end(), chunk, chunk + n);
      } else if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED) {
        r.end = static_cast<int>(n);
        r.sys_errno = errno;
        return r;
      }
    }
  }

 private:
  int fd_ = -1;
  CPtr<gnutls_certificate_credentials_st, gnutls_certificate_free_credentials> creds_;
  CPtr<gnutls_session_int, gnutls_deinit> session_;
};

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

TEST_F(FixturesTest, QueriesAreCountedPerName) {
  auto server = start(pki_.good);
  DotTestClient client = connect(*server);
  client.send_message(make_query("WWW.Test.", LDNS_RR_TYPE_A, 1));
  client.send_message(make_query("www.test", LDNS_RR_TYPE_AAAA, 2));
  client.send_message(make_query("mail.test", LDNS_RR_TYPE_A, 3));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.read_message(2s).has_value());
  EXPECT_EQ(server->queries_for("www.test"), 2u);
  EXPECT_EQ(server->queries_for("WWW.TEST."), 2u);
  EXPECT_EQ(server->queries_for("other.test"), 0u);
  EXPECT_EQ(server->queries_by_name(),
            (std::map<std::string, std::uint64_t>{{"mail.test", 1}, {"www.test", 2}}));
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

// --- misbehaviour knobs for the upstream layer ---------------------------------------------

TEST_F(FixturesTest, ZoneAnswerCarriesKeepaliveBeforePadding) {
  ZoneAnswerOptions options;
  options.keepalive_timeout_units = 25;
  const auto answer = zone_answer(make_query("www.test", LDNS_RR_TYPE_A, 3, true), options);
  EXPECT_EQ(answer.size() % kZonePaddingBlock, 0u);
  PacketPtr pkt = parse(answer);
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(ldns_option(pkt.get(), kEdnsKeepaliveCode), (std::vector<std::uint8_t>{0, 25}));
  EXPECT_TRUE(ldns_option(pkt.get(), kEdnsPaddingCode).has_value());
  // No OPT in the query: nothing to put the option in.
  PacketPtr plain = parse(zone_answer(make_query("www.test", LDNS_RR_TYPE_A, 3, false), options));
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(ldns_pkt_edns(plain.get()));
}

TEST_F(FixturesTest, QueryOptionFindsKeepaliveAndPadding) {
  const auto plain = make_query("www.test", LDNS_RR_TYPE_A, 1, true);
  EXPECT_FALSE(query_has_option(plain, kEdnsKeepaliveCode));
  EXPECT_FALSE(query_has_option(plain, kEdnsPaddingCode));
  EXPECT_FALSE(query_has_option(make_query("www.test", LDNS_RR_TYPE_A, 1, false), 12));
  EXPECT_FALSE(query_has_option(std::vector<std::uint8_t>(20, 0xff), 12));
  // RFC 8467 §4.1: queries padded to a multiple of 128; the padding option goes last.
  const std::size_t unpadded = query_with_options("www.test", 1, {{11, {}}, {12, {}}}).size();
  const std::vector<std::uint8_t> padding((128 - unpadded % 128) % 128, 0);
  const auto padded = query_with_options("www.test", 1, {{11, {}}, {12, padding}});

  auto server = start(pki_.good);
  DotTestClient client = connect(*server);
  client.send_message(padded);
  ASSERT_TRUE(client.read_message(2s).has_value());
  const auto seen = server->last_query();
  EXPECT_EQ(seen.size() % 128, 0u);
  EXPECT_EQ(query_option(seen, kEdnsKeepaliveCode), std::vector<std::uint8_t>{});
  EXPECT_EQ(query_option(seen, kEdnsPaddingCode), padding);
  client.send_message(plain);
  ASSERT_TRUE(client.read_message(2s).has_value());
  EXPECT_FALSE(query_has_option(server->last_query(), kEdnsKeepaliveCode));
}

TEST_F(FixturesTest, ResetMidAnswerLeavesPartialFrame) {
  auto server = start(pki_.good);
  server->behaviour().reset_mid_answer = true;
  const auto query = make_query("www.test", LDNS_RR_TYPE_A, 7);
  const auto full = zone_answer(query);
  {
    RawTlsClient raw(server->port());
    raw.send(query);
    const RawRead r = raw.read_all(2s);
    ASSERT_GE(r.bytes.size(), 2u);
    EXPECT_EQ(prefix_of(r.bytes), full.size());      // the prefix promises the whole answer ...
    ASSERT_EQ(r.bytes.size(), 2 + full.size() / 2);  // ... but only half of it came
    EXPECT_TRUE(std::equal(r.bytes.begin() + 2, r.bytes.end(), full.begin()));
    EXPECT_EQ(r.end, GNUTLS_E_PULL_ERROR) << gnutls_strerror(r.end);  // no close_notify
    EXPECT_EQ(r.sys_errno, ECONNRESET);
  }
  EXPECT_EQ(server->resets_sent(), 1u);
  EXPECT_EQ(server->connections_closed_by_server(), 1u);
  EXPECT_FALSE(server->behaviour().reset_mid_answer);  // one-shot

  DotTestClient next = connect(*server);  // the retry on a new connection is answered
  next.send_message(query);
  auto answer = next.read_message(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(*answer, full);

  server->behaviour().reset_mid_answer = true;  // as DotTestClient sees it
  next.send_message(query);
  EXPECT_FALSE(next.read_message(2s).has_value());
  EXPECT_TRUE(next.closed());
  EXPECT_EQ(server->resets_sent(), 2u);
}

TEST_F(FixturesTest, IdleCloseEndsQuietConnections) {
  auto server = start(pki_.good);
  DotTestClient client = connect(*server);
  server->behaviour().idle_close_ms = 400;  // applies to a connection already waiting
  // A connection in use is not idle: a query every 100 ms for longer than the idle time.
  for (std::uint16_t id = 1; id <= 8; ++id) {
    client.send_message(make_query("www.test", LDNS_RR_TYPE_A, id));
    ASSERT_TRUE(client.read_message(2s).has_value());
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server->connections_closed_by_server(), 0u);
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 9));
  ASSERT_TRUE(client.read_message(2s).has_value());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(client.read_message(3s).has_value());
  EXPECT_TRUE(client.closed());
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 350ms);  // the server's clock started just before ours
  EXPECT_LT(waited, 2s);
  EXPECT_TRUE(wait_until([&] { return server->connections_open() == 0; }));
  EXPECT_EQ(server->connections_closed_by_server(), 1u);
  EXPECT_EQ(server->resets_sent(), 0u);

  server->behaviour().idle_close_ms = 100;  // the close is a clean close_notify
  RawTlsClient raw(server->port());
  const RawRead r = raw.read_all(3s);
  EXPECT_TRUE(r.bytes.empty());
  EXPECT_EQ(r.end, 0) << gnutls_strerror(r.end);
}

TEST_F(FixturesTest, DuplicateAnswers) {
  auto server = start(pki_.good);
  server->behaviour().duplicate_answers = true;
  DotTestClient client = connect(*server);
  const auto query = make_query("www.test", LDNS_RR_TYPE_A, 0x0102);
  client.send_message(query);
  auto first = client.read_message(2s);
  auto second = client.read_message(2s);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*first, zone_answer(query));
  EXPECT_EQ(*second, *first);
  EXPECT_FALSE(client.read_message(200ms).has_value());  // twice, not more
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server->answers_sent(), 1u);
}

TEST_F(FixturesTest, UnknownIdAnswerComesFirst) {
  auto server = start(pki_.good);
  server->behaviour().unknown_id_answers = true;
  DotTestClient client = connect(*server);
  const auto query = make_query("www.test", LDNS_RR_TYPE_A, 0x1234);
  client.send_message(query);
  auto decoy = client.read_message(2s);
  auto real = client.read_message(2s);
  ASSERT_TRUE(decoy.has_value());
  ASSERT_TRUE(real.has_value());
  EXPECT_EQ(id_of(*decoy), 0x1234 ^ 0x5a5a);
  EXPECT_EQ(*real, zone_answer(query));
  EXPECT_EQ(std::vector(decoy->begin() + 2, decoy->end()),
            std::vector(real->begin() + 2, real->end()));
  EXPECT_FALSE(client.read_message(200ms).has_value());
}

TEST_F(FixturesTest, WrongQuestionKeepsIdChangesName) {
  auto server = start(pki_.good);
  server->behaviour().wrong_question = true;
  DotTestClient client = connect(*server);
  const auto query = make_query("www.test", LDNS_RR_TYPE_A, 42);
  client.send_message(query);
  auto answer = client.read_message(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(id_of(*answer), 42);
  EXPECT_NE(question_bytes(*answer), question_bytes(query));
  PacketPtr pkt = parse(*answer);
  ASSERT_NE(pkt, nullptr);
  ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
  char* qname = ldns_rdf2str(ldns_rr_owner(question));
  EXPECT_STREQ(qname, "xwww.test.");
  free(qname);
  EXPECT_EQ(ldns_rr_get_type(question), LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
}

TEST_F(FixturesTest, GarbageFrameInsteadOfAnswer) {
  auto server = start(pki_.good);
  server->behaviour().garbage = true;
  DotTestClient client = connect(*server);
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 5));
  auto junk = client.read_message(2s);
  ASSERT_TRUE(junk.has_value());
  ASSERT_EQ(junk->size(), 64u);
  ldns_pkt* pkt = nullptr;
  EXPECT_NE(ldns_wire2pkt(&pkt, junk->data(), junk->size()), LDNS_STATUS_OK);
  ldns_pkt_free(pkt);
  EXPECT_FALSE(client.read_message(200ms).has_value());  // only the garbage
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server->answers_sent(), 0u);
  server->behaviour().garbage = false;
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 6));
  auto answer = client.read_message(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(id_of(*answer), 6);
}

TEST_F(FixturesTest, ZeroLengthPrefixInsteadOfAnswer) {
  auto server = start(pki_.good);
  server->behaviour().zero_length_prefix = true;
  DotTestClient client = connect(*server);
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 5));
  auto empty = client.read_message(2s);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(client.read_message(200ms).has_value());
  EXPECT_FALSE(client.closed());
  server->behaviour().zero_length_prefix = false;  // still open, and the stream in step
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 6));
  auto answer = client.read_message(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(id_of(*answer), 6);
}

TEST_F(FixturesTest, HugePrefixThenSilence) {
  auto server = start(pki_.good);
  server->behaviour().huge_prefix_then_silence = true;
  {
    RawTlsClient raw(server->port());
    raw.send(make_query("www.test", LDNS_RR_TYPE_A, 5));
    const RawRead r = raw.read_all(300ms);
    EXPECT_EQ(r.bytes, (std::vector<std::uint8_t>{0xff, 0xff}));
    EXPECT_EQ(r.end, 1);  // still open
  }
  DotTestClient client = connect(*server);
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 6));
  EXPECT_FALSE(client.read_message(300ms).has_value());
  EXPECT_FALSE(client.closed());
  server->behaviour().huge_prefix_then_silence = false;  // that connection stays silent
  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 7));
  EXPECT_FALSE(client.read_message(300ms).has_value());
  EXPECT_FALSE(client.closed());
  EXPECT_TRUE(wait_until([&] { return server->queries_received() == 3; }));
  EXPECT_EQ(server->answers_sent(), 0u);
}

TEST_F(FixturesTest, KeepaliveOptionAndTimeout) {
  auto server = start(pki_.good);
  server->behaviour().keepalive_timeout_ms = 300;
  DotTestClient client = connect(*server);
  client.send_message(query_with_options("www.test", 1, {{kEdnsKeepaliveCode, {}}}));
  auto answer = client.read_message(2s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->size() % kZonePaddingBlock, 0u);
  PacketPtr pkt = parse(*answer);
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(ldns_option(pkt.get(), kEdnsKeepaliveCode), (std::vector<std::uint8_t>{0, 3}));

  client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 2));  // no option: none back
  answer = client.read_message(2s);
  ASSERT_TRUE(answer.has_value());
  pkt = parse(*answer);
  ASSERT_NE(pkt, nullptr);
  EXPECT_FALSE(ldns_option(pkt.get(), kEdnsKeepaliveCode).has_value());

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(client.read_message(3s).has_value());
  EXPECT_TRUE(client.closed());
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
  EXPECT_TRUE(wait_until([&] { return server->connections_closed_by_server() == 1; }));
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

TEST_F(FixturesTest, StandaloneServerMisbehaviourFlags) {
  auto start_binary = [&](std::vector<std::string> flags) {
    std::vector<std::string> argv = {DOT_TEST_SERVER_PATH, "--cert", pki_.good.cert_file, "--key",
                                     pki_.good.key_file};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return std::make_unique<Process>(argv);
  };
  auto port_of = [](Process& p) -> std::uint16_t {
    if (!p.wait_for_stdout("\n", 5s)) return 0;
    std::smatch m;
    const std::string out = p.stdout_text();
    if (!std::regex_search(out, m, std::regex(R"(^listening 127\.0\.0\.1:(\d+)\n)"))) return 0;
    return static_cast<std::uint16_t>(std::stoi(m[1]));
  };
  auto connect_to = [&](std::uint16_t port) {
    DotTestClientConfig config;
    config.port = port;
    config.ca_file = pki_.ca_file;
    config.server_name = kName;
    return DotTestClient(config);
  };

  auto busy = start_binary({"--reverse", "--close-after", "2", "--keepalive-ms", "500"});
  const std::uint16_t busy_port = port_of(*busy);
  ASSERT_NE(busy_port, 0) << busy->stderr_text();
  {
    DotTestClient client = connect_to(busy_port);
    std::vector<std::uint8_t> burst;
    for (std::uint16_t id = 1; id <= 2; ++id) {
      const auto q = query_with_options("www.test", id, {{kEdnsKeepaliveCode, {}}});
      append_u16(burst, static_cast<std::uint16_t>(q.size()));
      burst.insert(burst.end(), q.begin(), q.end());
    }
    client.send_raw(burst);
    for (std::uint16_t id = 2; id >= 1; --id) {
      auto answer = client.read_message(2s);
      ASSERT_TRUE(answer.has_value());
      EXPECT_EQ(id_of(*answer), id);
      PacketPtr pkt = parse(*answer);
      ASSERT_NE(pkt, nullptr);
      EXPECT_EQ(ldns_option(pkt.get(), kEdnsKeepaliveCode), (std::vector<std::uint8_t>{0, 5}));
    }
    EXPECT_FALSE(client.read_message(2s).has_value());
    EXPECT_TRUE(client.closed());  // --close-after 2
  }
  EXPECT_EQ(busy->terminate(5s), 0) << busy->stderr_text();

  auto quiet = start_binary({"--silent", "--idle-close-ms", "200"});
  const std::uint16_t quiet_port = port_of(*quiet);
  ASSERT_NE(quiet_port, 0) << quiet->stderr_text();
  {
    DotTestClient client = connect_to(quiet_port);
    client.send_message(make_query("www.test", LDNS_RR_TYPE_A, 1));
    EXPECT_FALSE(client.read_message(3s).has_value());  // never answered, closed when idle
    EXPECT_TRUE(client.closed());
  }
  EXPECT_EQ(quiet->terminate(5s), 0) << quiet->stderr_text();
}

TEST_F(FixturesTest, StandaloneServerBadArguments) {
  const CaptureResult r = run_capture({DOT_TEST_SERVER_PATH, "--cert"}, 5s);
  EXPECT_EQ(r.exit_code, 2);
  const CaptureResult missing =
      run_capture({DOT_TEST_SERVER_PATH, "--cert", "/nonexistent", "--key", "/nonexistent"}, 5s);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent"), std::string::npos) << missing.err;
  EXPECT_EQ(run_capture({DOT_TEST_SERVER_PATH, "--idle-close-ms", "soon"}, 5s).exit_code, 2);
  EXPECT_EQ(run_capture({DOT_TEST_SERVER_PATH, "--keepalive-ms", "-1"}, 5s).exit_code, 2);
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
