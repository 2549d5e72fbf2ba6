// Split DNS end to end (issue #15): the real binary with --forward-zone, --local-data and
// --hosts, a plain cluster-DNS fixture (or two) on loopback aliases beside the DoT upstream;
// where each query went is read from the servers' own counts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "fakes/prometheus_parse.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;
using Transport = PlainDnsServer::Transport;

constexpr const char* kKubernetes = "kubernetes.default.svc.cluster.local";
constexpr const char* kKubeDns = "kube-dns.kube-system.svc.cluster.local";
constexpr const char* kWeb = "web.default.svc.cluster.local";

struct Ask {
  static Ask over_tcp() {
    Ask how;
    how.tcp = true;
    return how;
  }
  static Ask with_do() {
    Ask how;
    how.dnssec = true;
    return how;
  }
  static Ask from(std::string source) {
    Ask how;
    how.source = std::move(source);
    return how;
  }
  bool tcp = false;
  bool edns = true;
  bool dnssec = false;  // DO=1 (needs edns)
  std::string source;   // the client's loopback address; empty: 127.0.0.1
  seconds timeout{5};
};

// Every record's RDATA in the answer section, as ldns prints it ("10.96.0.1", "localhost.").
std::vector<std::string> answer_rdata(const ldns_pkt* pkt) {
  std::vector<std::string> out;
  const ldns_rr_list* answer = ldns_pkt_answer(pkt);
  for (std::size_t i = 0; answer != nullptr && i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_rd_count(rr) == 0) continue;
    char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    out.emplace_back(text != nullptr ? text : "");
    std::free(text);  // NOLINT: ldns allocates with malloc
  }
  return out;
}

class SplitDnsTest : public IntegrationTest {
 protected:
  void SetUp() override { dot_ = start_server(); }

  static PlainDnsServerConfig on(const std::string& address,
                                 std::vector<std::string> extra_zones = {},
                                 std::map<std::string, std::string> extra_addresses = {}) {
    PlainDnsServerConfig config;
    config.address = address;
    config.extra_zones = std::move(extra_zones);
    config.extra_addresses = std::move(extra_addresses);
    return config;
  }
  // "ADDR@PORT", a zone server as --forward-zone takes it.
  static std::string at(const PlainDnsServer& server) {
    return server.address() + "@" + std::to_string(server.port());
  }
  void start(std::vector<std::string> extra) {
    proxy_ = start_proxy(spec(dot_->port()), std::move(extra));
  }

  // One query to dotproxy with a fresh ID; null when no reply came within the timeout.
  PacketPtr ask(const std::string& name, ldns_rr_type type, const Ask& how = {}) {
    Bytes wire = query_build(name, type, ++id_, how.edns);
    if (how.dnssec) {
      PacketPtr pkt = reply_parse(wire);  // ldns reads a query as well as a reply
      ldns_pkt_set_edns_do(pkt.get(), true);
      std::uint8_t* data = nullptr;
      std::size_t size = 0;
      EXPECT_EQ(ldns_pkt2wire(&data, pkt.get(), &size), LDNS_STATUS_OK);
      wire.assign(data, data + size);
      std::free(data);  // NOLINT: ldns allocates with malloc
    }
    std::optional<Bytes> reply;
    if (how.tcp) {
      TcpClient client(proxy_->port(), how.source);
      client.send(wire);
      reply = client.receive(how.timeout);
    } else {
      UdpClient client(proxy_->port(), how.source);
      client.send(wire);
      reply = client.receive(how.timeout);
    }
    if (!reply) return nullptr;
    PacketPtr pkt = reply_parse(*reply);
    if (pkt != nullptr) {
      EXPECT_EQ(ldns_pkt_id(pkt.get()), id_);
    }
    return pkt;
  }
  static ldns_pkt_rcode rcode(const PacketPtr& pkt) {
    return pkt == nullptr ? LDNS_RCODE_YXRRSET  // no reply: never a valid outcome here
                          : ldns_pkt_get_rcode(pkt.get());
  }

