#include "proxy/cached_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "dns/reply.h"
#include "dns/test_packets.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_upstream.h"

namespace dp::proxy {
namespace {

using dns::testing::answer_build;
using dns::testing::Bytes;
using dns::testing::edns_data;
using dns::testing::ldns_parse;
using dns::testing::query_build;
using dns::testing::Records;
using dns::testing::ttls_of;
using std::chrono::milliseconds;
using std::chrono::seconds;
using upstream::UpstreamError;

constexpr const char* kName = "www.example.com.";
const Bytes kEde3 = {0, 15, 0, 2, 0, 3};  // RFC 8914 §4.4 Stale Answer

struct RecordingSink final : ReplySink {
  void reply_send(const ClientRef&, std::span<const std::uint8_t> reply) override {
    sent.emplace_back(reply.begin(), reply.end());
  }
  std::vector<Bytes> sent;
};

Bytes a_answer(std::uint32_t ttl) {
  return answer_build(
      kName, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR,
      Records{{std::string(kName) + " " + std::to_string(ttl) + " IN A 192.0.2.1"}, {}, {}});
}

std::uint16_t id_of(const Bytes& wire) { return dns::testing::u16(wire, 0); }
ldns_pkt_rcode rcode_of(const Bytes& wire) { return ldns_pkt_get_rcode(ldns_parse(wire).get()); }

class ProxyCachedResolverTest : public ::testing::Test {
 protected:
  // A query for kName as a client would send it: mixed case, EDNS, its own ID.
  void ask(std::uint16_t id = 0x1234, const char* name = "WwW.ExAmPlE.cOm.") {
    Bytes wire = query_build(name, LDNS_RR_TYPE_A, 1232);
    wire[0] = static_cast<std::uint8_t>(id >> 8);
    wire[1] = static_cast<std::uint8_t>(id & 0xff);
    resolver_.resolve(dns::testing::parsed(wire), ClientRef{Transport::kUdp, 0, client_, 0});
  }
  void answer_last(const Bytes& answer) { upstream_.answer(upstream_.calls.size() - 1, answer); }
  void fail_last(UpstreamError error) { upstream_.fail(upstream_.calls.size() - 1, error); }

