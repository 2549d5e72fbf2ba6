#include "proxy/query_handler.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "dns/test_packets.h"
#include "dns/wire.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_upstream.h"

namespace dp::proxy {
namespace {

using dns::testing::Bytes;
using dns::testing::ldns_parse;
using dns::testing::plain_query;
using dns::testing::upstream_answer;

struct RecordingSink final : ReplySink {
  struct Sent {
    ClientRef client;
    Bytes reply;
  };
  void reply_send(const ClientRef& client, std::span<const std::uint8_t> reply) override {
    sent.push_back(Sent{client, Bytes(reply.begin(), reply.end())});
  }
  std::vector<Sent> sent;
};

class ProxyQueryHandlerTest : public ::testing::Test {
 protected:
  ClientRef udp_client() const {
    return ClientRef{Transport::kUdp, 0, *SocketAddress::parse("127.0.0.1:40000"), 0};
  }
  ClientRef tcp_client() const {
    return ClientRef{Transport::kTcp, 0, *SocketAddress::parse("127.0.0.1:40001"), 7};
  }

  io::EventLoop loop_;  // never run: nothing here waits for a timer
  testing::FakeClock clock_;
  testing::FakeUpstream upstream_;
  RecordingSink sink_;
  QueryStats stats_;
  CachedResolver resolver_{loop_, upstream_, sink_, stats_, nullptr, ResolveOptions{}, clock_};
  QueryHandler handler_{resolver_, sink_, stats_};
};

TEST_F(ProxyQueryHandlerTest, ForwardsLowercasedQuestionAndRewritesAnswerForClient) {
  handler_.handle(plain_query(), udp_client());
  ASSERT_EQ(upstream_.calls.size(), 1u);
  EXPECT_TRUE(sink_.sent.empty());  // nothing until the upstream answers
  const auto& call = upstream_.calls[0];
  EXPECT_EQ(call.question.qtype, 1);
  // The upstream query carries the lowercased name (one cache key for every 0x20 variant).
  EXPECT_EQ(call.question.qname_lower, std::string("\3www\7example\3com\0", 17));
  auto sent = ldns_parse(call.query);
  char* qname = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(sent.get()), 0)));
  EXPECT_STREQ(qname, "www.example.com.");
  free(qname);                             // NOLINT: ldns allocates with malloc
  EXPECT_EQ(call.query.size() % 128, 0u);  // RFC 8467 padding

  upstream_.answer(0, upstream_answer(2));
  ASSERT_EQ(sink_.sent.size(), 1u);
  const Bytes& reply = sink_.sent[0].reply;
  EXPECT_EQ(dns::wire_get_id(reply), 0xbeef);
  // The client's 0x20 case comes back in the question.
  const Bytes question = dns::testing::plain_question();
  EXPECT_TRUE(std::equal(question.begin(), question.end(), reply.begin() + 12));
  auto pkt = ldns_parse(reply);
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 2);
  EXPECT_EQ(stats_.queries_udp, 1u);
  EXPECT_EQ(stats_.replies_by_rcode[0], 1u);
}

TEST_F(ProxyQueryHandlerTest, LargeAnswerIsTruncatedOverUdpAndCompleteOverTcp) {
  handler_.handle(plain_query(), udp_client());
  handler_.handle(plain_query(), tcp_client());
  ASSERT_EQ(upstream_.calls.size(), 1u);  // the same question in flight goes upstream once
  const Bytes big = upstream_answer(100);
  ASSERT_GT(big.size(), 512u);
  upstream_.answer(0, big);
  ASSERT_EQ(sink_.sent.size(), 2u);  // each client gets the answer cut to its own limit
  const Bytes& udp = sink_.sent[0].reply;
  EXPECT_LE(udp.size(), 512u);
  EXPECT_NE(udp[2] & 0x02, 0) << "TC must be set";
  const Bytes& tcp = sink_.sent[1].reply;
  EXPECT_EQ(tcp[2] & 0x02, 0);
  EXPECT_EQ(ldns_pkt_ancount(ldns_parse(tcp).get()), 100);
  EXPECT_EQ(stats_.replies_truncated, 1u);
}