  Exposition scrape() {
    const HttpReply reply = http_get(proxy_->metrics_port(), "/metrics");
    EXPECT_EQ(reply.status, 200);
    Exposition parsed = exposition_parse(reply.body);
    EXPECT_EQ(parsed.error, "") << reply.body;
    return parsed;
  }

  std::uint16_t id_ = 0;
  std::unique_ptr<DotTestServer> dot_;
  std::unique_ptr<DotproxyProcess> proxy_;
};

// 1. tcp: the zone's names reach only the plain server; a name that merely ends in the same
// characters (not on a label boundary) goes over DoT.
TEST_F(SplitDnsTest, ClusterNamesOverTcpReachOnlyTheZoneServerAndXclusterGoesOverDot) {
  auto plain = start_plain_server();
  start({"--forward-zone", "cluster.local tcp " + at(*plain)});

  auto a = ask(kKubernetes, LDNS_RR_TYPE_A);
  ASSERT_EQ(rcode(a), LDNS_RCODE_NOERROR) << proxy_->log();
  EXPECT_EQ(answer_addresses(a.get()), std::vector<std::string>{"10.96.0.1"});
  auto aaaa = ask(kWeb, LDNS_RR_TYPE_AAAA, Ask::over_tcp());
  ASSERT_EQ(rcode(aaaa), LDNS_RCODE_NOERROR);
  EXPECT_EQ(answer_rdata(aaaa.get()), std::vector<std::string>{"fd00::20"});
  EXPECT_EQ(rcode(ask("nothing-here.cluster.local", LDNS_RR_TYPE_A)), LDNS_RCODE_NXDOMAIN);

  EXPECT_EQ(plain->queries_for(kKubernetes, Transport::kTcp), 1u);
  EXPECT_EQ(plain->queries_for(kWeb, Transport::kTcp), 1u);
  EXPECT_EQ(plain->queries_for("nothing-here.cluster.local", Transport::kTcp), 1u);
  EXPECT_EQ(plain->udp_queries(), 0u);  // the zone's transport is tcp
  EXPECT_EQ(dot_->queries_received(), 0u);

  ask("xcluster.local", LDNS_RR_TYPE_A);  // the synthetic DoT zone refuses it: any reply will do
  EXPECT_EQ(dot_->queries_received(), 1u);
  EXPECT_EQ(plain->queries_for("xcluster.local"), 0u);
  EXPECT_EQ(plain->queries_received(), 3u);
}