  io::EventLoop loop_;  // never run: the test calls on_deadline() itself
  testing::FakeClock clock_;
  testing::FakeUpstream upstream_;
  RecordingSink sink_;
  QueryStats stats_;
  cache::Cache cache_{cache::CacheOptions{}};
  ResolveOptions options_{};
  SocketAddress client_ = *SocketAddress::parse("127.0.0.1:5300");
  CachedResolver resolver_{loop_, upstream_, sink_, stats_, &cache_, options_, clock_};
};

TEST_F(ProxyCachedResolverTest, ASecondQueryIsAnsweredFromTheCacheWithItsTtlLowered) {
  ask(1);
  ASSERT_EQ(upstream_.calls.size(), 1u);
  answer_last(a_answer(60));
  clock_.advance(seconds(2));
  ask(2, "WWW.EXAMPLE.COM.");
  EXPECT_EQ(upstream_.calls.size(), 1u);  // no second upstream query
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(id_of(sink_.sent[1]), 2);
  EXPECT_EQ(ttls_of(sink_.sent[1]), (std::vector<std::uint32_t>{58}));
  const Bytes asked = query_build("WWW.EXAMPLE.COM.", LDNS_RR_TYPE_A);
  EXPECT_TRUE(std::equal(asked.begin() + 12, asked.end(), sink_.sent[1].begin() + 12));
  EXPECT_EQ(stats_.cache_misses, 1u);
  EXPECT_EQ(stats_.cache_hits, 1u);
}

// RFC 1035 §4.1.1: the upstream may be the authority; we are not. Its AA=1 reaches no client:
// not the one whose miss it answers, not the next one's hit, not a stale answer.
TEST_F(ProxyCachedResolverTest, AnUpstreamsAaIsClearedOnTheMissTheHitAndTheStaleAnswer) {
  ask(1);
  answer_last(dns::testing::with_aa(a_answer(60)));
  ask(2);
  clock_.advance(seconds(61));
  ask(3);
  fail_last(UpstreamError::kConnectFailed);
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(stats_.cache_hits, 1u);
  EXPECT_EQ(stats_.stale_served, 1u);
  for (const Bytes& reply : sink_.sent) {
    EXPECT_EQ(rcode_of(reply), LDNS_RCODE_NOERROR);
    EXPECT_FALSE(dns::testing::aa_of(reply)) << id_of(reply);
  }
}

TEST_F(ProxyCachedResolverTest, HundredIdenticalQueriesInFlightGoUpstreamOnce) {
  for (std::uint16_t id = 0; id < 100; ++id)
    ask(id, id % 2 == 0 ? "www.example.com." : "WWW.example.COM.");
  ASSERT_EQ(upstream_.calls.size(), 1u);
  EXPECT_TRUE(sink_.sent.empty());
  EXPECT_EQ(stats_.coalesced, 99u);
  answer_last(a_answer(60));
  ASSERT_EQ(sink_.sent.size(), 100u);
  for (std::uint16_t id = 0; id < 100; ++id) {
    EXPECT_EQ(id_of(sink_.sent[id]), id);  // each its own ID and its own question case
    EXPECT_EQ(sink_.sent[id][13], id % 2 == 0 ? 'w' : 'W');
  }
  EXPECT_EQ(resolver_.flights(), 0u);
}

TEST_F(ProxyCachedResolverTest, AFailingUpstreamGetsTheStaleAnswerAndIsLeftAloneForAWhile) {
  ask(1);
  answer_last(a_answer(60));
  clock_.advance(seconds(61));
  ask(2);
  ASSERT_EQ(upstream_.calls.size(), 2u);  // expired: the upstream is asked first
  fail_last(UpstreamError::kConnectFailed);
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(rcode_of(sink_.sent[1]), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ttls_of(sink_.sent[1]), (std::vector<std::uint32_t>{dns::kStaleTtl}));
  EXPECT_EQ(edns_data(ldns_parse(sink_.sent[1])), kEde3);
  // Within --servfail-ttl the stale answer comes at once, without asking again.
  clock_.advance(seconds(2));
  ask(3);
  EXPECT_EQ(upstream_.calls.size(), 2u);
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_EQ(edns_data(ldns_parse(sink_.sent[2])), kEde3);
  // After it, the upstream is tried again; its answer replaces the stale one.
  clock_.advance(seconds(options_.ttl.failure_ttl));
  ask(4);
  ASSERT_EQ(upstream_.calls.size(), 3u);
  answer_last(a_answer(120));
  ASSERT_EQ(sink_.sent.size(), 4u);
  EXPECT_EQ(ttls_of(sink_.sent[3]), (std::vector<std::uint32_t>{120}));
  EXPECT_TRUE(edns_data(ldns_parse(sink_.sent[3])).empty());
  EXPECT_EQ(stats_.stale_served, 2u);
}

TEST_F(ProxyCachedResolverTest, ASlowUpstreamGetsTheStaleAnswerOutAfterTheClientTimerAndRefreshes) {
  ask(1);
  answer_last(a_answer(60));
  clock_.advance(seconds(100));
  ask(2);
  ASSERT_EQ(upstream_.calls.size(), 2u);
  clock_.advance(options_.stale_client_timeout - milliseconds(1));
  resolver_.on_deadline();
  EXPECT_EQ(sink_.sent.size(), 1u);  // not yet
  clock_.advance(milliseconds(1));
  resolver_.on_deadline();
  ASSERT_EQ(sink_.sent.size(), 2u);  // RFC 8767 §5: the client-response timer fired
  EXPECT_EQ(id_of(sink_.sent[1]), 2);
  EXPECT_EQ(edns_data(ldns_parse(sink_.sent[1])), kEde3);
  // The refresh goes on; its late answer goes to the cache, not again to the client.
  answer_last(a_answer(300));
  EXPECT_EQ(sink_.sent.size(), 2u);
  ask(3);
  EXPECT_EQ(upstream_.calls.size(), 2u);
  EXPECT_EQ(ttls_of(sink_.sent.back()), (std::vector<std::uint32_t>{300}));
}

TEST_F(ProxyCachedResolverTest, AnUpstreamAnsweringBeforeTheTimerBeatsTheStaleAnswer) {
  ask(1);
  answer_last(a_answer(60));
  clock_.advance(seconds(100));
  ask(2);
  clock_.advance(milliseconds(200));
  answer_last(a_answer(30));
  resolver_.on_deadline();
  clock_.advance(seconds(2));
  resolver_.on_deadline();
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(ttls_of(sink_.sent[1]), (std::vector<std::uint32_t>{30}));
  EXPECT_EQ(stats_.stale_served, 0u);
}

TEST_F(ProxyCachedResolverTest, AHitInTheLastTenthOfItsTtlIsRefreshedInTheBackground) {
  ask(1);
  answer_last(a_answer(100));
  clock_.advance(seconds(89));
  ask(2);
  EXPECT_EQ(upstream_.calls.size(), 1u);  // 11 s of 100 left: not yet
  clock_.advance(seconds(2));
  ask(3);
  ASSERT_EQ(sink_.sent.size(), 3u);  // answered at once from the cache...
  EXPECT_EQ(ttls_of(sink_.sent[2]), (std::vector<std::uint32_t>{9}));
  ASSERT_EQ(upstream_.calls.size(), 2u);  // ...and refreshed
  ask(4);
  EXPECT_EQ(upstream_.calls.size(), 2u);  // one refresh at a time
  answer_last(a_answer(100));
  EXPECT_EQ(sink_.sent.size(), 4u);  // the refresh answers nobody
  clock_.advance(seconds(20));
  ask(5);
  EXPECT_EQ(ttls_of(sink_.sent.back()), (std::vector<std::uint32_t>{80}));
  EXPECT_EQ(upstream_.calls.size(), 2u);
  EXPECT_EQ(stats_.prefetches, 1u);
}

TEST_F(ProxyCachedResolverTest, NegativeAnswersAreCachedForTheSoaMinimum) {
  const std::string soa = "example.com. 3600 IN SOA ns.example.com. admin.example.com. 1 2 3 4 30";
  ask(1);
  answer_last(answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, Records{{}, {soa}, {}}));
  clock_.advance(seconds(20));
  ask(2);
  EXPECT_EQ(upstream_.calls.size(), 1u);
  EXPECT_EQ(rcode_of(sink_.sent[1]), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(ttls_of(sink_.sent[1]), (std::vector<std::uint32_t>{10}));
}

TEST_F(ProxyCachedResolverTest, ATimeoutIsRememberedBrieflyAConnectionFailureIsNot) {
  ask(1);
  fail_last(UpstreamError::kTimeout);
  ASSERT_EQ(sink_.sent.size(), 1u);
  EXPECT_EQ(rcode_of(sink_.sent[0]), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(dns::testing::u16(edns_data(ldns_parse(sink_.sent[0])), 4), 23);  // Network Error
  ask(2);  // RFC 9520 §3.2: not asked again at once
  EXPECT_EQ(upstream_.calls.size(), 1u);
  ASSERT_EQ(sink_.sent.size(), 2u);
  EXPECT_EQ(rcode_of(sink_.sent[1]), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(dns::testing::u16(edns_data(ldns_parse(sink_.sent[1])), 4), 23);
  clock_.advance(seconds(options_.ttl.failure_ttl));
  ask(3);  // an expired failure is not served stale: asked again
  ASSERT_EQ(upstream_.calls.size(), 2u);
  fail_last(UpstreamError::kConnectFailed);
  ask(4);  // the pool's back-off answers these quickly; nothing cached
  EXPECT_EQ(upstream_.calls.size(), 3u);
  EXPECT_EQ(stats_.servfail_upstream, 2u);  // the remembered one counts as a cache hit
}

TEST_F(ProxyCachedResolverTest, TheUpstreamsServfailIsCachedForTheFailureTtl) {
  ask(1);
  answer_last(answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL, Records{}));
  clock_.advance(seconds(options_.ttl.failure_ttl - 1));
  ask(2);
  EXPECT_EQ(upstream_.calls.size(), 1u);
  EXPECT_EQ(rcode_of(sink_.sent[1]), LDNS_RCODE_SERVFAIL);
  clock_.advance(seconds(1));
  ask(3);
  EXPECT_EQ(upstream_.calls.size(), 2u);
}

TEST_F(ProxyCachedResolverTest, ClientsBeyondTheWaitingBoundGetServfailAtOnce) {
  ResolveOptions options;
  options.max_waiting = 2;
  CachedResolver bounded(loop_, upstream_, sink_, stats_, nullptr, options, clock_);
  for (const char* name : {"a.example.", "b.example.", "c.example."}) {
    bounded.resolve(dns::testing::parsed(query_build(name, LDNS_RR_TYPE_A)),
                    ClientRef{Transport::kUdp, 0, client_, 0});
  }
  EXPECT_EQ(upstream_.calls.size(), 2u);
  ASSERT_EQ(sink_.sent.size(), 1u);
  EXPECT_EQ(rcode_of(sink_.sent[0]), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(stats_.waiting_overloaded, 1u);
}

TEST_F(ProxyCachedResolverTest, WithoutACacheEveryQueryGoesUpstreamButIdenticalOnesOnce) {
  CachedResolver uncached(loop_, upstream_, sink_, stats_, nullptr, options_, clock_);
  const ClientRef client{Transport::kUdp, 0, client_, 0};
  const auto query = dns::testing::parsed(query_build(kName, LDNS_RR_TYPE_A));
  uncached.resolve(dns::Query(query), client);
  uncached.resolve(dns::Query(query), client);
  ASSERT_EQ(upstream_.calls.size(), 1u);
  answer_last(a_answer(60));
  EXPECT_EQ(sink_.sent.size(), 2u);
  uncached.resolve(dns::Query(query), client);
  EXPECT_EQ(upstream_.calls.size(), 2u);
}

// Issue #15: a forward zone's queries go to its own upstream, under its own cache tag: the
// default route's answer for the same name is not served for it, nor the other way round.
TEST_F(ProxyCachedResolverTest, ARouteUsesItsOwnUpstreamAndCacheTag) {
  testing::FakeUpstream zone_upstream;
  const RouteTarget zone{&zone_upstream, RouteRules{.cache_tag = 1, .ttl = options_.ttl}};
  const ClientRef client{Transport::kUdp, 0, client_, 0};
  const auto query = dns::testing::parsed(query_build(kName, LDNS_RR_TYPE_A));
  resolver_.resolve(dns::Query(query), client);  // default route
  answer_last(a_answer(60));
  resolver_.resolve(dns::Query(query), client, zone);
  ASSERT_EQ(zone_upstream.calls.size(), 1u);  // not the default route's cached answer
  EXPECT_EQ(upstream_.calls.size(), 1u);
  zone_upstream.answer(0, a_answer(30));
  resolver_.resolve(dns::Query(query), client, zone);  // the zone's own entry now
  resolver_.resolve(dns::Query(query), client);        // and the default route's
  EXPECT_EQ(zone_upstream.calls.size(), 1u);
  EXPECT_EQ(upstream_.calls.size(), 1u);
  ASSERT_EQ(sink_.sent.size(), 4u);
  EXPECT_EQ(ttls_of(sink_.sent[2]), (std::vector<std::uint32_t>{30}));
  EXPECT_EQ(ttls_of(sink_.sent[3]), (std::vector<std::uint32_t>{60}));
}

// A zone with cache = false: every query goes to its servers (identical ones in flight once).
TEST_F(ProxyCachedResolverTest, ARouteWithoutCacheIsNeverServedFromIt) {
  RouteRules rules{.cache_tag = 2, .cache = false, .ttl = options_.ttl};
  const RouteTarget zone{&upstream_, rules};
  const ClientRef client{Transport::kUdp, 0, client_, 0};
  const auto query = dns::testing::parsed(query_build(kName, LDNS_RR_TYPE_A));
  resolver_.resolve(dns::Query(query), client, zone);
  resolver_.resolve(dns::Query(query), client, zone);
  ASSERT_EQ(upstream_.calls.size(), 1u);
  answer_last(a_answer(60));
  EXPECT_EQ(sink_.sent.size(), 2u);
  resolver_.resolve(dns::Query(query), client, zone);
  EXPECT_EQ(upstream_.calls.size(), 2u);
  EXPECT_EQ(cache_.stats().entries, 0u);
}

// Plain DNS hops (tcp, udp) authenticate nothing: their AD=1 reaches no client, neither on the
// miss nor on a hit. The default DoT route hands it on (the channel is authenticated) to a
// client that set AD (RFC 6840 §5.8).
TEST_F(ProxyCachedResolverTest, ARouteOverPlainDnsClearsAdOnTheMissAndTheHit) {
  const RouteTarget plain{&upstream_,
                          RouteRules{.cache_tag = 3, .clear_ad = true, .ttl = options_.ttl}};
  const ClientRef client{Transport::kUdp, 0, client_, 0};
  auto wire = query_build(kName, LDNS_RR_TYPE_A);
  wire[3] |= 0x20;  // AD=1
  const auto query = dns::testing::parsed(wire);
  resolver_.resolve(dns::Query(query), client, plain);
  answer_last(dns::testing::with_ad(a_answer(60)));
  resolver_.resolve(dns::Query(query), client, plain);
  resolver_.resolve(dns::Query(query), client);
  answer_last(dns::testing::with_ad(a_answer(60)));
  ASSERT_EQ(sink_.sent.size(), 3u);
  EXPECT_FALSE(dns::testing::ad_of(sink_.sent[0]));
  EXPECT_FALSE(dns::testing::ad_of(sink_.sent[1]));
  EXPECT_TRUE(dns::testing::ad_of(sink_.sent[2]));
}

// A zone's own max_negative_ttl (Kubernetes search-path misses: 5 s) bounds its NXDOMAINs.
TEST_F(ProxyCachedResolverTest, ARoutesTtlPolicyBoundsItsNegativeAnswers) {
  dns::TtlPolicy ttl = options_.ttl;
  ttl.max_negative_ttl = 5;
  const RouteTarget zone{&upstream_, RouteRules{.cache_tag = 4, .ttl = ttl}};
  const ClientRef client{Transport::kUdp, 0, client_, 0};
  const auto query = dns::testing::parsed(query_build(kName, LDNS_RR_TYPE_A));
  resolver_.resolve(dns::Query(query), client, zone);
  answer_last(answer_build(kName, LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN,
                           Records{{}, {"example.com. 300 IN SOA ns. h. 1 2 3 4 300"}, {}}));
  clock_.advance(seconds(4));
  resolver_.resolve(dns::Query(query), client, zone);
  EXPECT_EQ(upstream_.calls.size(), 1u);
  clock_.advance(seconds(2));
  resolver_.resolve(dns::Query(query), client, zone);  // past 5 s: asked again (stale aside)
  EXPECT_EQ(upstream_.calls.size(), 2u);
}

}  // namespace
}  // namespace dp::proxy
