// dnstap against the real binary: what it writes (to a file, or to fstrm_capture as the
// collector) is decoded by BIND's dnstap-read, one message per exchange; a collector that stalls
// or dies costs the queries nothing measurable, and what it cannot take is dropped and counted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <regex>
#include <thread>
#include <tuple>

#include "fakes/prometheus_parse.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// One decoded dnstap message: its type (CLIENT_QUERY, ...), question and rcode.
struct Tapped {
  std::string type;
  std::string question;  // "www.test. IN A"
  std::string status;    // "NOERROR", "NXDOMAIN", ...

  friend bool operator<(const Tapped& a, const Tapped& b) {
    return std::tie(a.type, a.question, a.status) < std::tie(b.type, b.question, b.status);
  }
};

// dnstap-read -y over `file`: one entry per YAML document.
std::vector<Tapped> tapped_read(const std::string& file, std::string* identity = nullptr) {
  const CaptureResult read = run_capture({"dnstap-read", "-y", file});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  static const std::regex kType(R"(\n  type: ([A-Z_]+))");
  static const std::regex kQuestion(R"(- '([^']+)')");
  static const std::regex kStatus(R"(status: ([A-Z]+))");
  static const std::regex kIdentity(R"(identity: (\S+))");
  std::vector<Tapped> out;
  std::size_t start = 0;
  const std::string& text = read.out;
  while (start < text.size()) {
    std::size_t end = text.find("\n---", start);
    if (end == std::string::npos) end = text.size();
    const std::string doc = "\n" + text.substr(start, end - start);
    start = end + 4;
    std::smatch m;
    if (!std::regex_search(doc, m, kType)) continue;
    Tapped t;
    t.type = m[1];
    if (std::regex_search(doc, m, kQuestion)) t.question = m[1];
    if (std::regex_search(doc, m, kStatus)) t.status = m[1];
    if (identity != nullptr && std::regex_search(doc, m, kIdentity)) *identity = m[1];
    out.push_back(t);
  }
  return out;
}

std::map<std::string, int> count_by_type(const std::vector<Tapped>& messages) {
  std::map<std::string, int> out;
  for (const Tapped& t : messages) ++out[t.type];
  return out;
}

int count_of(const std::vector<Tapped>& messages, const Tapped& wanted) {
  return static_cast<int>(std::count_if(messages.begin(), messages.end(), [&](const Tapped& t) {
    return !(t < wanted) && !(wanted < t);
  }));
}

// One HTTP/1.0 GET of /metrics on loopback, parsed.
Exposition metrics_get(std::uint16_t port) {
  return exposition_parse(http_get(port, "/metrics").body);
}

// A collector that takes the connection (the kernel's backlog does) and never says a word: the
// writer thread waits for its handshake for ever, and the workers' queues fill.
class StalledCollector {
 public:
  explicit StalledCollector(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
  }
  ~StalledCollector() { ::close(fd_); }
  StalledCollector(const StalledCollector&) = delete;
  StalledCollector& operator=(const StalledCollector&) = delete;

 private:
  int fd_;
};

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

struct Latency {
  milliseconds total{};
  double mean_us = 0;
  double max_us = 0;
  int answered = 0;
};

class IntegrationDnstapTest : public IntegrationTest {
 protected:
  void SetUp() override { server_ = start_server(); }

  // One UDP query and its reply's rcode; -1 when no reply came.
  int ask(std::uint16_t port, const std::string& name, std::uint16_t id,
          ldns_rr_type type = LDNS_RR_TYPE_A) {
    UdpClient client(port);
    client.send(query_build(name, type, id));
    const auto reply = client.receive(seconds(5));
    if (!reply) return -1;
    const PacketPtr parsed = reply_parse(*reply);
    return parsed ? static_cast<int>(ldns_pkt_get_rcode(parsed.get())) : -1;
  }