// 2. udp: the same; TC=1 from the zone server brings a TCP retry, so the answer still arrives.
TEST_F(SplitDnsTest, ClusterNamesOverUdpAndTruncationBringsATcpRetry) {
  auto plain = start_plain_server();
  start({"--forward-zone", "cluster.local udp " + at(*plain)});

  auto a = ask(kKubernetes, LDNS_RR_TYPE_A);
  ASSERT_EQ(rcode(a), LDNS_RCODE_NOERROR) << proxy_->log();
  EXPECT_EQ(answer_addresses(a.get()), std::vector<std::string>{"10.96.0.1"});
  EXPECT_EQ(plain->queries_for(kKubernetes, Transport::kUdp), 1u);
  EXPECT_EQ(plain->queries_for(kKubernetes, Transport::kTcp), 0u);

  plain->behaviour().truncate_udp = true;
  // Asked over TCP: dotproxy's own reply to us is never truncated, so TC=1 here would be the
  // zone server's passed through.
  auto web = ask(kWeb, LDNS_RR_TYPE_A, Ask::over_tcp());
  ASSERT_EQ(rcode(web), LDNS_RCODE_NOERROR) << proxy_->log();
  EXPECT_FALSE(ldns_pkt_tc(web.get()));
  EXPECT_EQ(answer_addresses(web.get()), std::vector<std::string>{"10.96.0.20"});
  // At least once each: on a loaded machine the UDP resend after the hedge delay (10 ms floor
  // once an RTT is measured) can fire while the TCP retry is still under way, and the resend
  // is truncated and retried too (reported: the resend is not cancelled by a TC answer).
  EXPECT_GE(plain->queries_for(kWeb, Transport::kUdp), 1u);
  EXPECT_GE(plain->queries_for(kWeb, Transport::kTcp), 1u);  // the retry
  EXPECT_EQ(plain->queries_for(kWeb, Transport::kTcp), plain->queries_for(kWeb, Transport::kUdp));
  EXPECT_GE(plain->udp_truncated(), 1u);
  // And over UDP with EDNS (1232 bytes: room for the whole answer).
  auto dns = ask(kKubeDns, LDNS_RR_TYPE_A);
  ASSERT_EQ(rcode(dns), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(ldns_pkt_tc(dns.get()));
  EXPECT_EQ(answer_addresses(dns.get()), std::vector<std::string>{"10.96.0.10"});
  EXPECT_EQ(plain->queries_for(kKubeDns, Transport::kTcp), 1u);
  EXPECT_EQ(dot_->queries_received(), 0u);
}

// 3. Nested zones: the longest label-aligned match wins whatever the options' order.
TEST_F(SplitDnsTest, NestedZonesTakeTheLongestMatchInEitherOrder) {
  for (const bool reversed : {false, true}) {
    SCOPED_TRACE(reversed ? "eng.corp.example given first" : "corp.example given first");
    auto corp = start_plain_server(
        on("127.0.0.2", {"corp.example"},
           {{"intranet.corp.example", "10.1.1.1"}, {"xeng.corp.example", "10.1.1.2"}}));
    auto eng = start_plain_server(
        on("127.0.0.3", {"eng.corp.example"}, {{"build.eng.corp.example", "10.2.2.2"}}));
    std::vector<std::string> specs = {"corp.example tcp " + at(*corp),
                                      "eng.corp.example udp " + at(*eng),
                                      "www.corp.example upstream"};
    if (reversed) std::reverse(specs.begin(), specs.end());
    std::vector<std::string> zones;
    for (const std::string& zone : specs) zones.insert(zones.end(), {"--forward-zone", zone});
    start(zones);
    const std::uint64_t dot_before = dot_->queries_received();

    auto intranet = ask("intranet.corp.example", LDNS_RR_TYPE_A);
    ASSERT_EQ(rcode(intranet), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_EQ(answer_addresses(intranet.get()), std::vector<std::string>{"10.1.1.1"});
    auto build = ask("build.eng.corp.example", LDNS_RR_TYPE_A);
    ASSERT_EQ(rcode(build), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_EQ(answer_addresses(build.get()), std::vector<std::string>{"10.2.2.2"});
    auto xeng = ask("xeng.corp.example", LDNS_RR_TYPE_A);  // not under eng.corp.example
    ASSERT_EQ(rcode(xeng), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_EQ(answer_addresses(xeng.get()), std::vector<std::string>{"10.1.1.2"});
    ask("www.corp.example", LDNS_RR_TYPE_A);  // the DoT zone refuses it: any reply will do

    EXPECT_EQ(corp->queries_for("intranet.corp.example", Transport::kTcp), 1u);
    EXPECT_EQ(corp->queries_for("xeng.corp.example", Transport::kTcp), 1u);
    EXPECT_EQ(eng->queries_for("build.eng.corp.example", Transport::kUdp), 1u);
    EXPECT_EQ(corp->queries_received(), 2u);
    EXPECT_EQ(eng->queries_received(), 1u);
    EXPECT_EQ(dot_->queries_received() - dot_before, 1u);  // www.corp.example only
    proxy_.reset();
  }
}

// 4. A forwarded reverse zone takes over the built-in RFC 6303 zones under it; the loopback
// reverse zone never leaves the host, not even when its parent in-addr.arpa is forwarded.
TEST_F(SplitDnsTest, ForwardedReverseZoneAnswersPtrsWhileLoopbackReverseStaysLocal) {
  for (const std::string zone : {"10.in-addr.arpa", "in-addr.arpa"}) {
    SCOPED_TRACE(zone);
    auto plain = start_plain_server();
    start({"--forward-zone", zone + " tcp " + at(*plain)});

    auto ptr = ask("10.0.96.10.in-addr.arpa", LDNS_RR_TYPE_PTR);
    ASSERT_EQ(rcode(ptr), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_EQ(answer_rdata(ptr.get()),
              std::vector<std::string>{"kube-dns.kube-system.svc.cluster.local."});
    EXPECT_EQ(plain->queries_for("10.0.96.10.in-addr.arpa"), 1u);

    auto loopback = ask("1.0.0.127.in-addr.arpa", LDNS_RR_TYPE_PTR);
    ASSERT_EQ(rcode(loopback), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_EQ(answer_rdata(loopback.get()), std::vector<std::string>{"localhost."});
    EXPECT_EQ(plain->queries_for("1.0.0.127.in-addr.arpa"), 0u);

    // 168.192.in-addr.arpa: answered here (RFC 6303 §4.3) unless a forward zone covers it.
    ask("1.1.168.192.in-addr.arpa", LDNS_RR_TYPE_PTR);  // NXDOMAIN either way
    const bool covered = zone == "in-addr.arpa";
    EXPECT_EQ(plain->queries_for("1.1.168.192.in-addr.arpa"), covered ? 1u : 0u);
    EXPECT_EQ(plain->queries_received(), covered ? 2u : 1u);
    EXPECT_EQ(dot_->queries_received(), 0u);
    proxy_.reset();
  }
}

// 5. A silent server first in the zone's list costs one hedge delay, not a timeout.
TEST_F(SplitDnsTest, ASilentFirstServerCostsOneHedgeDelay) {
  for (const std::string transport : {"udp", "tcp"}) {
    SCOPED_TRACE(transport);
    auto silent = start_plain_server(on("127.0.0.2"));
    silent->behaviour().silent = true;
    auto good = start_plain_server(on("127.0.0.3"));
    start({"--forward-zone", "cluster.local " + transport + " " + at(*silent) + " " + at(*good)});

    const auto began = Clock::now();
    auto a = ask(kKubernetes, LDNS_RR_TYPE_A);
    const auto took = Clock::now() - began;
    ASSERT_EQ(rcode(a), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_EQ(answer_addresses(a.get()), std::vector<std::string>{"10.96.0.1"});
    EXPECT_LT(took, milliseconds(1000));
    EXPECT_EQ(good->queries_for(kKubernetes), 1u);
    EXPECT_EQ(silent->queries_for(kKubernetes), 1u);  // it was asked first
    EXPECT_EQ(dot_->queries_received(), 0u);
    std::cout << "[ split dns ] " << transport << ": silent first server, answer in "
              << std::chrono::duration_cast<milliseconds>(took).count() << " ms\n";
    proxy_.reset();
  }
}

// 6. Every server of the zone down: SERVFAIL within the upstream timeout, and the default
// upstreams are never asked instead.
TEST_F(SplitDnsTest, EveryZoneServerDownGivesServfailAndNothingAtTheDotUpstream) {
  for (const std::string transport : {"udp", "tcp"}) {
    SCOPED_TRACE(transport);
    auto silent = start_plain_server(on("127.0.0.2"));
    silent->behaviour().silent = true;
    const std::string closed = "127.0.0.1@" + std::to_string(free_port_udp_tcp());
    start({"--upstream-timeout", "500ms", "--metrics-listen", "127.0.0.1:0", "--forward-zone",
           "cluster.local " + transport + " " + at(*silent) + " " + closed});

    const auto began = Clock::now();
    auto a = ask(kKubernetes, LDNS_RR_TYPE_A);
    const auto took = Clock::now() - began;
    ASSERT_NE(a, nullptr) << proxy_->log();
    EXPECT_EQ(rcode(a), LDNS_RCODE_SERVFAIL) << proxy_->log();
    EXPECT_LT(took, milliseconds(1000));  // 500 ms, and a margin for a loaded machine
    EXPECT_EQ(dot_->queries_received(), 0u);
    std::cout << "[ split dns ] " << transport << ": both servers down, SERVFAIL in "
              << std::chrono::duration_cast<milliseconds>(took).count() << " ms\n";
    const Exposition metrics = scrape();
    double failures = 0;
    for (const auto& [key, value] : metrics.samples) {
      if (key.rfind("dotproxy_zone_failures_total{zone=\"cluster.local\"", 0) == 0) {
        failures += value;
      }
    }
    EXPECT_GE(failures, 1) << "no dotproxy_zone_failures_total for cluster.local";
    proxy_.reset();
  }
}

// 7. A plain hop cannot vouch for DNSSEC: AD from the zone server never reaches the client.
TEST_F(SplitDnsTest, AdFromAPlainZoneServerIsCleared) {
  auto plain = start_plain_server();
  plain->behaviour().set_ad = true;
  {  // The fixture really sets it: asked directly, AD=1.
    UdpClient direct(plain->port());
    direct.send(query_build(kKubernetes, LDNS_RR_TYPE_A, 7));
    auto reply = direct.receive(seconds(5));
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(ldns_pkt_ad(reply_parse(*reply).get()));
  }
  for (const std::string transport : {"udp", "tcp"}) {
    SCOPED_TRACE(transport);
    start({"--forward-zone", "cluster.local " + transport + " " + at(*plain)});
    auto plain_edns = ask(kKubernetes, LDNS_RR_TYPE_A);
    ASSERT_EQ(rcode(plain_edns), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_FALSE(ldns_pkt_ad(plain_edns.get()));
    auto with_do = ask(kWeb, LDNS_RR_TYPE_A, Ask::with_do());
    ASSERT_EQ(rcode(with_do), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_TRUE(ldns_pkt_edns_do(with_do.get()));
    EXPECT_FALSE(ldns_pkt_ad(with_do.get()));
    auto cached = ask(kWeb, LDNS_RR_TYPE_A, Ask::with_do());  // from the cache now
    ASSERT_EQ(rcode(cached), LDNS_RCODE_NOERROR);
    EXPECT_FALSE(ldns_pkt_ad(cached.get()));
    proxy_.reset();
  }
  EXPECT_EQ(plain->queries_for(kWeb), 2u);  // once per proxy: the third answer was cached
}

// 8. A SIGHUP that moves a zone to another server: the next query goes there, and the old
// server's answer, still fresh in the cache, is never served for it.
TEST_F(SplitDnsTest, ReloadMovingAZoneNeverServesTheOldRoutesCachedAnswer) {
  auto a = start_plain_server(
      on("127.0.0.2", {"corp.example"}, {{"intranet.corp.example", "10.1.1.1"}}));
  auto b = start_plain_server(
      on("127.0.0.3", {"corp.example"}, {{"intranet.corp.example", "10.2.2.2"}}));
  TempDir dir;
  const std::string file = dir.file("dotproxy.toml");
  const auto write_config = [&](const PlainDnsServer& server) {
    std::ofstream(file) << "[[forward_zone]]\nzone = \"corp.example\"\ntransport = \"tcp\"\n"
                        << "servers = [\"" << at(server) << "\"]\n";
  };
  const auto count = [&](const std::string& needle) {
    const std::string log = proxy_->log();
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  };
  write_config(*a);
  start({"--config", file});
  for (int i = 0; i < 2; ++i) {  // the second from the cache (TTL 5 s)
    auto reply = ask("intranet.corp.example", LDNS_RR_TYPE_A);
    ASSERT_EQ(rcode(reply), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_EQ(answer_addresses(reply.get()), std::vector<std::string>{"10.1.1.1"});
  }
  EXPECT_EQ(a->queries_for("intranet.corp.example"), 1u);

  write_config(*b);
  proxy_->process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return count("reloaded configuration") == 1; }, seconds(5)))
      << proxy_->log();
  for (int i = 0; i < 2; ++i) {
    auto reply = ask("intranet.corp.example", LDNS_RR_TYPE_A);
    ASSERT_EQ(rcode(reply), LDNS_RCODE_NOERROR) << proxy_->log();
    EXPECT_EQ(answer_addresses(reply.get()), std::vector<std::string>{"10.2.2.2"});
  }
  EXPECT_EQ(b->queries_for("intranet.corp.example"), 1u);  // then B's own answer, cached
  EXPECT_EQ(a->queries_for("intranet.corp.example"), 1u);
  EXPECT_EQ(dot_->queries_received(), 0u);
}

// 9. The loop guard: the zone server's own address asking for a name in its zone is answered
// SERVFAIL at once, counted, and never forwarded back to it.
TEST_F(SplitDnsTest, LoopGuardRefusesTheZoneServerAskingForItsOwnZone) {
  auto plain = start_plain_server(on("127.0.0.2"));
  start({"--metrics-listen", "127.0.0.1:0", "--forward-zone", "cluster.local udp " + at(*plain)});
  ASSERT_NE(proxy_->metrics_port(), 0) << proxy_->log();

  const auto began = Clock::now();
  auto looped = ask(kKubernetes, LDNS_RR_TYPE_A, Ask::from("127.0.0.2"));
  const auto took = Clock::now() - began;
  EXPECT_EQ(rcode(looped), LDNS_RCODE_SERVFAIL) << proxy_->log();
  EXPECT_LT(took, milliseconds(500));  // at once: no upstream timeout (3 s) was waited for
  EXPECT_EQ(plain->queries_received(), 0u);
  EXPECT_EQ(scrape().value("dotproxy_loop_guard_total"), 1);

  // The same address asking for a name outside the zone, and another client asking for the
  // zone's name, are served as usual.
  EXPECT_EQ(rcode(ask("www.test", LDNS_RR_TYPE_A, Ask::from("127.0.0.2"))), LDNS_RCODE_NOERROR);
  EXPECT_EQ(dot_->queries_received(), 1u);
  auto other = ask(kKubernetes, LDNS_RR_TYPE_A, Ask::from("127.0.0.4"));
  ASSERT_EQ(rcode(other), LDNS_RCODE_NOERROR) << proxy_->log();
  EXPECT_EQ(plain->queries_for(kKubernetes), 1u);
  EXPECT_EQ(scrape().value("dotproxy_loop_guard_total"), 1);
}

// 9b. A zone server on 127.0.0.1, where every local client asks from too: only a query
// identical to one already waiting on the zone is taken for ours coming back. The price: a
// second local client asking the very same question meanwhile gets SERVFAIL too.
TEST_F(SplitDnsTest, LoopGuardOnDefaultLoopbackFiresOnlyForAnIdenticalQueryInFlight) {
  auto plain = start_plain_server(on("127.0.0.1"));
  // Slow enough to have the question in flight, quicker than the 300 ms after which a UDP
  // query with no other server is sent again (which would count twice).
  plain->behaviour().delay_ms = 200;
  start({"--metrics-listen", "127.0.0.1:0", "--forward-zone", "cluster.local udp " + at(*plain)});
  ASSERT_NE(proxy_->metrics_port(), 0) << proxy_->log();

  UdpClient first(proxy_->port());
  first.send(query_build(kKubernetes, LDNS_RR_TYPE_A, 1));
  ASSERT_TRUE(wait_until([&] { return plain->queries_for(kKubernetes) == 1; }));
  // Meanwhile: another name of the zone is forwarded as usual...
  UdpClient other(proxy_->port());
  other.send(query_build(kWeb, LDNS_RR_TYPE_A, 2));
  // ...and the same question is what a loop would look like.
  UdpClient same(proxy_->port());
  same.send(query_build(kKubernetes, LDNS_RR_TYPE_A, 3));
  auto looped = same.receive(seconds(5));
  ASSERT_TRUE(looped.has_value());
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*looped).get()), LDNS_RCODE_SERVFAIL);

  auto answer = first.receive(seconds(5));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*answer).get()), LDNS_RCODE_NOERROR);
  auto web = other.receive(seconds(5));
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*web).get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(plain->queries_for(kKubernetes), 1u);
  EXPECT_EQ(plain->queries_for(kWeb), 1u);
  EXPECT_EQ(scrape().value("dotproxy_loop_guard_total"), 1);
  // Once answered (and cached), the same question from 127.0.0.1 is an ordinary hit.
  EXPECT_EQ(rcode(ask(kKubernetes, LDNS_RR_TYPE_A)), LDNS_RCODE_NOERROR);
  EXPECT_EQ(scrape().value("dotproxy_loop_guard_total"), 1);
}

