// Tests of the plain DNS test server (plain_dns_server.h) with real sockets: the clients of
// dns_client.h, raw sockets for other loopback addresses, and kdig for the standalone binary.
#include "fakes/plain_dns_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "dns/ldns_include.h"
#include "fakes/dns_client.h"
#include "fakes/process.h"

namespace dp::testing {
namespace {

using namespace std::chrono_literals;
using Transport = PlainDnsServer::Transport;

constexpr auto kWait = 2s;        // an answer that must come
constexpr auto kSilence = 300ms;  // how long "no answer" is watched for
constexpr const char* kKubeDns = "kube-dns.kube-system.svc.cluster.local";

std::uint16_t id_of(const Bytes& wire) {
  return static_cast<std::uint16_t>((wire.at(0) << 8) | wire.at(1));
}

// Each RR of a section in ldns's presentation format, without the final newline.
std::vector<std::string> section_text(const ldns_rr_list* list) {
  std::vector<std::string> out;
  for (std::size_t i = 0; list != nullptr && i < ldns_rr_list_rr_count(list); ++i) {
    char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
    std::string s = text != nullptr ? text : "";
    std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
    if (!s.empty() && s.back() == '\n') s.pop_back();
    out.push_back(s);
  }
  return out;
}

std::vector<std::string> answers(const ldns_pkt* pkt) { return section_text(ldns_pkt_answer(pkt)); }
std::vector<std::string> authority(const ldns_pkt* pkt) {
  return section_text(ldns_pkt_authority(pkt));
}

// One exchange with a server on any loopback address (dns_client.h's clients use 127.0.0.1).
std::optional<Bytes> exchange(const std::string& address, std::uint16_t port, const Bytes& query,
                              bool tcp) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    throw std::invalid_argument(address);
  }
  const int fd = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  Bytes out;
  Bytes msg = query;
  if (tcp) {
    msg.insert(msg.begin(), {static_cast<std::uint8_t>(query.size() >> 8),
                             static_cast<std::uint8_t>(query.size() & 0xff)});
  }
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
            send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(msg.size());
  Bytes buf(65535 + 2);
  std::size_t got = 0;
  while (ok) {
    pollfd p{fd, POLLIN, 0};
    const ssize_t n = poll(&p, 1, 2000) > 0 ? recv(fd, buf.data() + got, buf.size() - got, 0) : -1;
    if (n <= 0) {
      ok = false;
      break;
    }
    got += static_cast<std::size_t>(n);
    if (!tcp) break;
    if (got >= 2 && got >= 2 + ((std::size_t{buf[0]} << 8) | buf[1])) break;
  }
  close(fd);
  if (!ok) return std::nullopt;
  const std::size_t skip = tcp ? 2 : 0;
  return Bytes(buf.begin() + static_cast<std::ptrdiff_t>(skip),
               buf.begin() + static_cast<std::ptrdiff_t>(got));
}

class PlainDnsServerTest : public ::testing::Test {
 protected:
  PlainDnsServerTest() : server_(make_config()) {}

  static PlainDnsServerConfig make_config() {
    PlainDnsServerConfig config;
    config.extra_zones = {"corp.example"};
    config.extra_addresses = {{"intranet.corp.example", "10.1.2.3"}};
    return config;
  }

  // One query over UDP or TCP (a fresh client each time); the parsed answer or null.
  PacketPtr ask(const std::string& name, ldns_rr_type type, Transport transport, bool edns = false,
                std::uint16_t id = 0x4242) {
    const Bytes q = query_build(name, type, id, edns);
    std::optional<Bytes> wire;
    if (transport == Transport::kUdp) {
      UdpClient client(server_.port());
      client.send(q);
      wire = client.receive(kWait);
    } else {
      TcpClient client(server_.port());
      client.send(q);
      wire = client.receive(kWait);
    }
    if (!wire) return nullptr;
    last_size_ = wire->size();
    EXPECT_EQ(id_of(*wire), id);
    return reply_parse(*wire);
  }

  PlainDnsServer server_;
  std::size_t last_size_ = 0;
};