  // `n` queries one after another on one socket (cache hits after the first), each timed.
  static Latency latency_measure(std::uint16_t port, int n) {
    UdpClient client(port);
    Latency out;
    const auto started = Clock::now();
    double sum_us = 0;
    for (int i = 0; i < n; ++i) {
      const auto sent = Clock::now();
      client.send(query_build("www.test.", LDNS_RR_TYPE_A, static_cast<std::uint16_t>(i)));
      if (!client.receive(seconds(2))) continue;
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - sent).count();
      sum_us += us;
      out.max_us = std::max(out.max_us, us);
      ++out.answered;
    }
    out.total = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    out.mean_us = out.answered > 0 ? sum_us / out.answered : 0;
    return out;
  }

  std::unique_ptr<DotTestServer> server_;
};

TEST_F(IntegrationDnstapTest, AFileGetsOneMessagePerExchangeDecodedByDnstapRead) {
  TempDir dir("dotproxy-dnstap");
  const std::string file = dir.file("tap.fstrm");
  auto proxy = start_proxy(spec(server_->port()),
                           {"--dnstap", "file:" + file, "--dnstap-identity", "itest-resolver"});
  const std::uint16_t port = proxy->port();
  ASSERT_EQ(ask(port, "www.test.", 1), LDNS_RCODE_NOERROR) << proxy->log();     // miss
  ASSERT_EQ(ask(port, "www.test.", 2), LDNS_RCODE_NOERROR);                     // hit
  ASSERT_EQ(ask(port, "www.test.", 3, LDNS_RR_TYPE_AAAA), LDNS_RCODE_NOERROR);  // miss
  ASSERT_EQ(ask(port, "www.test.", 4, LDNS_RR_TYPE_AAAA), LDNS_RCODE_NOERROR);  // hit
  ASSERT_EQ(ask(port, "gone.nx.test.", 5), LDNS_RCODE_NXDOMAIN);                // miss
  ASSERT_EQ(ask(port, "localhost.", 6), LDNS_RCODE_NOERROR);  // answered here, no upstream
  {
    TcpClient tcp(port);  // and one over TCP
    tcp.send(query_build("www.test.", LDNS_RR_TYPE_TXT, 7));
    ASSERT_TRUE(tcp.receive(seconds(5)));
  }
  EXPECT_EQ(server_->queries_received(), 4u);
  // SIGTERM: the writer's end flushes the file before the process exits.
  ASSERT_EQ(proxy->process().terminate(), 0) << proxy->log();

  std::string identity;
  const auto messages = tapped_read(file, &identity);
  EXPECT_EQ(identity, "itest-resolver");
  auto counts = count_by_type(messages);
  EXPECT_EQ(counts.at("CLIENT_QUERY"), 7);
  EXPECT_EQ(counts.at("CLIENT_RESPONSE"), 7);
  EXPECT_EQ(counts.at("FORWARDER_QUERY"), 4);
  EXPECT_EQ(counts.at("FORWARDER_RESPONSE"), 4);
  EXPECT_EQ(messages.size(), 22u);
  // Per exchange: its name, type and rcode.
  EXPECT_EQ(count_of(messages, {"CLIENT_QUERY", "www.test. IN A", "NOERROR"}), 2);
  EXPECT_EQ(count_of(messages, {"CLIENT_RESPONSE", "www.test. IN A", "NOERROR"}), 2);
  EXPECT_EQ(count_of(messages, {"FORWARDER_QUERY", "www.test. IN A", "NOERROR"}), 1);
  EXPECT_EQ(count_of(messages, {"FORWARDER_RESPONSE", "www.test. IN A", "NOERROR"}), 1);
  EXPECT_EQ(count_of(messages, {"CLIENT_RESPONSE", "www.test. IN AAAA", "NOERROR"}), 2);
  EXPECT_EQ(count_of(messages, {"FORWARDER_QUERY", "www.test. IN AAAA", "NOERROR"}), 1);
  EXPECT_EQ(count_of(messages, {"CLIENT_RESPONSE", "gone.nx.test. IN A", "NXDOMAIN"}), 1);
  EXPECT_EQ(count_of(messages, {"FORWARDER_RESPONSE", "gone.nx.test. IN A", "NXDOMAIN"}), 1);
  EXPECT_EQ(count_of(messages, {"CLIENT_QUERY", "localhost. IN A", "NOERROR"}), 1);
  EXPECT_EQ(count_of(messages, {"CLIENT_RESPONSE", "localhost. IN A", "NOERROR"}), 1);
  EXPECT_EQ(count_of(messages, {"FORWARDER_QUERY", "localhost. IN A", "NOERROR"}), 0);
  EXPECT_EQ(count_of(messages, {"CLIENT_RESPONSE", "www.test. IN TXT", "NOERROR"}), 1);
  EXPECT_EQ(count_of(messages, {"FORWARDER_RESPONSE", "www.test. IN TXT", "NOERROR"}), 1);
}

