#include "proxy/upstream_pools.h"

#include <gtest/gtest.h>

#include <deque>

#include "dns/reply.h"
#include "fakes/fake_clock.h"
#include "fakes/memory_dot_server.h"
#include "fakes/shared_pki.h"

namespace dp::proxy {
namespace {

using testing::Bytes;
using testing::FakeNetwork;

// Pools over an in-memory network: the servers answer when the test pumps the network, so a
// query stays pending until then.
class ProxyUpstreamPoolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& pki = testing::SharedPki::get().pki;
    testing::MemoryServerOptions server;
    server.cert_file = pki.good.cert_file;
    server.key_file = pki.good.key_file;
    net_.serve(first_, server);
    net_.serve(second_, server);
    pools_ = std::make_unique<UpstreamPools>(loop_, clock_, upstream::Transport::kTls,
                                             net_.factory(), upstream::DatagramFactory{},
                                             specs({first_}), credentials(), options_);
  }
  // Nothing may reach a pool once it is gone: the network goes first.
  void TearDown() override { pools_.reset(); }

  static std::shared_ptr<const tls::ClientCredentials> credentials() {
    return testing::SharedPki::get().credentials;
  }
  static std::vector<upstream::ServerSpec> specs(const std::vector<SocketAddress>& addresses) {
    std::vector<upstream::ServerSpec> out;
    for (const auto& a : addresses) out.push_back(upstream::ServerSpec{a, testing::kSharedPkiName});
    return out;
  }

  std::size_t queries_to(const SocketAddress& server) const {
    std::size_t n = 0;
    for (const auto& s : net_.streams()) {
      if (s->remote == server && s->server) n += s->server->queries().size();
    }
    return n;
  }

  // Sends a query through the pools; its answer (or error) count lands in answered_.
  void resolve(const std::string& name) {
    const Bytes query = testing::dot_query(name);
    const auto parsed = dns::query_parse(query);
    ASSERT_TRUE(parsed.has_value());
    pools_->resolve(query, parsed->question, [this](const upstream::UpstreamResult& result) {
      answered_ += result ? 1 : 0;
    });
  }

  const SocketAddress first_ = *SocketAddress::parse("127.0.0.1:853");
  const SocketAddress second_ = *SocketAddress::parse("127.0.0.2:853");
  io::EventLoop loop_;
  testing::FakeClock clock_;
  FakeNetwork net_;
  upstream::PoolOptions options_;
  // Other pool options: what makes a reload start a new pool.
  upstream::PoolOptions other_options(const upstream::PoolOptions& from) const {
    upstream::PoolOptions out = from;
    out.connections_per_upstream = from.connections_per_upstream + 1;
    return out;
  }
  int answered_ = 0;
  std::unique_ptr<UpstreamPools> pools_;
};

TEST_F(ProxyUpstreamPoolsTest, TheSameServersAndOptionsKeepThePoolAndItsConnections) {
  resolve("a.test");
  net_.pump();
  ASSERT_EQ(answered_, 1);
  const upstream::Pool* before = &pools_->current();
  EXPECT_FALSE(pools_->reload(credentials(), specs({first_}), options_));
  EXPECT_EQ(&pools_->current(), before);
  EXPECT_EQ(pools_->retired(), 0u);
  resolve("b.test");
  net_.pump();
  EXPECT_EQ(answered_, 2);
  EXPECT_EQ(net_.streams().size(), 1u);  // the warm connection served the second query too
}

TEST_F(ProxyUpstreamPoolsTest, OtherOptionsAloneMakeANewPool) {
  upstream::PoolOptions other = options_;
  other.connections_per_upstream = 1;
  EXPECT_TRUE(pools_->reload(credentials(), specs({first_}), other));
  EXPECT_EQ(pools_->retired(), 1u);
  pools_->retired_reap();  // nothing was pending: freed at once
  EXPECT_EQ(pools_->retired(), 0u);
}

// Another server list with the same options changes in place: the pool stays, and the
// connection of the server that stays with it.
TEST_F(ProxyUpstreamPoolsTest, AnotherServerListKeepsThePoolAndTheConnectionsOfServersThatStay) {
  resolve("a.test");
  net_.pump();
  ASSERT_EQ(answered_, 1);
  const upstream::Pool* before = &pools_->current();
  EXPECT_FALSE(pools_->reload(credentials(), specs({first_, second_}), options_));
  EXPECT_EQ(&pools_->current(), before);
  EXPECT_EQ(pools_->retired(), 0u);
  EXPECT_EQ(pools_->current().upstream_status().size(), 2u);
  net_.pump();
  EXPECT_EQ(net_.streams_to(first_), 1u);  // the first server's connection was kept
}

// A reload loses no query: the old pool keeps its own until they are answered, new queries go
// to the new servers, and the old pool's counters outlive it.
TEST_F(ProxyUpstreamPoolsTest, ARetiredPoolFinishesItsQueriesThenIsFreedWithItsCountersKept) {
  resolve("a.test");  // pending on the first server's pool: nothing pumped yet
  ASSERT_EQ(pools_->pending(), 1u);
  ASSERT_TRUE(pools_->reload(credentials(), specs({second_}), other_options(options_)));
  EXPECT_EQ(pools_->retired(), 1u);
  EXPECT_EQ(pools_->current().pending(), 0u);
  EXPECT_EQ(pools_->pending(), 1u);  // the retired pool's query still counts
  pools_->retired_reap();
  EXPECT_EQ(pools_->retired(), 1u);  // busy: kept

  resolve("b.test");
  EXPECT_EQ(pools_->current().pending(), 1u);
  net_.pump();
  EXPECT_EQ(answered_, 2);
  EXPECT_EQ(pools_->pending(), 0u);
  EXPECT_EQ(queries_to(first_), 1u);   // a, on the old pool's connection
  EXPECT_EQ(queries_to(second_), 1u);  // b, on the new pool's: new queries go there only

  pools_->retired_reap();
  EXPECT_EQ(pools_->retired(), 0u);
  const upstream::PoolStats stats = pools_->stats();
  EXPECT_EQ(stats.queries, 2u);  // the freed pool's query and the current pool's
  EXPECT_EQ(stats.answers, 2u);
  EXPECT_EQ(pools_->current().stats().answers, 1u);
}

TEST_F(ProxyUpstreamPoolsTest, StatsSumTheCurrentTheRetiredAndTheFreedPools) {
  resolve("a.test");
  net_.pump();
  const upstream::PoolOptions second_options = other_options(options_);
  ASSERT_TRUE(pools_->reload(credentials(), specs({second_}), second_options));
  pools_->retired_reap();  // the first pool freed
  resolve("b.test");
  net_.pump();
  ASSERT_TRUE(pools_->reload(credentials(), specs({first_}), other_options(second_options)));
  resolve("c.test");  // on a third pool; the second is retired, not yet freed
  net_.pump();
  EXPECT_EQ(pools_->retired(), 1u);
  EXPECT_EQ(answered_, 3);
  EXPECT_EQ(pools_->stats().answers, 3u);
}

}  // namespace
}  // namespace dp::proxy