// 10. Local data and hosts files are answered here (AA=1), inside a forwarded zone too; other
// types of the same name still go to the zone's server.
TEST_F(SplitDnsTest, LocalDataAndHostsAreAnsweredHereAndOtherTypesGoToTheZone) {
  auto plain = start_plain_server(on("127.0.0.1", {"corp.example"}));
  TempDir dir;
  const std::string hosts = dir.file("hosts");
  std::ofstream(hosts) << "# lab machines\n10.9.8.7 nas.corp.example nas\n";
  start({"--forward-zone", "corp.example tcp " + at(*plain), "--local-data",
         "printer.corp.example A 10.1.2.3", "--hosts", hosts});

  auto printer = ask("printer.corp.example", LDNS_RR_TYPE_A);
  ASSERT_EQ(rcode(printer), LDNS_RCODE_NOERROR) << proxy_->log();
  EXPECT_TRUE(ldns_pkt_aa(printer.get()));
  EXPECT_EQ(answer_addresses(printer.get()), std::vector<std::string>{"10.1.2.3"});
  EXPECT_EQ(plain->queries_for("printer.corp.example"), 0u);

  ask("printer.corp.example", LDNS_RR_TYPE_AAAA);  // the fixture has none: any answer will do
  EXPECT_EQ(plain->queries_for("printer.corp.example"), 1u);

  auto nas = ask("nas.corp.example", LDNS_RR_TYPE_A);
  ASSERT_EQ(rcode(nas), LDNS_RCODE_NOERROR) << proxy_->log();
  EXPECT_TRUE(ldns_pkt_aa(nas.get()));
  EXPECT_EQ(answer_addresses(nas.get()), std::vector<std::string>{"10.9.8.7"});
  auto ptr = ask("7.8.9.10.in-addr.arpa", LDNS_RR_TYPE_PTR);
  ASSERT_EQ(rcode(ptr), LDNS_RCODE_NOERROR) << proxy_->log();
  EXPECT_TRUE(ldns_pkt_aa(ptr.get()));
  EXPECT_EQ(answer_rdata(ptr.get()), std::vector<std::string>{"nas.corp.example."});
  EXPECT_EQ(plain->queries_for("nas.corp.example"), 0u);
  EXPECT_EQ(plain->queries_received(), 1u);  // the AAAA only
  EXPECT_EQ(dot_->queries_received(), 0u);
}