// The validator's DS and DNSKEY queries leave through the same pools as the misses and are
// logged like them: at start it asks the root's DNSKEY (the built-in trust anchor).
TEST_F(IntegrationDnstapTest, TheValidatorsKeyFetchesAreForwarderMessagesToo) {
  TempDir dir("dotproxy-dnstap");
  const std::string file = dir.file("tap.fstrm");
  auto proxy =
      start_proxy(spec(server_->port()), {"--dnssec", "validate", "--dnstap", "file:" + file});
  ASSERT_TRUE(wait_until([&] { return server_->queries_received() >= 1; }, seconds(5)))
      << proxy->log();
  // The test server's answer has no RRSIGs: judged, it is logged as an upstream that cannot do
  // DNSSEC. By then its FORWARDER_RESPONSE is queued.
  ASSERT_TRUE(wait_until(
      [&] { return proxy->log().find("the upstream cannot do DNSSEC") != std::string::npos; },
      seconds(5)))
      << proxy->log();
  ASSERT_EQ(proxy->process().terminate(), 0) << proxy->log();
  const auto messages = tapped_read(file);
  const auto fetches = [&](const std::string& type) {
    return std::count_if(messages.begin(), messages.end(), [&](const Tapped& t) {
      return t.type == type && t.question == ". IN DNSKEY";
    });
  };
  EXPECT_EQ(fetches("FORWARDER_QUERY"), 1) << messages.size() << " messages";
  EXPECT_EQ(fetches("FORWARDER_RESPONSE"), 1);
}

TEST_F(IntegrationDnstapTest, MessagesChoosesTheTypesWritten) {
  TempDir dir("dotproxy-dnstap");
  const std::string file = dir.file("tap.fstrm");
  auto proxy = start_proxy(spec(server_->port()),
                           {"--dnstap", "file:" + file, "--dnstap-messages", "forwarder-response"});
  ASSERT_EQ(ask(proxy->port(), "www.test.", 1), LDNS_RCODE_NOERROR) << proxy->log();
  ASSERT_EQ(ask(proxy->port(), "www.test.", 2), LDNS_RCODE_NOERROR);
  ASSERT_EQ(proxy->process().terminate(), 0) << proxy->log();
  const auto messages = tapped_read(file);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].type, "FORWARDER_RESPONSE");
}

TEST_F(IntegrationDnstapTest, FstrmCaptureAsTheCollectorOnAUnixSocket) {
  TempDir dir("dotproxy-dnstap");
  const std::string socket = dir.file("tap.sock");
  const std::string file = dir.file("captured.fstrm");
  Process capture({"fstrm_capture", "-t", "protobuf:dnstap.Dnstap", "-u", socket, "-w", file});
  ASSERT_TRUE(wait_until([&] { return exists(socket); }, seconds(5))) << capture.stderr_text();
  auto proxy = start_proxy(spec(server_->port()), {"--dnstap", socket});
  ASSERT_EQ(ask(proxy->port(), "www.test.", 1), LDNS_RCODE_NOERROR) << proxy->log();
  ASSERT_EQ(ask(proxy->port(), "www.test.", 2), LDNS_RCODE_NOERROR);
  ASSERT_EQ(ask(proxy->port(), "gone.nx.test.", 3), LDNS_RCODE_NXDOMAIN);
  ASSERT_EQ(proxy->process().terminate(), 0) << proxy->log();
  // The collector has what dotproxy sent once the stream is closed; it writes it out as it
  // stops.
  capture.terminate();
  const auto messages = tapped_read(file);
  auto counts = count_by_type(messages);
  EXPECT_EQ(counts["CLIENT_QUERY"], 3) << capture.stderr_text();
  EXPECT_EQ(counts["CLIENT_RESPONSE"], 3);
  EXPECT_EQ(counts["FORWARDER_QUERY"], 2);
  EXPECT_EQ(counts["FORWARDER_RESPONSE"], 2);
  EXPECT_EQ(count_of(messages, {"CLIENT_RESPONSE", "gone.nx.test. IN A", "NXDOMAIN"}), 1);
}