TEST_F(ProxyQueryHandlerTest, UpstreamFailureIsServfailWithEde) {
  Bytes query = plain_query();
  dns::testing::add_opt(query, 1232, 0, 0, false);
  handler_.handle(query, udp_client());
  upstream_.fail(0, upstream::UpstreamError::kTlsVerify);
  ASSERT_EQ(sink_.sent.size(), 1u);
  auto pkt = ldns_parse(sink_.sent[0].reply);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(dns::wire_get_id(sink_.sent[0].reply), 0xbeef);
  // EDE 22 (No Reachable Authority) in the OPT RDATA: code 15, length 2, info 22.
  const Bytes edns = dns::testing::edns_data(pkt);
  ASSERT_EQ(edns.size(), 6u);
  EXPECT_EQ(dns::testing::u16(edns, 0), 15);
  EXPECT_EQ(dns::testing::u16(edns, 4), 22);
  EXPECT_EQ(stats_.servfail_upstream, 1u);
}

TEST_F(ProxyQueryHandlerTest, BadInputIsAnsweredLocallyOrDroppedNeverForwarded) {
  Bytes notify = plain_query();
  notify[2] = static_cast<std::uint8_t>((notify[2] & 0x87) | (4 << 3));  // opcode NOTIFY
  handler_.handle(notify, udp_client());
  Bytes response = plain_query();
  response[2] |= 0x80;  // QR=1
  handler_.handle(response, tcp_client());
  handler_.handle(Bytes{1, 2, 3}, udp_client());

  EXPECT_TRUE(upstream_.calls.empty());
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(ldns_pkt_get_rcode(ldns_parse(sink_.sent[0].reply).get()), LDNS_RCODE_NOTIMPL);
  // Dropped: an empty reply, so a TCP client's in-flight slot is still freed.
  EXPECT_TRUE(sink_.sent[1].reply.empty());
  EXPECT_EQ(sink_.sent[1].client.tcp_conn, 7u);
  EXPECT_TRUE(sink_.sent[2].reply.empty());
  EXPECT_EQ(stats_.rejected[static_cast<std::size_t>(dns::QueryError::kNotQuery)], 1u);
  EXPECT_EQ(stats_.rejected[static_cast<std::size_t>(dns::QueryError::kIsResponse)], 1u);
  EXPECT_EQ(stats_.rejected[static_cast<std::size_t>(dns::QueryError::kTooShort)], 1u);
}

class ProxyQueryGuardTest : public ProxyQueryHandlerTest {
 protected:
  QueryHandler with(QueryPolicy policy) {
    return QueryHandler(resolver_, sink_, stats_, std::move(policy), &clock_);
  }
  static QueryPolicy policy_for(const std::vector<std::string>& rules) {
    std::vector<policy::AclRule> parsed;
    for (const auto& r : rules) parsed.push_back(*policy::acl_rule_parse(r));
    QueryPolicy p = QueryPolicy::open();
    p.acl = std::make_shared<const policy::Acl>(std::move(parsed));
    return p;
  }
  ClientRef from(const char* address, Transport transport = Transport::kUdp) const {
    return ClientRef{transport, 0, *SocketAddress::parse(address), 7};
  }
};

TEST_F(ProxyQueryGuardTest, OutsideTheAclIsRefusedWithEde18OrDropped) {
  auto handler = with(policy_for({"192.0.2.0/24 drop", "127.0.0.0/8 allow"}));
  Bytes query = plain_query();
  dns::testing::add_opt(query, 1232, 0, 0, false);
  handler.handle(query, from("198.51.100.9:5300"));  // no rule: refused
  handler.handle(query, from("192.0.2.1:5300"));     // drop rule
  handler.handle(query, from("127.0.0.1:5300"));     // allowed
  ASSERT_EQ(sink_.sent.size(), 2u);
  auto refused = ldns_parse(sink_.sent[0].reply);
  EXPECT_EQ(ldns_pkt_get_rcode(refused.get()), LDNS_RCODE_REFUSED);
  const Bytes edns = dns::testing::edns_data(refused);
  ASSERT_EQ(edns.size(), 6u);
  EXPECT_EQ(dns::testing::u16(edns, 4), 18);  // EDE Prohibited
  EXPECT_TRUE(sink_.sent[1].reply.empty());   // dropped, slot freed
  EXPECT_EQ(upstream_.calls.size(), 1u);      // only the allowed one went upstream
  EXPECT_EQ(stats_.acl_refused, 1u);
  EXPECT_EQ(stats_.acl_dropped, 1u);
}