// 11. Bad split-DNS configuration stops the start: exit 2, one line naming the option or
// file:line. (tests/config covers every case; this is the binary's front door.)
TEST_F(SplitDnsTest, BadConfigurationExitsTwoWithOneLineNamingTheOptionOrFileLine) {
  TempDir dir;
  const std::string bad_toml = dir.file("zones.toml");
  std::ofstream(bad_toml) << "# zones\n[[forward_zone]]\nzone = \"corp.example\"\n"
                             "transport = \"quic\"\nservers = [\"10.0.0.53\"]\n";
  const std::string bad_hosts = dir.file("hosts");
  std::ofstream(bad_hosts) << "10.0.0.1 ok.example\nnot-an-address nas.example\n";
  struct Case {
    std::vector<std::string> args;
    std::string names;  // the line names this
    std::string why;    // and says this
  };
  const std::vector<Case> cases = {
      {{"--forward-zone", "corp.example quic 10.0.0.53"}, "--forward-zone", "'quic'"},
      {{"--forward-zone", "corp.example tls 10.0.0.53"}, "--forward-zone", "#AUTH_NAME"},
      {{"--forward-zone", "corp.example tcp ns1.corp.example"},
       "--forward-zone",
       "not an IP address"},
      {{"--forward-zone", "corp.example udp 8.8.8.8"}, "--forward-zone", "allow_public_plain"},
      {{"--forward-zone", "printer.localhost tcp 10.0.0.53"}, "--forward-zone", "localhost"},
      {{"--local-data", "printer.corp.example A not-an-address"}, "--local-data", "not-an-address"},
      {{"--hosts", dir.file("missing-hosts")}, dir.file("missing-hosts"), "cannot read"},
      {{"--hosts", bad_hosts}, bad_hosts + ":2", "not-an-address"},
      {{"--config", bad_toml}, bad_toml + ":4", "quic"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {dotproxy_binary(), "--listen",         "127.0.0.1:0",
                                     "--upstream",      spec(dot_->port()), "--ca-file",
                                     pki_->ca_file,     "--workers",        "1"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(c.args.back());
    const CaptureResult result = run_capture(argv, seconds(5));
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find(c.names), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(c.why), std::string::npos) << result.err;
  }
  // The opt-in lets a public plain server through (checked only: nothing is sent to it).
  const std::string opt_in = dir.file("public.toml");
  std::ofstream(opt_in) << "[[forward_zone]]\nzone = \"corp.example\"\ntransport = \"udp\"\n"
                           "servers = [\"8.8.8.8\"]\nallow_public_plain = true\n";
  const CaptureResult ok = run_capture(
      {dotproxy_binary(), "--upstream", spec(dot_->port()), "--config", opt_in, "--check-config"},
      seconds(5));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// 12. kdig through dotproxy, the cluster-DNS fixture and the DoT upstream side by side.
TEST_F(SplitDnsTest, KdigReachesTheClusterFixtureAndTheDotUpstreamSideBySide) {
  if (run_capture({"kdig", "--version"}).exit_code != 0) GTEST_SKIP() << "kdig is not installed";
  auto plain = start_plain_server();
  start({"--forward-zone", "cluster.local udp " + at(*plain)});
  const std::string port = std::to_string(proxy_->port());
  const auto kdig = [&](const std::string& name, const std::string& type) {
    auto result = run_capture(
        {"kdig", "@127.0.0.1", "-p", port, "+retry=0", "+timeout=3", "+short", name, type});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return result.out.substr(0, result.out.find('\n'));
  };
  const std::string cluster = kdig(kKubernetes, "A");
  EXPECT_EQ(cluster, "10.96.0.1");
  const std::uint64_t plain_after_cluster = plain->queries_received();
  const std::uint64_t dot_after_cluster = dot_->queries_received();
  const std::string external = kdig("www.test", "A");
  EXPECT_EQ(external, "192.0.2.1");
  EXPECT_EQ(plain_after_cluster, 1u);
  EXPECT_EQ(dot_after_cluster, 0u);
  EXPECT_EQ(plain->queries_received(), 1u);
  EXPECT_EQ(dot_->queries_received(), 1u);
  std::cout << "kdig via dotproxy: " << kKubernetes << " A -> " << cluster
            << " [cluster-DNS fixture (udp) queries " << plain_after_cluster
            << ", DoT upstream queries " << dot_after_cluster << "]; www.test A -> " << external
            << " [cluster-DNS fixture queries " << plain->queries_received()
            << ", DoT upstream queries " << dot_->queries_received() << "]" << std::endl;
}

}  // namespace
}  // namespace dp::testing