TEST_F(IntegrationDnstapTest, AKilledCollectorIsReconnectedWhenItComesBack) {
  TempDir dir("dotproxy-dnstap");
  const std::string socket = dir.file("tap.sock");
  auto first = std::make_unique<Process>(std::vector<std::string>{
      "fstrm_capture", "-t", "protobuf:dnstap.Dnstap", "-u", socket, "-w", dir.file("1.fstrm")});
  ASSERT_TRUE(wait_until([&] { return exists(socket); }, seconds(5)));
  auto proxy = start_proxy(spec(server_->port()), {"--dnstap", socket});
  ASSERT_EQ(ask(proxy->port(), "before.test.", 1), LDNS_RCODE_NOERROR) << proxy->log();
  first->signal(SIGKILL);
  first.reset();
  ASSERT_EQ(ask(proxy->port(), "gap.test.", 2), LDNS_RCODE_NOERROR);  // its messages are lost
  ::unlink(socket.c_str());
  const std::string file = dir.file("2.fstrm");
  Process second({"fstrm_capture", "-t", "protobuf:dnstap.Dnstap", "-u", socket, "-w", file});
  ASSERT_TRUE(wait_until([&] { return exists(socket); }, seconds(5)));
  // The writer tries again every 2 s: past that, the new collector has the stream.
  std::this_thread::sleep_for(milliseconds(3'500));
  ASSERT_EQ(ask(proxy->port(), "after.test.", 3), LDNS_RCODE_NOERROR);
  ASSERT_EQ(proxy->process().terminate(), 0) << proxy->log();
  second.terminate();
  const auto messages = tapped_read(file);
  EXPECT_EQ(count_of(messages, {"CLIENT_QUERY", "after.test. IN A", "NOERROR"}), 1)
      << second.stderr_text();
  EXPECT_EQ(count_of(messages, {"CLIENT_RESPONSE", "after.test. IN A", "NOERROR"}), 1);
  EXPECT_EQ(count_of(messages, {"CLIENT_QUERY", "before.test. IN A", "NOERROR"}), 0);
}

// The issue's bar: a killed (or stalled) collector does not slow queries. Measured against the
// same binary with dnstap off; the bound is generous (shared CI machines), the figures printed.
TEST_F(IntegrationDnstapTest, AKilledOrStalledCollectorDoesNotSlowQueries) {
  constexpr int kQueries = 3000;  // > 4096 messages of one worker's queue: a stall drops some
  TempDir dir("dotproxy-dnstap");

  auto off = start_proxy(spec(server_->port()), {"--metrics-listen", "127.0.0.1:0"});
  ASSERT_EQ(ask(off->port(), "www.test.", 1), LDNS_RCODE_NOERROR) << off->log();
  const Latency base = latency_measure(off->port(), kQueries);
  off.reset();

  // Live: fstrm_capture takes every message (the cost of dnstap on).
  const std::string live_socket = dir.file("live.sock");
  Latency live;
  {
    Process live_capture({"fstrm_capture", "-t", "protobuf:dnstap.Dnstap", "-u", live_socket, "-w",
                          dir.file("live.fstrm")});
    ASSERT_TRUE(wait_until([&] { return exists(live_socket); }, seconds(5)));
    auto on = start_proxy(spec(server_->port()), {"--dnstap", live_socket});
    ASSERT_EQ(ask(on->port(), "www.test.", 1), LDNS_RCODE_NOERROR) << on->log();
    live = latency_measure(on->port(), kQueries);
  }

  // Killed: fstrm_capture takes the stream, then dies; the writer finds out and retries.
  const std::string socket = dir.file("killed.sock");
  auto capture = std::make_unique<Process>(std::vector<std::string>{
      "fstrm_capture", "-t", "protobuf:dnstap.Dnstap", "-u", socket, "-w", dir.file("k.fstrm")});
  ASSERT_TRUE(wait_until([&] { return exists(socket); }, seconds(5)));
  auto killed =
      start_proxy(spec(server_->port()), {"--dnstap", socket, "--metrics-listen", "127.0.0.1:0"});
  ASSERT_EQ(ask(killed->port(), "www.test.", 1), LDNS_RCODE_NOERROR) << killed->log();
  capture->signal(SIGKILL);
  capture.reset();
  const Latency dead = latency_measure(killed->port(), kQueries);
  const Exposition dead_metrics = metrics_get(killed->metrics_port());
  killed.reset();

  // Stalled: connected, never reading or answering its handshake.
  const std::string stalled_socket = dir.file("stalled.sock");
  StalledCollector stalled_collector(stalled_socket);
  auto stalled = start_proxy(spec(server_->port()),
                             {"--dnstap", stalled_socket, "--metrics-listen", "127.0.0.1:0"});
  ASSERT_EQ(ask(stalled->port(), "www.test.", 1), LDNS_RCODE_NOERROR) << stalled->log();
  const Latency stuck = latency_measure(stalled->port(), kQueries);
  const Exposition stuck_metrics = metrics_get(stalled->metrics_port());
  ASSERT_EQ(stalled->process().terminate(), 0) << stalled->log();  // exits though stuck

  const auto show = [](const char* name, const Latency& l) {
    std::printf("METRIC dnstap_%s queries=%d answered=%d total_ms=%lld mean_us=%.1f max_us=%.0f\n",
                name, kQueries, l.answered, static_cast<long long>(l.total.count()), l.mean_us,
                l.max_us);
  };
  show("off", base);
  show("collector_live", live);
  show("collector_killed", dead);
  show("collector_stalled", stuck);
  const std::string queued = "dotproxy_dnstap_messages_total{result=\"queued\"}";
  const std::string dropped = "dotproxy_dnstap_messages_total{result=\"dropped\"}";
  std::printf(
      "METRIC dnstap_counts killed_queued=%.0f killed_dropped=%.0f stalled_queued=%.0f "
      "stalled_dropped=%.0f\n",
      dead_metrics.value(queued), dead_metrics.value(dropped), stuck_metrics.value(queued),
      stuck_metrics.value(dropped));

  EXPECT_EQ(base.answered, kQueries);
  EXPECT_EQ(live.answered, kQueries);
  EXPECT_EQ(dead.answered, kQueries);
  EXPECT_EQ(stuck.answered, kQueries);
  // Generous: three times the time with dnstap off, plus 250 ms of scheduling noise.
  const auto bound = [&](const Latency& l) {
    return l.total <= base.total * 3 + milliseconds(250);
  };
  EXPECT_TRUE(bound(live)) << live.total.count() << " ms vs " << base.total.count() << " ms";
  EXPECT_TRUE(bound(dead)) << dead.total.count() << " ms vs " << base.total.count() << " ms";
  EXPECT_TRUE(bound(stuck)) << stuck.total.count() << " ms vs " << base.total.count() << " ms";
  // Each hit is two messages (CQ, CR), and every one is accounted for: the dead collector's are
  // taken and discarded by the writer thread. The stalled one's fill the 4096-frame queue and
  // the rest is dropped, until the writer gives up on the collector (1 s without progress) and
  // takes and discards them too; a slow run (a sanitizer build) reaches that point before the
  // queue is full. The drop path itself is tested exactly in tests/dnstap/writer_test.cc.
  EXPECT_GE(dead_metrics.value(queued) + dead_metrics.value(dropped), 2.0 * kQueries);
  EXPECT_GE(stuck_metrics.value(queued) + stuck_metrics.value(dropped), 2.0 * kQueries);
}

}  // namespace
}  // namespace dp::testing
