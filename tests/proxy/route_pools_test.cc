#include "proxy/route_pools.h"

#include <gtest/gtest.h>

#include "dns/reply.h"
#include "fakes/fake_clock.h"
#include "fakes/memory_dot_server.h"
#include "fakes/shared_pki.h"

namespace dp::proxy {
namespace {

using testing::Bytes;
using testing::FakeNetwork;

// Route pools over an in-memory network of DoT servers: the default route and two zones.
class ProxyRoutePoolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& pki = testing::SharedPki::get().pki;
    testing::MemoryServerOptions server;
    server.cert_file = pki.good.cert_file;
    server.key_file = pki.good.key_file;
    for (const auto& address : {default_, corp_, corp_moved_, lab_}) net_.serve(address, server);
    pools_ = std::make_unique<RoutePools>(
        loop_, clock_, net_.factory(), upstream::DatagramFactory{},
        specs({{"", default_}, {"corp.example", corp_}, {"lab.example", lab_}}),
        testing::SharedPki::get().credentials);
  }
  void TearDown() override { pools_.reset(); }

  static std::vector<RoutePoolSpec> specs(
      const std::vector<std::pair<std::string, SocketAddress>>& routes) {
    std::vector<RoutePoolSpec> out;
    for (const auto& [name, address] : routes) {
      out.push_back(RoutePoolSpec{name,
                                  upstream::Transport::kTls,
                                  {upstream::ServerSpec{address, testing::kSharedPkiName}},
                                  {}});
    }
    return out;
  }
  std::size_t queries_to(const SocketAddress& server) const {
    std::size_t n = 0;
    for (const auto& s : net_.streams()) {
      if (s->remote == server && s->server) n += s->server->queries().size();
    }
    return n;
  }
  void resolve(std::size_t slot, const std::string& name) {
    const Bytes query = testing::dot_query(name);
    const auto parsed = dns::query_parse(query);
    ASSERT_TRUE(parsed.has_value());
    pools_->route(slot).resolve(
        query, parsed->question,
        [this](const upstream::UpstreamResult& result) { answered_ += result ? 1 : 0; });
  }

  const SocketAddress default_ = *SocketAddress::parse("127.0.0.1:853");
  const SocketAddress corp_ = *SocketAddress::parse("127.0.0.2:853");
  const SocketAddress corp_moved_ = *SocketAddress::parse("127.0.0.3:853");
  const SocketAddress lab_ = *SocketAddress::parse("127.0.0.4:853");
  io::EventLoop loop_;
  testing::FakeClock clock_;
  FakeNetwork net_;
  int answered_ = 0;
  std::unique_ptr<RoutePools> pools_;
};

TEST_F(ProxyRoutePoolsTest, EachRouteSendsToItsOwnServersOnly) {
  resolve(0, "a.test");
  resolve(1, "b.test");
  resolve(1, "c.test");
  net_.pump();
  EXPECT_EQ(answered_, 3);
  EXPECT_EQ(queries_to(default_), 1u);
  EXPECT_EQ(queries_to(corp_), 2u);
  EXPECT_EQ(queries_to(lab_), 0u);
  const auto status = pools_->status();
  ASSERT_EQ(status.size(), 3u);
  EXPECT_EQ(status[1].name, "corp.example");
  EXPECT_EQ(status[1].stats.queries, 2u);
  EXPECT_EQ(pools_->stats().queries, 3u);
}

// A reload keeps a zone that stays (its pools, hence its connections), sends a zone whose
// servers changed to its new servers, and lets a removed zone finish its query before it is freed.
TEST_F(ProxyRoutePoolsTest, AReloadKeepsMovesAndDrainsZones) {
  resolve(2, "pending.test");  // on lab.example, not pumped: still pending at the reload
  upstream::Upstream* corp_before = &pools_->route(1);
  pools_->reload(testing::SharedPki::get().credentials,
                 specs({{"", default_}, {"corp.example", corp_moved_}}));
  EXPECT_EQ(pools_->size(), 2u);
  EXPECT_EQ(&pools_->route(1), corp_before);  // the same zone: its pools object stays
  EXPECT_EQ(pools_->pending(), 1u);           // lab.example's query still counts
  resolve(1, "moved.test");
  net_.pump();
  EXPECT_EQ(answered_, 2);  // lab.example's query was answered after its zone was removed
  EXPECT_EQ(queries_to(corp_), 0u);
  EXPECT_EQ(queries_to(corp_moved_), 1u);
  EXPECT_EQ(queries_to(lab_), 1u);
  pools_->removed_reap();
  EXPECT_EQ(pools_->pending(), 0u);
  EXPECT_EQ(pools_->stats().queries, 2u);  // the freed zone's counters are kept
}

TEST_F(ProxyRoutePoolsTest, AZoneOfTransportUpstreamHasNoPool) {
  std::vector<RoutePoolSpec> routes = specs({{"", default_}});
  routes.push_back(RoutePoolSpec{"www.corp.example", upstream::Transport::kTls, {}, {}});
  pools_->reload(testing::SharedPki::get().credentials, routes);
  EXPECT_EQ(pools_->size(), 2u);
  EXPECT_EQ(pools_->status().size(), 1u);  // only the default route has servers to show
}

}  // namespace
}  // namespace dp::proxy