TEST_F(PlainDnsServerTest, AnswersAOverUdpAndTcpEchoingTheQuestion) {
  for (const Transport t : {Transport::kUdp, Transport::kTcp}) {
    PacketPtr pkt = ask("KuBe-DnS.kube-system.svc.CLUSTER.local", LDNS_RR_TYPE_A, t);
    ASSERT_NE(pkt, nullptr);
    EXPECT_EQ(question_name(pkt.get()), "KuBe-DnS.kube-system.svc.CLUSTER.local.");
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    EXPECT_TRUE(ldns_pkt_ra(pkt.get()));
    EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
    EXPECT_FALSE(ldns_pkt_tc(pkt.get()));
    EXPECT_FALSE(ldns_pkt_ad(pkt.get()));
    EXPECT_FALSE(ldns_pkt_edns(pkt.get()));  // none asked for
    EXPECT_EQ(
        answers(pkt.get()),
        std::vector<std::string>{"KuBe-DnS.kube-system.svc.CLUSTER.local.\t5\tIN\tA\t10.96.0.10"});
  }
  PacketPtr with_edns =
      ask("kubernetes.default.svc.cluster.local", LDNS_RR_TYPE_A, Transport::kUdp, /*edns=*/true);
  ASSERT_NE(with_edns, nullptr);
  EXPECT_TRUE(ldns_pkt_edns(with_edns.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(with_edns.get()), 1232);
  EXPECT_EQ(answer_addresses(with_edns.get()), std::vector<std::string>{"10.96.0.1"});
}

TEST_F(PlainDnsServerTest, AnswersAaaaAndPtrsPipelinedOverOneConnection) {
  const std::vector<std::pair<std::string, ldns_rr_type>> questions = {
      {"web.default.svc.cluster.local", LDNS_RR_TYPE_AAAA},
      {"web.default.svc.cluster.local", LDNS_RR_TYPE_A},
      {"1.0.96.10.in-addr.arpa", LDNS_RR_TYPE_PTR},
      {"10.0.96.10.in-addr.arpa", LDNS_RR_TYPE_PTR},
      {"20.0.96.10.in-addr.arpa", LDNS_RR_TYPE_PTR},
      {"0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
       LDNS_RR_TYPE_PTR},
      {"3.2.1.10.in-addr.arpa", LDNS_RR_TYPE_PTR},  // the extra address's
  };
  const std::vector<std::string> expected = {
      "web.default.svc.cluster.local.\t5\tIN\tAAAA\tfd00::20",
      "web.default.svc.cluster.local.\t5\tIN\tA\t10.96.0.20",
      "1.0.96.10.in-addr.arpa.\t5\tIN\tPTR\tkubernetes.default.svc.cluster.local.",
      "10.0.96.10.in-addr.arpa.\t5\tIN\tPTR\tkube-dns.kube-system.svc.cluster.local.",
      "20.0.96.10.in-addr.arpa.\t5\tIN\tPTR\tweb.default.svc.cluster.local.",
      "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.\t5\tIN\tPTR\t"
      "web.default.svc.cluster.local.",
      "3.2.1.10.in-addr.arpa.\t5\tIN\tPTR\tintranet.corp.example.",
  };
  TcpClient client(server_.port());
  Bytes burst;
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const Bytes q = query_build(questions[i].first, questions[i].second,
                                static_cast<std::uint16_t>(100 + i), false);
    burst.push_back(static_cast<std::uint8_t>(q.size() >> 8));
    burst.push_back(static_cast<std::uint8_t>(q.size() & 0xff));
    burst.insert(burst.end(), q.begin(), q.end());
  }
  client.send_raw(burst);
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const auto wire = client.receive(kWait);
    ASSERT_TRUE(wire.has_value()) << i;
    EXPECT_EQ(id_of(*wire), 100 + i);  // in order
    PacketPtr pkt = reply_parse(*wire);
    ASSERT_NE(pkt, nullptr);
    EXPECT_EQ(answers(pkt.get()), std::vector<std::string>{expected[i]});
  }
  EXPECT_EQ(server_.tcp_queries(), questions.size());
  EXPECT_EQ(server_.connections_accepted(), 1u);
}