TEST_F(ProxyQueryGuardTest, UdpFloodIsLimitedPerNetworkWithSlipsAndTcpIsNot) {
  policy::RateLimitOptions options;
  options.queries_per_second = 10;
  options.slip = 2;
  policy::RateLimiter limiter(options);
  QueryPolicy p = QueryPolicy::open();
  p.rate_limiter = &limiter;
  auto handler = with(p);
  for (int i = 0; i < 30; ++i) handler.handle(plain_query(), from("203.0.113.5:5300"));
  EXPECT_EQ(stats_.cache_misses, 10u);    // the burst got past the guard
  EXPECT_EQ(upstream_.calls.size(), 1u);  // as one upstream query: they are identical
  EXPECT_EQ(stats_.rate_limited, 10u);
  EXPECT_EQ(stats_.rate_slipped, 10u);
  // A slip is an empty TC=1 answer with the client's ID and question.
  const auto& slip = std::find_if(sink_.sent.begin(), sink_.sent.end(),
                                  [](const auto& s) { return !s.reply.empty(); });
  ASSERT_NE(slip, sink_.sent.end());
  auto pkt = ldns_parse(slip->reply);
  EXPECT_TRUE(ldns_pkt_tc(pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 0);
  EXPECT_EQ(ldns_pkt_id(pkt.get()), 0xbeef);
  // Another network, and TCP from the same one, are not limited.
  handler.handle(plain_query(), from("203.0.114.5:5300"));
  handler.handle(plain_query(), from("203.0.113.5:5300", Transport::kTcp));
  EXPECT_EQ(stats_.cache_misses, 12u);
  // A second later the bucket has refilled.
  clock_.advance(std::chrono::seconds(1));
  handler.handle(plain_query(), from("203.0.113.5:5300"));
  EXPECT_EQ(stats_.cache_misses, 13u);
}

TEST_F(ProxyQueryGuardTest, LocalZonesAreAnsweredHereNeverUpstream) {
  QueryPolicy p = QueryPolicy::open();
  p.names = std::make_shared<const NameRoutes>(NameRoutes::builtin(true));
  auto handler = with(p);
  ldns_pkt* raw = nullptr;
  ldns_pkt_query_new_frm_str(&raw, "LocalHost.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
  dns::testing::PacketPtr query(raw);
  handler.handle(dns::testing::to_wire(query.get()), from("127.0.0.1:5300"));
  EXPECT_TRUE(upstream_.calls.empty());
  ASSERT_EQ(sink_.sent.size(), 1u);
  auto pkt = ldns_parse(sink_.sent[0].reply);
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 1);
  EXPECT_EQ(stats_.local_answers, 1u);
}

TEST_F(ProxyQueryGuardTest, BlocklistNamesAreAnsweredHereNeverUpstream) {
  auto list = std::make_shared<policy::Blocklist>();
  ASSERT_TRUE(list->add_text("example.com\n", "test").has_value());
  QueryPolicy p = QueryPolicy::open();
  p.blocklist = list;
  auto handler = with(p);
  Bytes query = plain_query();  // WwW.ExAmple.COM: a subdomain, in mixed case
  dns::testing::add_opt(query, 1232, 0, 0, false);
  handler.handle(query, from("127.0.0.1:5300"));
  EXPECT_TRUE(upstream_.calls.empty());
  ASSERT_EQ(sink_.sent.size(), 1u);
  auto nxdomain = ldns_parse(sink_.sent[0].reply);
  EXPECT_EQ(ldns_pkt_get_rcode(nxdomain.get()), LDNS_RCODE_NXDOMAIN);
  const Bytes edns = dns::testing::edns_data(nxdomain);
  ASSERT_EQ(edns.size(), 6u);
  EXPECT_EQ(dns::testing::u16(edns, 4), 15);  // EDE Blocked
  EXPECT_EQ(stats_.blocked, 1u);
  EXPECT_EQ(stats_.replies_by_rcode[3], 1u);

  // A reload swaps the list and the answer: null now, and another name is blocked instead.
  auto other = std::make_shared<policy::Blocklist>();
  ASSERT_TRUE(other->add_text("example.net\n", "test").has_value());
  handler.update_blocklist(other, dns::BlockedAnswer::kNull);
  handler.handle(query, from("127.0.0.1:5300"));
  EXPECT_EQ(upstream_.calls.size(), 1u);  // example.com is no longer blocked
  ldns_pkt* raw = nullptr;
  ldns_pkt_query_new_frm_str(&raw, "Ads.Example.NET.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
  dns::testing::PacketPtr blocked(raw);
  handler.handle(dns::testing::to_wire(blocked.get()), from("127.0.0.1:5300", Transport::kTcp));
  EXPECT_EQ(upstream_.calls.size(), 1u);
  ASSERT_EQ(sink_.sent.size(), 2u);
  auto null = ldns_parse(sink_.sent[1].reply);
  EXPECT_EQ(ldns_pkt_get_rcode(null.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(null.get()), 1);
  EXPECT_EQ(stats_.blocked, 2u);

  handler.update_blocklist(nullptr, dns::BlockedAnswer::kNxDomain);  // none at all
  handler.handle(dns::testing::to_wire(blocked.get()), from("127.0.0.1:5300"));
  EXPECT_EQ(upstream_.calls.size(), 2u);
  EXPECT_EQ(stats_.blocked, 2u);
}

// Issue #15: forward zones. Zone 0 cluster.local, zone 1 10.in-addr.arpa (taking over the
// built-in zone), zone 2 corp.example, zone 3 www.corp.example back to the default upstreams.
class ProxyQueryRouteTest : public ProxyQueryGuardTest {
 protected:
  ProxyQueryRouteTest() {
    std::vector<zones::ForwardZoneEntry> entries{
        {zones::name_text_to_wire("cluster.local"), false},
        {zones::name_text_to_wire("10.in-addr.arpa"), false},
        {zones::name_text_to_wire("corp.example"), false},
        {zones::name_text_to_wire("www.corp.example"), true}};
    zones::RouteTableBuild built =
        zones::route_table_build(entries, dns::LocalZones::default_apexes());
    auto local = zones::local_data_build({"printer.corp.example 300 A 10.1.2.3"}, {});
    EXPECT_TRUE(local.has_value());
    policy_ = QueryPolicy::open();
    policy_.names = std::make_shared<const NameRoutes>(
        NameRoutes{std::move(*local), std::move(built.table), std::move(built.local_zones)});
    for (auto* zone : {&cluster_, &reverse_, &corp_}) {
      ZoneRoute route;
      route.target = RouteTarget{zone, RouteRules{.cache_tag = 1}};
      route.servers = {*SocketAddress::parse(zone == &corp_ ? "127.0.0.1:5353" : "10.96.0.10:53")};
      route.log_slot = static_cast<std::uint16_t>(routes_.size() + 1);
      routes_.push_back(route);
    }
    routes_.push_back(ZoneRoute{RouteTarget{&upstream_, {}}, {}, 4});
  }
  void ask(QueryHandler& handler, const char* name, ldns_rr_type type = LDNS_RR_TYPE_A,
           const char* from_address = "127.0.0.1:5300") {
    handler.handle(dns::testing::query_build(name, type), from(from_address));
  }
  QueryHandler routed() {
    QueryHandler handler = with(policy_);
    handler.set_zone_routes(routes_);
    return handler;
  }

  QueryPolicy policy_;
  testing::FakeUpstream cluster_;
  testing::FakeUpstream reverse_;
  testing::FakeUpstream corp_;
  std::vector<ZoneRoute> routes_;
};

TEST_F(ProxyQueryRouteTest, TheLongestLabelAlignedZoneWinsAndNothingElseGetsItsNames) {
  QueryHandler handler = routed();
  ask(handler, "kube-dns.kube-system.svc.Cluster.Local.");
  ask(handler, "cluster.local.");
  ask(handler, "xcluster.local.");      // not under cluster.local: default upstreams
  ask(handler, "git.corp.example.");    // corp.example
  ask(handler, "a.www.corp.example.");  // www.corp.example: back to the default upstreams
  EXPECT_EQ(cluster_.calls.size(), 2u);
  EXPECT_EQ(corp_.calls.size(), 1u);
  ASSERT_EQ(upstream_.calls.size(), 2u);
  EXPECT_EQ(upstream_.calls[0].question.qname_lower, zones::name_text_to_wire("xcluster.local"));
  EXPECT_EQ(upstream_.calls[1].question.qname_lower,
            zones::name_text_to_wire("a.www.corp.example"));
}

TEST_F(ProxyQueryRouteTest, AForwardedReverseZoneTakesOverTheBuiltInOneButNotLoopback) {
  QueryHandler handler = routed();
  ask(handler, "10.0.96.10.in-addr.arpa.", LDNS_RR_TYPE_PTR);   // built-in 10.in-addr.arpa: ours
  ask(handler, "1.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR);    // loopback: always local
  ask(handler, "1.1.168.192.in-addr.arpa.", LDNS_RR_TYPE_PTR);  // still built-in
  EXPECT_EQ(reverse_.calls.size(), 1u);
  EXPECT_TRUE(upstream_.calls.empty());
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(stats_.local_answers, 2u);
  EXPECT_EQ(sink_.sent[0].client.route, kRouteLocal);
  EXPECT_EQ(ldns_pkt_get_rcode(ldns_parse(sink_.sent[0].reply).get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_get_rcode(ldns_parse(sink_.sent[1].reply).get()), LDNS_RCODE_NXDOMAIN);
}

TEST_F(ProxyQueryRouteTest, LocalDataIsAnsweredHereAndItsOtherTypesGoToTheZone) {
  QueryHandler handler = routed();
  ask(handler, "PRINTER.corp.example.");
  ASSERT_EQ(sink_.sent.size(), 1u);
  auto pkt = ldns_parse(sink_.sent[0].reply);
  EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
  EXPECT_EQ(ldns_pkt_ancount(pkt.get()), 1);
  EXPECT_TRUE(corp_.calls.empty());
  ask(handler, "printer.corp.example.", LDNS_RR_TYPE_AAAA);  // no local AAAA: the zone's
  EXPECT_EQ(corp_.calls.size(), 1u);
}

TEST_F(ProxyQueryRouteTest, AZonesOwnServerAskingForItsZoneGetsServfailNotALoop) {
  QueryHandler handler = routed();
  ask(handler, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A, "10.96.0.10:41000");
  ask(handler, "example.com.", LDNS_RR_TYPE_A, "10.96.0.10:41001");  // not its zone: fine
  EXPECT_TRUE(cluster_.calls.empty());
  EXPECT_EQ(upstream_.calls.size(), 1u);
  EXPECT_EQ(stats_.loop_guarded, 1u);
  ASSERT_EQ(sink_.sent.size(), 1u);
  EXPECT_EQ(ldns_pkt_get_rcode(ldns_parse(sink_.sent[0].reply).get()), LDNS_RCODE_SERVFAIL);
}

// A zone served on 127.0.0.1, where local clients ask from too: only a query identical to one
// already waiting on that server is taken for ours coming back.
TEST_F(ProxyQueryRouteTest, OnTheDefaultLoopbackOnlyOurOwnQueryComingBackIsALoop) {
  QueryHandler handler = routed();
  ask(handler, "git.corp.example.", LDNS_RR_TYPE_A, "127.0.0.1:41000");
  ask(handler, "wiki.corp.example.", LDNS_RR_TYPE_A, "127.0.0.1:41001");
  EXPECT_EQ(corp_.calls.size(), 2u);
  EXPECT_EQ(stats_.loop_guarded, 0u);
  ask(handler, "git.corp.example.", LDNS_RR_TYPE_A, "127.0.0.1:41002");  // in flight already
  EXPECT_EQ(corp_.calls.size(), 2u);
  EXPECT_EQ(stats_.loop_guarded, 1u);
  ask(handler, "git.corp.example.", LDNS_RR_TYPE_A, "127.0.0.2:41003");  // another client
  EXPECT_EQ(stats_.loop_guarded, 1u);
  EXPECT_EQ(stats_.coalesced, 1u);
}

TEST_F(ProxyQueryRouteTest, TheBlocklistAppliesBeforeAForwardZone) {
  auto list = std::make_shared<policy::Blocklist>();
  ASSERT_TRUE(list->add_text("tracker.corp.example\n", "test").has_value());
  policy_.blocklist = list;
  QueryHandler handler = routed();
  ask(handler, "tracker.corp.example.");
  EXPECT_TRUE(corp_.calls.empty());
  EXPECT_EQ(stats_.blocked, 1u);
}

// A forwarded query carries its zone's route for the query log.
TEST_F(ProxyQueryRouteTest, RepliesSayWhichRouteAnswered) {
  QueryHandler handler = routed();
  ask(handler, "kubernetes.default.svc.cluster.local.");
  cluster_.answer(0, dns::testing::answer_build("kubernetes.default.svc.cluster.local.",
                                                LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR,
                                                dns::testing::Records{{"kubernetes.default.svc."
                                                                       "cluster.local. 5 IN A "
                                                                       "10.96.0.1"},
                                                                      {},
                                                                      {}}));
  ASSERT_EQ(sink_.sent.size(), 1u);
  EXPECT_EQ(sink_.sent[0].client.route, 1);
}

}  // namespace
}  // namespace dp::proxy