TEST_F(PlainDnsServerTest, NegativeAnswersCarryTheZonesSoa) {
  const std::string soa_tail =
      "\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5";
  struct Case {
    std::string name;
    ldns_rr_type type;
    ldns_pkt_rcode rcode;
    std::string zone;
  };
  const std::vector<Case> cases = {
      {"nope.default.svc.cluster.local", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "cluster.local."},
      {"www.example.com.default.svc.cluster.local", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NXDOMAIN,
       "cluster.local."},
      {"4.3.2.1.in-addr.arpa", LDNS_RR_TYPE_PTR, LDNS_RCODE_NXDOMAIN, "in-addr.arpa."},
      {"1.0.0.0.ip6.arpa", LDNS_RR_TYPE_PTR, LDNS_RCODE_NXDOMAIN, "ip6.arpa."},
      {"missing.corp.example", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "corp.example."},
      // NODATA: another type of a name that exists, an empty non-terminal (RFC 8020), an apex.
      {kKubeDns, LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, "cluster.local."},
      {"svc.cluster.local", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "cluster.local."},
      {"96.10.in-addr.arpa", LDNS_RR_TYPE_PTR, LDNS_RCODE_NOERROR, "in-addr.arpa."},
      {"cluster.local", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "cluster.local."},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PacketPtr pkt = ask(c.name, c.type, Transport::kUdp);
    ASSERT_NE(pkt, nullptr);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), c.rcode);
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
    EXPECT_EQ(authority(pkt.get()), std::vector<std::string>{c.zone + "\t5" + soa_tail});
  }
  PacketPtr soa = ask("Cluster.Local", LDNS_RR_TYPE_SOA, Transport::kTcp);
  ASSERT_NE(soa, nullptr);
  ASSERT_EQ(answers(soa.get()).size(), 1u);
  // ldns compresses case-insensitively: the SOA's own names may point into "Cluster.Local.".
  std::string text = answers(soa.get())[0];
  EXPECT_EQ(text.rfind("Cluster.Local.\t", 0), 0u) << text;
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(text,
            "cluster.local.\t5\tin\tsoa\tns.dns.cluster.local. hostmaster.cluster.local. 1 "
            "7200 1800 86400 5");
}

TEST_F(PlainDnsServerTest, NamesOutsideTheZonesAreRefused) {
  for (const char* name : {"www.example.com", "xcluster.local", "local", "arpa", "example"}) {
    for (const Transport t : {Transport::kUdp, Transport::kTcp}) {
      SCOPED_TRACE(name);
      PacketPtr pkt = ask(name, LDNS_RR_TYPE_A, t);
      ASSERT_NE(pkt, nullptr);
      EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_REFUSED);
      EXPECT_FALSE(ldns_pkt_aa(pkt.get()));
      EXPECT_EQ(ldns_pkt_ancount(pkt.get()) + ldns_pkt_nscount(pkt.get()), 0);
    }
  }
}

TEST_F(PlainDnsServerTest, ExtraAddressIsAnsweredAndMustBeInAZone) {
  PacketPtr pkt = ask("intranet.corp.example", LDNS_RR_TYPE_A, Transport::kUdp);
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(answer_addresses(pkt.get()), std::vector<std::string>{"10.1.2.3"});

  PlainDnsServerConfig outside;
  outside.extra_addresses = {{"intranet.corp.example", "10.1.2.3"}};  // corp.example not served
  EXPECT_THROW(PlainDnsServer{outside}, std::invalid_argument);
  PlainDnsServerConfig bad;
  bad.extra_addresses = {{"host.cluster.local", "10.1.2"}};
  EXPECT_THROW(PlainDnsServer{bad}, std::invalid_argument);
  PlainDnsServerConfig bad_address;
  bad_address.address = "localhost";
  EXPECT_THROW(PlainDnsServer{bad_address}, std::invalid_argument);
}

TEST_F(PlainDnsServerTest, BigAnswerIsTruncatedOverUdpAndWholeOverTcp) {
  PacketPtr udp = ask("big.cluster.local", LDNS_RR_TYPE_TXT, Transport::kUdp);
  ASSERT_NE(udp, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(udp.get()));
  EXPECT_EQ(ldns_pkt_qdcount(udp.get()), 1);
  EXPECT_EQ(question_name(udp.get()), "big.cluster.local.");
  EXPECT_EQ(ldns_pkt_ancount(udp.get()) + ldns_pkt_nscount(udp.get()), 0);
  EXPECT_EQ(server_.udp_truncated(), 1u);

  // An EDNS UDP size of 512 does not fit it either; 1232 does.
  Bytes q512 = query_build("big.cluster.local", LDNS_RR_TYPE_TXT, 7, true);
  // The OPT RR (no options) ends the query: root, TYPE, CLASS = UDP size (RFC 6891 §6.1.2), ...
  ASSERT_EQ(q512[q512.size() - 11], 0);
  ASSERT_EQ(q512[q512.size() - 9], LDNS_RR_TYPE_OPT);
  q512[q512.size() - 8] = 512 >> 8;
  q512[q512.size() - 7] = 512 & 0xff;
  UdpClient client(server_.port());
  client.send(q512);
  const auto cut = client.receive(kWait);
  ASSERT_TRUE(cut.has_value());
  PacketPtr cut_pkt = reply_parse(*cut);
  ASSERT_NE(cut_pkt, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(cut_pkt.get()));
  EXPECT_TRUE(ldns_pkt_edns(cut_pkt.get()));  // the OPT stays

  PacketPtr whole_udp = ask("big.cluster.local", LDNS_RR_TYPE_TXT, Transport::kUdp, true);
  ASSERT_NE(whole_udp, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(whole_udp.get()));
  EXPECT_EQ(ldns_pkt_ancount(whole_udp.get()), 8);
  EXPECT_GT(last_size_, 512u);
  EXPECT_LT(last_size_, 1232u);

  PacketPtr tcp = ask("big.cluster.local", LDNS_RR_TYPE_TXT, Transport::kTcp);
  ASSERT_NE(tcp, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
  EXPECT_EQ(ldns_pkt_ancount(tcp.get()), 8);
  EXPECT_GT(last_size_, 512u);
  EXPECT_EQ(server_.udp_truncated(), 2u);
  EXPECT_EQ(server_.queries_for("big.cluster.local", Transport::kUdp), 3u);
  EXPECT_EQ(server_.queries_for("big.cluster.local", Transport::kTcp), 1u);
}

TEST_F(PlainDnsServerTest, TruncateUdpKnobCutsEveryUdpAnswerOnly) {
  server_.behaviour().truncate_udp = true;
  PacketPtr udp = ask(kKubeDns, LDNS_RR_TYPE_A, Transport::kUdp, /*edns=*/true);
  ASSERT_NE(udp, nullptr);
  EXPECT_TRUE(ldns_pkt_tc(udp.get()));
  EXPECT_EQ(ldns_pkt_ancount(udp.get()), 0);
  EXPECT_TRUE(ldns_pkt_edns(udp.get()));
  PacketPtr tcp = ask(kKubeDns, LDNS_RR_TYPE_A, Transport::kTcp, true);
  ASSERT_NE(tcp, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
  EXPECT_EQ(answer_addresses(tcp.get()), std::vector<std::string>{"10.96.0.10"});
  server_.behaviour().truncate_udp = false;
  PacketPtr again = ask(kKubeDns, LDNS_RR_TYPE_A, Transport::kUdp, true);
  ASSERT_NE(again, nullptr);
  EXPECT_FALSE(ldns_pkt_tc(again.get()));
}

TEST_F(PlainDnsServerTest, SilentCountsButNeverAnswers) {
  server_.behaviour().silent = true;
  UdpClient udp(server_.port());
  udp.send(query_build(kKubeDns, LDNS_RR_TYPE_A, 1, false));
  TcpClient tcp(server_.port());
  tcp.send(query_build(kKubeDns, LDNS_RR_TYPE_A, 2, false));
  EXPECT_FALSE(udp.receive(kSilence).has_value());
  EXPECT_FALSE(tcp.receive(kSilence).has_value());
  EXPECT_EQ(server_.queries_for(kKubeDns, Transport::kUdp), 1u);
  EXPECT_EQ(server_.queries_for(kKubeDns, Transport::kTcp), 1u);
  EXPECT_EQ(server_.answers_sent(), 0u);
  server_.behaviour().silent = false;  // the same connection answers again
  tcp.send(query_build(kKubeDns, LDNS_RR_TYPE_A, 3, false));
  const auto wire = tcp.receive(kWait);
  ASSERT_TRUE(wire.has_value());
  EXPECT_EQ(id_of(*wire), 3);
}

TEST_F(PlainDnsServerTest, SetAdSetsAdOnBothTransports) {
  server_.behaviour().set_ad = true;
  for (const Transport t : {Transport::kUdp, Transport::kTcp}) {
    PacketPtr pkt = ask(kKubeDns, LDNS_RR_TYPE_A, t);
    ASSERT_NE(pkt, nullptr);
    EXPECT_TRUE(ldns_pkt_ad(pkt.get()));
  }
}

TEST_F(PlainDnsServerTest, CountsPerNameAndTransportAndReset) {
  ASSERT_NE(ask(kKubeDns, LDNS_RR_TYPE_A, Transport::kUdp), nullptr);
  ASSERT_NE(ask("KUBE-DNS.kube-system.svc.cluster.local.", LDNS_RR_TYPE_AAAA, Transport::kUdp),
            nullptr);
  ASSERT_NE(ask(kKubeDns, LDNS_RR_TYPE_A, Transport::kTcp), nullptr);
  ASSERT_NE(ask("www.example.com", LDNS_RR_TYPE_A, Transport::kTcp), nullptr);
  EXPECT_EQ(server_.queries_for(kKubeDns), 3u);
  EXPECT_EQ(server_.queries_for("Kube-DNS.Kube-System.svc.cluster.local."), 3u);
  EXPECT_EQ(server_.queries_for(kKubeDns, Transport::kUdp), 2u);
  EXPECT_EQ(server_.queries_for(kKubeDns, Transport::kTcp), 1u);
  EXPECT_EQ(server_.queries_for("www.example.com"), 1u);
  EXPECT_EQ(server_.queries_for("kube-system.svc.cluster.local"), 0u);
  EXPECT_EQ(server_.queries_by_name(),
            (std::map<std::string, std::uint64_t>{{"kube-dns.kube-system.svc.cluster.local", 3},
                                                  {"www.example.com", 1}}));
  EXPECT_EQ(server_.queries_received(), 4u);
  EXPECT_EQ(server_.udp_queries(), 2u);
  EXPECT_EQ(server_.tcp_queries(), 2u);
  EXPECT_EQ(server_.answers_sent(), 4u);
  EXPECT_TRUE(wait_until([&] { return server_.connections_accepted() == 2; }));
  EXPECT_EQ(server_.last_query(), query_build("www.example.com", LDNS_RR_TYPE_A, 0x4242, false));

  server_.reset_counts();
  EXPECT_EQ(server_.queries_for(kKubeDns), 0u);
  EXPECT_EQ(server_.queries_received(), 0u);
  EXPECT_EQ(server_.answers_sent(), 0u);
  EXPECT_EQ(server_.connections_accepted(), 0u);
  EXPECT_TRUE(server_.last_query().empty());
  ASSERT_NE(ask(kKubeDns, LDNS_RR_TYPE_A, Transport::kTcp), nullptr);
  EXPECT_EQ(server_.queries_for(kKubeDns), 1u);
}

TEST_F(PlainDnsServerTest, WrongIdOverUdpComesInsteadOfOrBeforeTheAnswer) {
  server_.behaviour().wrong_id_udp = true;
  UdpClient client(server_.port());
  client.send(query_build(kKubeDns, LDNS_RR_TYPE_A, 0x1000, false));
  const auto decoy = client.receive(kWait);
  ASSERT_TRUE(decoy.has_value());
  EXPECT_EQ(id_of(*decoy), 0x1001);
  EXPECT_FALSE(client.receive(kSilence).has_value());
  EXPECT_EQ(server_.answers_sent(), 0u);
  PacketPtr tcp = ask(kKubeDns, LDNS_RR_TYPE_A, Transport::kTcp, false, 0x2000);  // TCP: right
  ASSERT_NE(tcp, nullptr);

  server_.behaviour().wrong_id_udp = false;
  server_.behaviour().wrong_id_udp_then_answer = true;
  client.send(query_build(kKubeDns, LDNS_RR_TYPE_A, 0x3000, false));
  const auto first = client.receive(kWait);
  const auto second = client.receive(kWait);
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(id_of(*first), 0x3001);
  EXPECT_EQ(id_of(*second), 0x3000);
}

TEST_F(PlainDnsServerTest, CloseTcpAfterAnswersThenCloses) {
  server_.behaviour().close_tcp_after = 2;
  TcpClient client(server_.port());
  for (std::uint16_t id = 1; id <= 3; ++id) {
    client.send(query_build(kKubeDns, LDNS_RR_TYPE_A, id, false));
  }
  for (std::uint16_t id = 1; id <= 2; ++id) {
    const auto wire = client.receive(kWait);
    ASSERT_TRUE(wire.has_value());
    EXPECT_EQ(id_of(*wire), id);
  }
  EXPECT_TRUE(client.closed_by_peer(kWait));
  EXPECT_TRUE(wait_until([&] { return server_.connections_open() == 0; }));
  EXPECT_EQ(server_.connections_closed_by_server(), 1u);
}

TEST_F(PlainDnsServerTest, DelayHoldsEachAnswerWithoutQueueingOthers) {
  constexpr int kDelayMs = 400;
  constexpr int kQueries = 5;  // one after another they would take 2 s
  server_.behaviour().delay_ms = kDelayMs;
  UdpClient udp(server_.port());
  TcpClient tcp(server_.port());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kQueries; ++i) {
    udp.send(query_build(kKubeDns, LDNS_RR_TYPE_A, static_cast<std::uint16_t>(i), false));
    tcp.send(query_build(kKubeDns, LDNS_RR_TYPE_A, static_cast<std::uint16_t>(i), false));
  }
  for (int i = 0; i < kQueries; ++i) {
    ASSERT_TRUE(udp.receive(kWait).has_value()) << i;
    ASSERT_TRUE(tcp.receive(kWait).has_value()) << i;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, std::chrono::milliseconds(kDelayMs));
  EXPECT_LT(elapsed, std::chrono::milliseconds(kDelayMs * kQueries / 2));
}

TEST_F(PlainDnsServerTest, StopClosesConnectionsAndJoins) {
  TcpClient client(server_.port());
  ASSERT_TRUE(wait_until([&] { return server_.connections_open() == 1; }));
  server_.stop();
  EXPECT_TRUE(client.closed_by_peer(kWait));
  EXPECT_EQ(server_.connections_open(), 0u);
  server_.stop();  // idempotent
}

TEST_F(PlainDnsServerTest, BadInputGetsFormerrNotimpOrNothing) {
  UdpClient client(server_.port());
  Bytes two_questions = query_build(kKubeDns, LDNS_RR_TYPE_A, 9, false);
  two_questions[5] = 2;  // QDCOUNT 2, one question present: unparsable or QDCOUNT != 1
  client.send(two_questions);
  auto wire = client.receive(kWait);
  ASSERT_TRUE(wire.has_value());
  EXPECT_EQ(wire->at(3) & 0x0f, LDNS_RCODE_FORMERR);

  Bytes notify = query_build(kKubeDns, LDNS_RR_TYPE_SOA, 10, false);
  notify[2] = static_cast<std::uint8_t>((notify[2] & 0x87) | (LDNS_PACKET_NOTIFY << 3));
  client.send(notify);
  wire = client.receive(kWait);
  ASSERT_TRUE(wire.has_value());
  EXPECT_EQ(wire->at(3) & 0x0f, LDNS_RCODE_NOTIMPL);

  Bytes response = query_build(kKubeDns, LDNS_RR_TYPE_A, 11, false);
  response[2] |= 0x80;  // QR=1: never answered (no reflection loops)
  client.send(response);
  client.send(Bytes{1, 2, 3});
  EXPECT_FALSE(client.receive(kSilence).has_value());
  EXPECT_EQ(server_.udp_queries(), 4u);
}

TEST(PlainDnsServerAddressTest, ServesOnALoopbackAliasAndIpv6OnAFixedPort) {
  for (const char* address : {"127.0.0.2", "::1"}) {
    SCOPED_TRACE(address);
    PlainDnsServerConfig config;
    config.address = address;
    config.port = free_port_udp_tcp();
    std::unique_ptr<PlainDnsServer> server;
    // free_port_udp_tcp() probed 127.0.0.1: another process may take the port meanwhile.
    for (int i = 0; i < 5 && server == nullptr; ++i) {
      try {
        server = std::make_unique<PlainDnsServer>(config);
      } catch (const std::runtime_error&) {
        config.port = free_port_udp_tcp();
      }
    }
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(server->port(), config.port);
    for (const bool tcp : {false, true}) {
      const auto wire =
          exchange(address, server->port(), query_build(kKubeDns, LDNS_RR_TYPE_A, 5, false), tcp);
      ASSERT_TRUE(wire.has_value()) << tcp;
      PacketPtr pkt = reply_parse(*wire);
      ASSERT_NE(pkt, nullptr);
      EXPECT_EQ(answer_addresses(pkt.get()), std::vector<std::string>{"10.96.0.10"});
    }
    EXPECT_EQ(server->udp_queries(), 1u);
    EXPECT_EQ(server->tcp_queries(), 1u);
    // Nothing listens on 127.0.0.1 for it.
    if (std::string(address) == "127.0.0.2") {
      EXPECT_FALSE(exchange("127.0.0.1", server->port(),
                            query_build(kKubeDns, LDNS_RR_TYPE_A, 6, false), true)
                       .has_value());
    }
  }
}

TEST(PlainDnsServerBinaryTest, KdigGetsAnswersOverUdpAndTcp) {
  Process server({PLAIN_DNS_SERVER_PATH, "--zone", "corp.example", "--record",
                  "intranet.corp.example", "10.1.2.3", "--set-ad"});
  ASSERT_TRUE(server.wait_for_stdout("\n", 5s)) << server.stderr_text();
  std::smatch m;
  const std::string out = server.stdout_text();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(^listening 127\.0\.0\.1:(\d+)\n)"))) << out;
  const std::string port = m[1];
  for (const char* transport : {"+notcp", "+tcp"}) {
    const CaptureResult r = run_capture({"kdig", "@127.0.0.1", "-p", port, "+timeout=2", "+retry=0",
                                         transport, "intranet.corp.example", "A"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Flags: qr aa rd ra ad"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("10.1.2.3"), std::string::npos) << r.out;
  }
  const CaptureResult ptr = run_capture(
      {"kdig", "@127.0.0.1", "-p", port, "+timeout=2", "+retry=0", "+short", "-x", "10.96.0.10"});
  EXPECT_EQ(ptr.out, "kube-dns.kube-system.svc.cluster.local.\n") << ptr.err;
  EXPECT_EQ(server.terminate(5s), 0) << server.stderr_text();
  EXPECT_NE(server.stderr_text().find("3 queries (2 UDP, 1 TCP)"), std::string::npos)
      << server.stderr_text();

  Process bad({PLAIN_DNS_SERVER_PATH, "--record", "host.elsewhere.example", "10.0.0.1"});
  EXPECT_EQ(bad.wait_exit(5s), 2);
}

}  // namespace
}  // namespace dp::testing
