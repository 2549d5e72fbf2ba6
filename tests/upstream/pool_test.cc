#include "upstream/pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <set>
#include <string>

#include "dns/answer_check.h"
#include "dns/wire.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_datagram.h"
#include "fakes/memory_dot_server.h"
#include "fakes/shared_pki.h"
#include "io/run_until.h"
#include "io/socket.h"
#include "io/udp_listener.h"

namespace dp::upstream {
namespace {

using testing::Bytes;
using testing::dot_query;
using testing::FakeNetwork;
using testing::MemoryServerOptions;
using testing::RouteKind;

constexpr const char* kName = testing::kSharedPkiName;

dns::Question question_of(const Bytes& query) {
  auto parsed = dns::query_parse(query);
  EXPECT_TRUE(parsed.has_value());
  return parsed ? parsed->question : dns::Question{};
}

// What one resolve() call got: nothing yet, an answer (checked against its question), or an
// error.
struct Outcome {
  bool done = false;
  int calls = 0;
  std::optional<UpstreamError> error;
  Bytes answer;
};

class UpstreamPoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = &testing::SharedPki::get().pki;
    credentials_ = &testing::SharedPki::get().credentials;
  }

  // Settled first, so that every query has had its callback before the pool goes.
  void TearDown() override {
    settle();
    pool_.reset();
  }

  static MemoryServerOptions server(const testing::CertKey& cert, bool auto_answer = true) {
    MemoryServerOptions options;
    options.cert_file = cert.cert_file;
    options.key_file = cert.key_file;
    options.auto_answer = auto_answer;
    return options;
  }

  void make_pool(const std::vector<SocketAddress>& addresses) {
    std::vector<ServerSpec> upstreams;
    for (const auto& a : addresses) upstreams.push_back(ServerSpec{a, kName});
    pool_ = std::make_unique<Pool>(loop_, clock_, transport_, std::move(upstreams),
                                   transport_ == Transport::kTls ? *credentials_ : nullptr,
                                   options_, net_.factory(), dgram_.factory());
  }

  // Resolves `name`; the outcome lands in the returned slot (stable: a deque).
  Outcome& resolve(const std::string& name) {
    Outcome& out = outcomes_.emplace_back();
    const Bytes query = dot_query(name);
    const dns::Question question = question_of(query);
    pool_->resolve(query, question, [&out, question](const UpstreamResult& result) {
      ++out.calls;
      out.done = true;
      if (!result) {
        out.error = result.error();
        return;
      }
      out.answer.assign(result->begin(), result->end());
      EXPECT_TRUE(dns::answer_check(out.answer, question));
    });
    return out;
  }

  // Runs the fake network and the loop's deferred work until both are quiet.
  // The first connection's server answers what it holds `after` this long, then answers
  // at once from then on: its upstream is measured as that slow.
  void answer_held_after(std::chrono::milliseconds after) {
    settle();
    clock_.advance(after);
    net_.streams()[0]->server->answer_held();
    net_.streams()[0]->server->set_auto_answer(true);
    net_.flush_server(net_.streams()[0]);
    settle();
  }

  // The first connection's server answers the one query it holds with REFUSED.
  void answer_first_refused() {
    auto& first = *net_.streams()[0]->server;
    ASSERT_EQ(first.held().size(), 1u);
    Bytes refused = testing::zone_answer(first.held().front());
    refused[3] = static_cast<std::uint8_t>((refused[3] & 0xf0) | 5);  // REFUSED
    first.send_message(refused);
    net_.flush_server(net_.streams()[0]);
    settle();
  }

  void settle() {
    for (int i = 0; i < 1000; ++i) {
      const std::size_t delivered = net_.pump() + dgram_.pump();
      loop_.run_pending();
      if (delivered == 0) return;
    }
    ADD_FAILURE() << "the network never went quiet";
  }

  static const testing::TestPki* pki_;
  static const std::shared_ptr<const tls::ClientCredentials>* credentials_;

  const SocketAddress first_ = *SocketAddress::parse("127.0.0.1:853");
  const SocketAddress second_ = *SocketAddress::parse("127.0.0.2:853");
  io::EventLoop loop_;
  testing::FakeClock clock_;
  FakeNetwork net_;
  testing::FakeDatagramNetwork dgram_;  // UDP servers
  Transport transport_ = Transport::kTls;
  PoolOptions options_;
  std::deque<Outcome> outcomes_;
  std::unique_ptr<Pool> pool_;
};

const testing::TestPki* UpstreamPoolTest::pki_ = nullptr;
const std::shared_ptr<const tls::ClientCredentials>* UpstreamPoolTest::credentials_ = nullptr;

TEST_F(UpstreamPoolTest, QueryIsAnswered) {
  net_.serve(first_, server(pki_->good));
  make_pool({first_});
  Outcome& out = resolve("a.test");
  EXPECT_FALSE(out.done);  // never from inside resolve() when an upstream is usable
  settle();
  ASSERT_TRUE(out.done);
  EXPECT_FALSE(out.error.has_value());
  EXPECT_EQ(out.calls, 1);
  EXPECT_EQ(pool_->stats().queries, 1u);
  EXPECT_EQ(pool_->stats().answers, 1u);
  EXPECT_EQ(pool_->stats().handshakes, 1u);
  EXPECT_EQ(pool_->pending(), 0u);
  EXPECT_EQ(pool_->open_connections(), 1u);
}

TEST_F(UpstreamPoolTest, TwoThousandQueriesUseAtMostTheConnectionCap) {
  net_.serve(first_, server(pki_->good));
  make_pool({first_});
  constexpr int kQueries = 2000;
  for (int i = 0; i < kQueries; ++i) resolve("q" + std::to_string(i) + ".test");
  settle();
  int answered = 0;
  for (const Outcome& out : outcomes_) {
    answered += out.done && !out.error && out.calls == 1 ? 1 : 0;
  }
  EXPECT_EQ(answered, kQueries);
  EXPECT_LE(net_.streams().size(), options_.connections_per_upstream);
  EXPECT_EQ(pool_->stats().connections_opened, net_.streams().size());
  EXPECT_EQ(pool_->stats().answers, static_cast<std::uint64_t>(kQueries));
  EXPECT_EQ(pool_->pending(), 0u);
  std::size_t served = 0;
  for (const auto& s : net_.streams()) served += s->server->queries().size();
  EXPECT_EQ(served, static_cast<std::size_t>(kQueries));  // each sent once
}

// RFC 7766 §6.2.1: queries lost with a working connection are sent again, once.
TEST_F(UpstreamPoolTest, QueriesOnAClosedConnectionAreRetriedOnANewOne) {
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_EQ(net_.streams().size(), 1u);
  ASSERT_EQ(net_.streams()[0]->server->held().size(), 2u);  // both in flight on it

  net_.serve(first_, server(pki_->good, /*auto_answer=*/true));  // the next connection answers
  net_.close_from_server(net_.streams()[0]);
  settle();
  ASSERT_TRUE(a.done && b.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(net_.streams().size(), 2u);
  EXPECT_EQ(net_.streams()[1]->server->queries().size(), 2u);
  EXPECT_EQ(pool_->stats().retries, 2u);
  EXPECT_EQ(pool_->stats().answers, 2u);
}

// A write that fails inside send() closes its connection there and then, but the pool hears
// of it from the loop, after send() has returned (the ownership contract); the query is then
// retried on a new connection, and the failed one freed by the loop is no copy of it any more
// (ASan: used after free when the answer forgets the copies).
TEST_F(UpstreamPoolTest, AConnectionThatFailsInsideSendIsNotKeptAsACopyOfTheRetriedQuery) {
  net_.serve(first_, server(pki_->good));
  make_pool({first_});
  resolve("warm.test");
  settle();
  ASSERT_EQ(net_.streams().size(), 1u);
  net_.streams()[0]->reset_inside_write = true;
  Outcome& a = resolve("a.test");
  EXPECT_FALSE(a.done);
  loop_.run_pending();   // the failure is reported, the query retried, the connection freed
  EXPECT_FALSE(a.done);  // on a new connection, still handshaking
  EXPECT_TRUE(net_.streams()[0]->destroyed);
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(pool_->stats().retries, 1u);
  EXPECT_EQ(net_.streams().size(), 2u);
  EXPECT_EQ(pool_->pending(), 0u);
}

// The same on the retry too: the query is lost by its retry's send() as well, and finished
// (failed) from the loop, never from inside its own resolve() or send().
TEST_F(UpstreamPoolTest, AQueryFinishedInsideItsOwnSendIsNotTouchedAfterwards) {
  options_.max_in_flight_per_connection = 1;  // two queries at once: two connections
  net_.serve(first_, server(pki_->good));
  make_pool({first_});
  resolve("one.test");
  resolve("two.test");
  settle();
  ASSERT_EQ(net_.streams().size(), 2u);
  for (const auto& stream : net_.streams()) stream->reset_inside_write = true;
  Outcome& a = resolve("a.test");
  EXPECT_FALSE(a.done);  // not from inside resolve()
  loop_.run_pending();
  ASSERT_TRUE(a.done);  // lost on one ready connection, then on the other
  EXPECT_EQ(a.error, UpstreamError::kClosed);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(pool_->stats().retries, 1u);
  EXPECT_EQ(pool_->pending(), 0u);
  settle();
  EXPECT_EQ(a.calls, 1);
}

// A reload retires and frees pools: a connection that failed just before, still held by the
// loop, is freed after its pool and must touch nothing of it (ASan: used after free of the
// pool's stats or listener).
TEST_F(UpstreamPoolTest, AFailedConnectionFreedAfterItsPoolTouchesNothingOfIt) {
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  make_pool({first_});
  resolve("a.test");
  settle();
  net_.close_from_server(net_.streams()[0]);
  net_.pump();  // the pool hears of it and hands the connection to the loop, which has not turned
  ASSERT_EQ(loop_.deletes_pending(), 1u);
  pool_.reset();
  EXPECT_FALSE(net_.streams()[0]->destroyed);  // it outlived its pool
  loop_.run_pending();
  EXPECT_TRUE(net_.streams()[0]->destroyed);
  EXPECT_EQ(loop_.deletes_pending(), 0u);
}

// Once only: a query whose retry is lost too fails with kClosed.
TEST_F(UpstreamPoolTest, QueryLostTwiceFailsWithClosed) {
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  net_.close_from_server(net_.streams()[0]);
  settle();
  ASSERT_EQ(net_.streams().size(), 2u);
  EXPECT_FALSE(a.done);
  net_.close_from_server(net_.streams()[1]);
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_EQ(a.error, UpstreamError::kClosed);
  EXPECT_EQ(net_.streams().size(), 2u);
  EXPECT_EQ(pool_->stats().retries, 1u);
}

// An idle connection closed by the server is no failure: no back-off, the next query reconnects.
TEST_F(UpstreamPoolTest, IdleCloseByServerIsReplacedAtOnceAfterRecentTraffic) {
  net_.serve(first_, server(pki_->good));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_FALSE(a.error.has_value());
  net_.close_from_server(net_.streams()[0], /*close_notify=*/true);
  settle();
  // Kept warm: not a failure, and the replacement is open before the next query.
  EXPECT_EQ(pool_->open_connections(), 1u);
  EXPECT_EQ(net_.streams().size(), 2u);
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(net_.streams().size(), 2u);  // b paid no handshake
  EXPECT_EQ(pool_->stats().retries, 0u);
}

TEST_F(UpstreamPoolTest, AReopenedConnectionResumesTheTlsSession) {
  net_.serve(first_, server(pki_->good));
  make_pool({first_});
  resolve("a.test");  // the answer comes after the server's TLS 1.3 ticket
  settle();
  EXPECT_EQ(pool_->stats().handshakes, 1u);
  EXPECT_EQ(pool_->stats().handshakes_resumed, 0u);
  net_.close_from_server(net_.streams()[0], /*close_notify=*/true);
  settle();  // the warm replacement offers the ticket
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(pool_->stats().handshakes, 2u);
  EXPECT_EQ(pool_->stats().handshakes_resumed, 1u);
}

TEST_F(UpstreamPoolTest, IdleCloseLongAfterTheLastQueryReconnectsOnDemand) {
  net_.serve(first_, server(pki_->good));
  make_pool({first_});
  resolve("a.test");
  settle();
  clock_.advance(options_.warm_window + std::chrono::seconds(1));
  net_.close_from_server(net_.streams()[0], /*close_notify=*/true);
  settle();
  EXPECT_EQ(pool_->open_connections(), 0u);
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(net_.streams().size(), 2u);
}

TEST_F(UpstreamPoolTest, BlackHoledUpstreamIsBackedOffAndTheNextOneServes) {
  options_.liveness_timeout = std::chrono::milliseconds(1'000);
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));  // answers nothing
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  clock_.advance(std::chrono::milliseconds(1'000));
  pool_->on_deadline();
  settle();
  // The silent connection is dropped, its query retried on the second upstream in time.
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(net_.streams_to(second_), 1u);
  Outcome& b = resolve("b.test");  // the first is in back-off now
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(net_.streams_to(first_), 1u);
}

TEST_F(UpstreamPoolTest, RefusedFirstUpstreamFailsOverAndIsSkippedInBackoff) {
  net_.script(first_, RouteKind::kRefuse);
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(net_.streams_to(first_), 1u);
  EXPECT_EQ(net_.streams_to(second_), 1u);
  EXPECT_EQ(pool_->stats().retries, 1u);

  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(net_.streams_to(first_), 1u);  // in back-off: not even tried
  EXPECT_EQ(net_.streams_to(second_), 1u);
  EXPECT_EQ(net_.streams().back()->server->queries().size(), 2u);
}

// DESIGN.md: failover on connect failure, timeouts included. A first upstream that never
// completes the TCP connect (SYN dropped) must not cost the query its answer: with the default
// options the handshake deadline has to leave time to retry on the second upstream.
TEST_F(UpstreamPoolTest, HangingFirstUpstreamFailsOverBeforeTheQueryDeadline) {
  net_.script(first_, RouteKind::kHang);
  net_.serve(second_, server(pki_->good));
  make_pool(
      {first_,
       second_});  // default PoolOptions, as proxy/settings makes them from the default config
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_FALSE(a.done);
  // Step the clock like the timer would: to each next deadline in turn.
  for (int i = 0; i < 100 && !a.done; ++i) {
    clock_.advance(std::chrono::milliseconds(100));
    pool_->on_deadline();
    settle();
  }
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value()) << upstream_error_name(*a.error);
  EXPECT_EQ(net_.streams_to(second_), 1u);
}

TEST_F(UpstreamPoolTest, SingleUpstreamVerifyFailureThenDownDuringBackoff) {
  net_.serve(first_, server(pki_->wrong_name));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_EQ(a.error, UpstreamError::kTlsVerify);
  EXPECT_EQ(pool_->stats().retries, 0u);

  Outcome& b = resolve("b.test");
  EXPECT_TRUE(b.done);  // at once, inside resolve()
  EXPECT_EQ(b.error, UpstreamError::kDown);
  settle();
  EXPECT_EQ(net_.streams().size(), 1u);
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(pool_->stats().failures[static_cast<std::size_t>(UpstreamError::kDown)], 1u);
}

TEST_F(UpstreamPoolTest, SilentUpstreamTimesOutAtTheDeadline) {
  options_.liveness_timeout = options_.query_timeout * 2;  // the query's deadline comes first
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_EQ(net_.streams()[0]->server->held().size(), 1u);

  clock_.advance(options_.query_timeout - std::chrono::milliseconds(1));
  pool_->on_deadline();
  EXPECT_FALSE(a.done);
  clock_.advance(std::chrono::milliseconds(1));
  pool_->on_deadline();
  ASSERT_TRUE(a.done);
  EXPECT_EQ(a.error, UpstreamError::kTimeout);
  EXPECT_EQ(pool_->pending(), 0u);

  // The late answer finds nobody waiting and the connection stays up.
  net_.streams()[0]->server->answer_held();
  net_.flush_server(net_.streams()[0]);
  settle();
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(pool_->stats().answers_unknown_id, 1u);
  EXPECT_EQ(pool_->open_connections(), 1u);
}

TEST_F(UpstreamPoolTest, HangingConnectFailsAtTheHandshakeDeadline) {
  options_.query_timeout = std::chrono::milliseconds(5'000);
  options_.handshake_timeout = std::chrono::milliseconds(1'000);
  net_.script(first_, RouteKind::kHang);
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  clock_.advance(options_.handshake_timeout);
  pool_->on_deadline();
  ASSERT_TRUE(a.done);
  EXPECT_EQ(a.error, UpstreamError::kConnectFailed);
  settle();
  EXPECT_EQ(pool_->open_connections(), 0u);
  EXPECT_TRUE(net_.streams()[0]->destroyed);  // deferred deletion ran

  Outcome& b = resolve("b.test");  // in back-off now
  EXPECT_EQ(b.error, UpstreamError::kDown);
}

TEST_F(UpstreamPoolTest, MaxPendingExceededIsOverloadedAtOnce) {
  options_.max_pending = 2;
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  Outcome& b = resolve("b.test");
  Outcome& c = resolve("c.test");
  EXPECT_FALSE(a.done);
  EXPECT_FALSE(b.done);
  EXPECT_TRUE(c.done);  // synchronously
  EXPECT_EQ(c.error, UpstreamError::kOverloaded);
  EXPECT_EQ(pool_->pending(), 2u);
  settle();
  EXPECT_EQ(net_.streams()[0]->server->held().size(), 2u);  // c never went out
}

TEST_F(UpstreamPoolTest, FirstUpstreamIsTriedAgainAfterBackoff) {
  net_.script(first_, RouteKind::kRefuse);
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_TRUE(a.done);
  ASSERT_FALSE(a.error.has_value());
  ASSERT_EQ(net_.streams_to(first_), 1u);

  net_.serve(first_, server(pki_->good));  // the first upstream is back
  clock_.advance(options_.backoff_initial);
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(net_.streams_to(first_), 2u);
  ASSERT_TRUE(net_.streams().back()->server);
  EXPECT_EQ(net_.streams().back()->remote, first_);
  EXPECT_EQ(net_.streams().back()->server->queries().size(), 1u);
}

// Repeated failures double the back-off up to backoff_max, never longer.
TEST_F(UpstreamPoolTest, BackoffDoublesUpToTheCap) {
  options_.backoff_initial = std::chrono::milliseconds(500);
  options_.backoff_max = std::chrono::milliseconds(1'500);
  net_.script(first_, RouteKind::kRefuse);
  make_pool({first_});
  const std::chrono::milliseconds expected[] = {
      std::chrono::milliseconds(500), std::chrono::milliseconds(1'000),
      std::chrono::milliseconds(1'500), std::chrono::milliseconds(1'500)};
  for (const auto backoff : expected) {
    Outcome& failed = resolve("a.test");
    settle();
    ASSERT_EQ(failed.error, UpstreamError::kConnectFailed);
    clock_.advance(backoff - std::chrono::milliseconds(1));
    EXPECT_EQ(resolve("b.test").error, UpstreamError::kDown) << backoff.count();
    clock_.advance(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(net_.streams().size(), 4u);
}

// Every query gets exactly one callback, even those waiting for a connection that never came.
TEST_F(UpstreamPoolTest, WaitingQueriesFailWhenEveryConnectionFails) {
  options_.connections_per_upstream = 2;
  options_.max_in_flight_per_connection = 4;
  net_.script(first_, RouteKind::kRefuse);
  make_pool({first_});
  for (int i = 0; i < 20; ++i) resolve("q" + std::to_string(i) + ".test");
  settle();
  int connect_failed = 0;
  int down = 0;
  for (const Outcome& out : outcomes_) {
    ASSERT_EQ(out.calls, 1);
    connect_failed += out.error == UpstreamError::kConnectFailed ? 1 : 0;
    down += out.error == UpstreamError::kDown ? 1 : 0;
  }
  EXPECT_EQ(connect_failed, 8);  // the two connections' share
  EXPECT_EQ(down, 12);           // the queue, once the upstream is in back-off
  EXPECT_EQ(pool_->pending(), 0u);
}

// A single upstream recovers too: no restart needed once its certificate is fixed.
TEST_F(UpstreamPoolTest, SingleUpstreamRecoversAfterBackoff) {
  net_.serve(first_, server(pki_->wrong_name));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_EQ(a.error, UpstreamError::kTlsVerify);

  net_.serve(first_, server(pki_->good));
  clock_.advance(options_.backoff_initial);
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
}

}  // namespace
}  // namespace dp::upstream

namespace dp::upstream {
namespace {

// Queries each upstream's servers received, over all their connections.
std::size_t queries_to(FakeNetwork& net, const SocketAddress& address) {
  std::size_t n = 0;
  for (const auto& stream : net.streams()) {
    if (stream->server != nullptr && stream->remote == address) {
      n += stream->server->queries().size();
    }
  }
  return n;
}

TEST_F(UpstreamPoolTest, ASlowQueryIsHedgedOnTheNextUpstreamAndTheFirstAnswerWins) {
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));  // holds its queries
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  EXPECT_FALSE(a.done);
  clock_.advance(options_.hedge_unmeasured - std::chrono::milliseconds(1));
  pool_->on_deadline();
  settle();
  EXPECT_EQ(pool_->stats().hedges, 0u);
  clock_.advance(std::chrono::milliseconds(1));
  pool_->on_deadline();
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(pool_->stats().hedges, 1u);
  // The slow copy's answer arrives late and is dropped: one callback only.
  net_.streams()[0]->server->answer_held();
  net_.flush_server(net_.streams()[0]);
  settle();
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(pool_->stats().answers_unknown_id, 1u);
}

TEST_F(UpstreamPoolTest, TheUpstreamWithTheLowerMeasuredRttIsPreferred) {
  options_.probe_every = 0;  // no probes: the choice alone
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");                    // nothing measured: the first in order
  answer_held_after(std::chrono::milliseconds(50));  // the first takes 50 ms
  ASSERT_TRUE(a.done);
  for (int i = 0; i < 5; ++i) resolve("b" + std::to_string(i) + ".test");
  settle();
  EXPECT_EQ(queries_to(net_, first_), 1u);
  EXPECT_EQ(queries_to(net_, second_), 5u);  // measured at ~0 ms
}

TEST_F(UpstreamPoolTest, TheSlowerUpstreamIsStillProbedNowAndThen) {
  options_.probe_every = 4;
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  resolve("a.test");
  answer_held_after(std::chrono::milliseconds(50));
  for (int i = 0; i < 8; ++i) resolve("p" + std::to_string(i) + ".test");
  settle();
  EXPECT_EQ(queries_to(net_, first_), 3u);  // the first query plus one probe in every four
  EXPECT_EQ(queries_to(net_, second_), 6u);
}

TEST_F(UpstreamPoolTest, RefusedFromOneUpstreamIsRetriedOnTheOther) {
  options_.probe_every = 0;
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  answer_first_refused();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(dns::wire_get_rcode(a.answer), dns::Rcode::kNoError);
  EXPECT_EQ(pool_->stats().rcode_retries, 1u);
}

TEST_F(UpstreamPoolTest, LosingAHedgeRaceCountsAsASlowSample) {
  options_.probe_every = 0;
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));  // accepts, never answers
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  clock_.advance(options_.hedge_unmeasured);
  pool_->on_deadline();
  settle();
  ASSERT_TRUE(a.done);
  // The first never answered, but it was measured as slow: the next query avoids it.
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_EQ(queries_to(net_, first_), 1u);
}

TEST_F(UpstreamPoolTest, AHedgeNeverGoesBackToTheUpstreamThatRefused) {
  options_.probe_every = 0;
  net_.serve(first_, server(pki_->good));                          // refuses www.example
  net_.serve(second_, server(pki_->good, /*auto_answer=*/false));  // slow to answer anything
  make_pool({first_, second_});
  Outcome& a = resolve("www.example");
  settle();  // refused by the first (now measured as fast), retried on the second
  EXPECT_EQ(pool_->stats().rcode_retries, 1u);
  clock_.advance(options_.hedge_max);
  pool_->on_deadline();
  settle();
  EXPECT_EQ(queries_to(net_, first_), 1u);
  EXPECT_EQ(pool_->stats().hedges, 0u);
  EXPECT_FALSE(a.done);
}

TEST_F(UpstreamPoolTest, WhenEveryUpstreamRefusesTheClientGetsTheirAnswerNotOurs) {
  net_.serve(first_, server(pki_->good));
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("www.example");  // outside the test zone: both answer REFUSED
  settle();
  ASSERT_TRUE(a.done);
  ASSERT_FALSE(a.error.has_value());
  EXPECT_EQ(dns::wire_get_rcode(a.answer), dns::Rcode::kRefused);
  EXPECT_EQ(queries_to(net_, first_) + queries_to(net_, second_), 2u);  // retried once only
}

TEST_F(UpstreamPoolTest, AnUpstreamInBackoffIsProbedInTheBackgroundAndRecovers) {
  net_.script(first_, RouteKind::kRefuse);
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  resolve("a.test");
  settle();
  ASSERT_EQ(net_.streams_to(first_), 1u);
  net_.serve(first_, server(pki_->good));  // it comes back
  clock_.advance(options_.backoff_initial - std::chrono::milliseconds(1));
  pool_->on_deadline();
  settle();
  EXPECT_EQ(net_.streams_to(first_), 1u);  // still backing off
  clock_.advance(std::chrono::milliseconds(1));
  pool_->on_deadline();
  settle();
  // Probed without any client query, and healthy again: queries may go there.
  EXPECT_EQ(net_.streams_to(first_), 2u);
  EXPECT_EQ(pool_->open_connections(), 2u);
  for (int i = 0; i < 4; ++i) resolve("r" + std::to_string(i) + ".test");
  settle();
  EXPECT_GT(queries_to(net_, first_), 0u);  // unmeasured again: it counts as fastest
}

TEST_F(UpstreamPoolTest, AFailureUnderTheTrustAReloadReplacedIsNotHeldAgainstTheUpstream) {
  net_.serve(first_, server(pki_->untrusted));  // not trusted by the pool's CA store
  make_pool({first_});
  Outcome& a = resolve("a.test");  // its connection starts under the old trust
  pool_->update_trust(tls::ClientCredentials::create(pki_->untrusted_ca_file),
                      {ServerSpec{first_, kName}});
  settle();
  // The old connection fails verification, but that verdict is stale: no back-off, and the
  // query is retried at once on a connection under the new trust.
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(net_.streams_to(first_), 2u);
}

TEST_F(UpstreamPoolTest, NxdomainIsAnAnswerAndNeverRetried) {
  net_.serve(first_, server(pki_->good));
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("missing.nx.test");
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_EQ(dns::wire_get_rcode(a.answer), dns::Rcode::kNxDomain);
  EXPECT_EQ(pool_->stats().rcode_retries, 0u);
  EXPECT_EQ(queries_to(net_, first_) + queries_to(net_, second_), 1u);
}

// Finished requests are reused: one that spent its retry must not hand that on.
TEST_F(UpstreamPoolTest, AReusedRequestGetsARetryOfItsOwn) {
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  net_.close_from_server(net_.streams()[0]);
  settle();
  net_.close_from_server(net_.streams()[1]);
  settle();
  ASSERT_EQ(a.error, UpstreamError::kClosed);  // its one retry used
  Outcome& b = resolve("b.test");
  settle();
  net_.serve(first_, server(pki_->good, /*auto_answer=*/true));
  net_.close_from_server(net_.streams().back());
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(pool_->stats().retries, 2u);
}

// Nor the REFUSED answer it kept in case nothing better came.
TEST_F(UpstreamPoolTest, AReusedRequestDoesNotServeTheLastOnesFallback) {
  options_.probe_every = 0;
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  answer_first_refused();
  ASSERT_TRUE(a.done);
  ASSERT_FALSE(a.error.has_value());  // answered by the second; the REFUSED stays behind

  for (const auto& s : net_.streams()) s->server->set_auto_answer(false);
  Outcome& b = resolve("b.test");
  settle();
  clock_.advance(options_.query_timeout);
  pool_->on_deadline();
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_EQ(b.error, UpstreamError::kTimeout);
  EXPECT_TRUE(b.answer.empty());
}

// Plain DNS over TCP (RFC 7766) and over UDP: the same pool and machinery, another transport.
class UpstreamPoolPlainTest : public UpstreamPoolTest {
 protected:
  static MemoryServerOptions plain_server(bool auto_answer = true) {
    MemoryServerOptions options;
    options.plain = true;
    options.auto_answer = auto_answer;
    return options;
  }
  // A UDP server that answers each query with what `edit` makes of its zone answer.
  void udp_answer_edited(const SocketAddress& address, std::function<void(Bytes&)> edit) {
    dgram_.respond(address, [edit](const Bytes& query) {
      Bytes answer = testing::zone_answer(query);
      edit(answer);
      return std::vector<Bytes>{answer};
    });
  }
};

TEST_F(UpstreamPoolPlainTest, TcpPoolAnswersPipelinedQueriesOutOfOrder) {
  transport_ = Transport::kTcp;
  options_.connections_per_upstream = 1;
  net_.serve(first_, plain_server(/*auto_answer=*/false));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  Outcome& b = resolve("b.test");
  Outcome& c = resolve("c.test");
  settle();
  ASSERT_EQ(net_.streams().size(), 1u);
  ASSERT_EQ(net_.streams()[0]->server->held().size(), 3u);  // all in flight on one connection
  net_.streams()[0]->server->answer_held(/*reversed=*/true);
  net_.flush_server(net_.streams()[0]);
  settle();
  for (const Outcome* out : {&a, &b, &c}) {
    ASSERT_TRUE(out->done);
    EXPECT_FALSE(out->error.has_value());  // and answer_check passed for its own question
    EXPECT_EQ(out->calls, 1);
  }
  EXPECT_EQ(pool_->stats().answers, 3u);
  EXPECT_EQ(pool_->stats().connections_opened, 1u);
  EXPECT_EQ(pool_->stats().handshakes, 0u);
  EXPECT_EQ(pool_->transport(), Transport::kTcp);
  ASSERT_EQ(pool_->upstream_status().size(), 1u);
  EXPECT_EQ(pool_->upstream_status()[0].transport, Transport::kTcp);
  EXPECT_FALSE(pool_->upstream_status()[0].certificate_expiry.has_value());
}

TEST_F(UpstreamPoolPlainTest, TcpNeverStartsATlsHandshake) {
  transport_ = Transport::kTcp;
  net_.serve(first_, plain_server());
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  // The first bytes on the wire are a DNS length prefix, and then the query itself: no
  // ClientHello (a TLS record would start 0x16 0x03).
  const Bytes query = dot_query("a.test");
  const Bytes& wire = net_.streams()[0]->written;
  ASSERT_EQ(wire.size(), 2 + query.size());
  EXPECT_EQ(std::size_t{wire[0]} << 8 | wire[1], query.size());
  EXPECT_TRUE(std::equal(query.begin() + 2, query.end(), wire.begin() + 4));  // after the ID
  EXPECT_EQ(pool_->stats().handshakes, 0u);
}

TEST_F(UpstreamPoolPlainTest, TcpRefusedFirstUpstreamFailsOverAndIsBackedOff) {
  transport_ = Transport::kTcp;
  net_.script(first_, RouteKind::kRefuse);
  net_.serve(second_, plain_server());
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(pool_->stats().retries, 1u);
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(net_.streams_to(first_), 1u);  // in back-off: not tried again
  EXPECT_FALSE(pool_->upstream_status()[0].usable);
}

TEST_F(UpstreamPoolPlainTest, UdpQueryIsAnsweredAndItsSocketClosed) {
  transport_ = Transport::kUdp;
  dgram_.serve(first_);
  make_pool({first_});
  Outcome& a = resolve("a.test");
  EXPECT_FALSE(a.done);  // never from inside resolve()
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(a.calls, 1);
  ASSERT_EQ(dgram_.sockets().size(), 1u);
  EXPECT_EQ(dgram_.sockets()[0]->remote, first_);
  EXPECT_TRUE(dgram_.sockets()[0]->closed);     // at once
  EXPECT_TRUE(dgram_.sockets()[0]->destroyed);  // and freed by the loop
  EXPECT_TRUE(net_.streams().empty());          // no TCP
  EXPECT_EQ(pool_->stats().udp_queries, 1u);
  EXPECT_EQ(pool_->stats().answers, 1u);
  EXPECT_EQ(pool_->stats().connections_opened, 0u);
  EXPECT_EQ(pool_->open_connections(), 1u);  // the server's one UDP connection
  EXPECT_EQ(pool_->upstream_status()[0].transport, Transport::kUdp);
  EXPECT_EQ(pool_->upstream_status()[0].in_flight, 0u);
}

TEST_F(UpstreamPoolPlainTest, UdpQueriesGoUnderUnusedIdsFromSocketsOfTheirOwn) {
  transport_ = Transport::kUdp;
  dgram_.silence(first_);
  make_pool({first_});
  constexpr std::size_t kQueries = 200;
  for (std::size_t i = 0; i < kQueries; ++i) resolve("q" + std::to_string(i) + ".test");
  settle();
  ASSERT_EQ(dgram_.sockets().size(), kQueries);
  std::set<std::uint16_t> ids;
  for (const auto& s : dgram_.sockets()) {
    ASSERT_EQ(s->sent.size(), 1u);
    ids.insert(dns::wire_get_id(s->sent[0]));
  }
  EXPECT_EQ(ids.size(), kQueries);
  EXPECT_EQ(pool_->upstream_status()[0].in_flight, kQueries);
}

TEST_F(UpstreamPoolPlainTest, UdpAnswerUnderAnotherIdIsDiscardedAndCounted) {
  transport_ = Transport::kUdp;
  dgram_.respond(first_, [](const Bytes& query) {
    Bytes wrong = testing::zone_answer(query);
    wrong[1] ^= 1;  // another ID
    return std::vector<Bytes>{wrong, testing::zone_answer(query)};
  });
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());  // the right one, which came after
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(dns::wire_get_id(a.answer), dns::wire_get_id(dgram_.sockets()[0]->sent[0]));
  EXPECT_EQ(pool_->stats().udp_mismatched, 1u);
}

TEST_F(UpstreamPoolPlainTest, UdpAnswerToAnotherQuestionIsDiscarded) {
  transport_ = Transport::kUdp;
  dgram_.respond(first_, [](const Bytes& query) {
    Bytes other = testing::zone_answer(dot_query("other.test"));
    dns::wire_set_id(other, dns::wire_get_id(query));  // right ID, wrong question
    return std::vector<Bytes>{other};
  });
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  EXPECT_FALSE(a.done);
  EXPECT_EQ(pool_->stats().udp_mismatched, 1u);
  EXPECT_FALSE(dgram_.sockets()[0]->closed);  // still listening for the real answer
  clock_.advance(options_.query_timeout);
  pool_->on_deadline();
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_EQ(a.error, UpstreamError::kTimeout);
  EXPECT_TRUE(dgram_.sockets()[0]->closed);
}

TEST_F(UpstreamPoolPlainTest, UdpTruncatedAnswerIsAskedAgainOverTcp) {
  transport_ = Transport::kUdp;
  udp_answer_edited(first_, [](Bytes& answer) { answer[2] |= 0x02; });  // TC=1
  net_.serve(first_, plain_server());
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_TRUE(a.done);
  ASSERT_FALSE(a.error.has_value());
  EXPECT_EQ(a.answer[2] & 0x02, 0);  // the whole answer, from TCP
  EXPECT_EQ(pool_->stats().udp_truncated, 1u);
  ASSERT_EQ(net_.streams().size(), 1u);
  EXPECT_EQ(net_.streams()[0]->remote, first_);
  EXPECT_EQ(net_.streams()[0]->server->queries().size(), 1u);
  EXPECT_EQ(pool_->stats().handshakes, 0u);  // plain TCP
  EXPECT_TRUE(dgram_.sockets()[0]->closed);
  // The next truncated answer reuses that TCP connection.
  Outcome& b = resolve("b.test");
  settle();
  ASSERT_TRUE(b.done);
  EXPECT_FALSE(b.error.has_value());
  EXPECT_EQ(net_.streams().size(), 1u);
  EXPECT_EQ(pool_->stats().udp_truncated, 2u);
}

// The resend after the hedge delay finds the query already gone to TCP after its TC=1 answer:
// it joins that retry instead of sending a second datagram (and getting a second TC=1).
TEST_F(UpstreamPoolPlainTest, UdpResendOfAQueryRetriedOverTcpJoinsTheRetry) {
  transport_ = Transport::kUdp;
  udp_answer_edited(first_, [](Bytes& answer) { answer[2] |= 0x02; });  // TC=1
  net_.serve(first_, plain_server(/*auto_answer=*/false));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  EXPECT_FALSE(a.done);  // the TCP retry waits for its answer
  clock_.advance(options_.hedge_unmeasured);
  pool_->on_deadline();
  settle();
  EXPECT_EQ(dgram_.sockets().size(), 1u);  // no second datagram
  ASSERT_EQ(net_.streams().size(), 1u);
  ASSERT_EQ(net_.streams()[0]->server->held().size(), 1u);  // nor a second TCP query
  net_.streams()[0]->server->answer_held(/*reversed=*/false);
  net_.flush_server(net_.streams()[0]);
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(pool_->stats().udp_truncated, 1u);
}

TEST_F(UpstreamPoolPlainTest, UdpTruncatedAnswerWhoseTcpRetryFailsIsRetriedOnTheNextServer) {
  transport_ = Transport::kUdp;
  udp_answer_edited(first_, [](Bytes& answer) { answer[2] |= 0x02; });
  net_.script(first_, RouteKind::kRefuse);  // no TCP there
  dgram_.serve(second_);
  options_.probe_every = 0;
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value()) << upstream_error_name(*a.error);
  EXPECT_EQ(pool_->stats().retries, 1u);
  EXPECT_EQ(pool_->pending(), 0u);
}

TEST_F(UpstreamPoolPlainTest, UdpSilentFirstServerIsHedgedOnTheSecond) {
  transport_ = Transport::kUdp;
  dgram_.silence(first_);
  dgram_.serve(second_);
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  EXPECT_FALSE(a.done);
  clock_.advance(options_.hedge_unmeasured);
  pool_->on_deadline();
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(pool_->stats().hedges, 1u);
  ASSERT_EQ(dgram_.sockets().size(), 2u);
  EXPECT_EQ(dgram_.sockets()[1]->remote, second_);
  EXPECT_TRUE(dgram_.sockets()[0]->closed);  // the slow copy is forgotten, its socket closed
  EXPECT_EQ(dgram_.open_sockets(), 0u);
}

// One server, one lost datagram: the query is sent again after the hedge delay from a new socket
// under a new ID, and the answer to that copy is the query's.
TEST_F(UpstreamPoolPlainTest, UdpLostDatagramIsResentToTheOnlyServerAfterTheHedgeDelay) {
  transport_ = Transport::kUdp;
  int seen = 0;
  dgram_.respond(first_, [&seen](const Bytes& query) {
    return ++seen == 1 ? std::vector<Bytes>{} : std::vector<Bytes>{testing::zone_answer(query)};
  });
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  EXPECT_FALSE(a.done);
  clock_.advance(options_.hedge_unmeasured);
  pool_->on_deadline();
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(a.calls, 1);
  ASSERT_EQ(dgram_.sockets().size(), 2u);
  EXPECT_EQ(dgram_.sockets()[1]->remote, first_);
  EXPECT_NE(dns::wire_get_id(dgram_.sockets()[0]->sent[0]),
            dns::wire_get_id(dgram_.sockets()[1]->sent[0]));
  EXPECT_EQ(dgram_.open_sockets(), 0u);  // the lost copy's socket closed with the answer
}

TEST_F(UpstreamPoolPlainTest, UdpSilentServerIsBackedOffAtItsLivenessDeadline) {
  transport_ = Transport::kUdp;
  options_.liveness_timeout = std::chrono::milliseconds(1'000);
  dgram_.silence(first_);
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  clock_.advance(options_.liveness_timeout);
  pool_->on_deadline();
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_EQ(a.error, UpstreamError::kTimeout);
  EXPECT_EQ(dgram_.open_sockets(), 0u);
  EXPECT_FALSE(pool_->upstream_status()[0].usable);
  Outcome& b = resolve("b.test");
  EXPECT_EQ(b.error, UpstreamError::kDown);  // in back-off: at once
  // Back-off over: the server is asked again.
  dgram_.serve(first_);
  clock_.advance(options_.backoff_initial);
  pool_->on_deadline();
  settle();
  Outcome& c = resolve("c.test");
  settle();
  ASSERT_TRUE(c.done);
  EXPECT_FALSE(c.error.has_value());
}

TEST_F(UpstreamPoolPlainTest, UdpPortUnreachableFailsOverToTheSecondServer) {
  transport_ = Transport::kUdp;
  dgram_.silence(first_);
  dgram_.serve(second_);
  options_.probe_every = 0;
  make_pool({first_, second_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_EQ(dgram_.sockets().size(), 1u);
  dgram_.icmp_error(dgram_.sockets()[0], "recv: Connection refused");
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_EQ(pool_->stats().udp_errors, 1u);
  EXPECT_EQ(pool_->stats().retries, 1u);
  EXPECT_FALSE(pool_->upstream_status()[0].usable);
}

TEST_F(UpstreamPoolPlainTest, UdpQueriesInFlightPerServerAreBounded) {
  transport_ = Transport::kUdp;
  options_.max_in_flight_per_connection = 2;
  dgram_.silence(first_);
  make_pool({first_});
  Outcome& a = resolve("a.test");
  Outcome& b = resolve("b.test");
  Outcome& c = resolve("c.test");
  settle();
  EXPECT_EQ(dgram_.sockets().size(), 2u);  // the third waits for room
  EXPECT_EQ(dgram_.open_sockets(), 2u);
  EXPECT_EQ(pool_->pending(), 3u);
  dgram_.serve(first_);
  for (std::size_t i = 0; i < 2; ++i) {
    dgram_.deliver(dgram_.sockets()[i], testing::zone_answer(dgram_.sockets()[i]->sent[0]));
  }
  settle();
  for (const Outcome* out : {&a, &b, &c}) {
    ASSERT_TRUE(out->done);
    EXPECT_FALSE(out->error.has_value());
  }
  EXPECT_EQ(dgram_.sockets().size(), 3u);
  EXPECT_EQ(dgram_.open_sockets(), 0u);
}

TEST_F(UpstreamPoolPlainTest, UdpSocketThatCannotBeOpenedLosesTheQueryFromTheLoop) {
  transport_ = Transport::kUdp;
  dgram_.set_open_fails(true);
  make_pool({first_});
  Outcome& a = resolve("a.test");
  EXPECT_FALSE(a.done);  // reported from the loop, not from inside resolve()
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_EQ(a.error, UpstreamError::kConnectFailed);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(pool_->stats().udp_errors, 2u);  // the query and its one retry
  EXPECT_EQ(pool_->pending(), 0u);
}

TEST(UpstreamTransportTest, NamesAreTheConfigWords) {
  EXPECT_STREQ(transport_name(Transport::kTls), "tls");
  EXPECT_STREQ(transport_name(Transport::kTcp), "tcp");
  EXPECT_STREQ(transport_name(Transport::kUdp), "udp");
}

// The production sockets (the pool's default DatagramFactory) against a UDP DNS server on
// loopback.
TEST(UpstreamPoolLoopbackTest, UdpPoolWithItsOwnSocketsIsAnswered) {
  io::EventLoop loop;
  testing::FakeClock clock;
  const int fd = io::socket_bind(*SocketAddress::parse("127.0.0.1:0"), io::SocketKind::kUdp);
  const SocketAddress server_address = io::socket_local_address(fd);
  io::UdpListener* server = nullptr;
  io::UdpListener listener(loop, fd,
                           [&](std::span<const std::uint8_t> query, const SocketAddress& sender) {
                             server->send(testing::zone_answer(query), sender);
                           });
  server = &listener;
  Pool pool(loop, clock, Transport::kUdp, {ServerSpec{server_address, ""}}, nullptr, PoolOptions{},
            [] { return std::unique_ptr<io::ByteStream>(); });
  const Bytes query = dot_query("a.test");
  const dns::Question question = question_of(query);
  std::optional<bool> answered;
  pool.resolve(query, question, [&](const UpstreamResult& result) {
    answered = result.has_value() && dns::answer_check(*result, question).has_value();
  });
  io::testing::run_until(loop, [&] { return answered.has_value(); });
  ASSERT_TRUE(answered.has_value());
  EXPECT_TRUE(*answered);
  EXPECT_EQ(pool.stats().udp_queries, 1u);
  EXPECT_EQ(pool.upstream_status()[0].in_flight, 0u);
}

// A reload that changes the server list (servers_update): the server that stays keeps its
// connection, the new one is warmed at once, the removed one is never asked again.
TEST_F(UpstreamPoolTest, AServerThatStaysKeepsItsConnectionWhenTheListChanges) {
  const SocketAddress third = *SocketAddress::parse("127.0.0.3:853");
  net_.serve(first_, server(pki_->good));
  net_.serve(second_, server(pki_->good));
  net_.serve(third, server(pki_->good));
  options_.connections_per_upstream = 1;
  make_pool({first_, second_});
  pool_->start();
  settle();
  ASSERT_EQ(net_.streams().size(), 2u);

  ASSERT_TRUE(
      pool_->servers_update(*credentials_, {ServerSpec{first_, kName}, ServerSpec{third, kName}}));
  settle();
  EXPECT_EQ(net_.streams_to(first_), 1u);  // kept, not re-opened
  EXPECT_EQ(net_.streams_to(third), 1u);   // warmed by the reload
  for (const auto& stream : net_.streams()) {
    EXPECT_EQ(stream->client_closed, stream->remote == second_) << stream->remote.to_string();
  }
  const auto status = pool_->upstream_status();
  ASSERT_EQ(status.size(), 2u);  // the configured servers, in their order
  EXPECT_EQ(status[0].name, (ServerSpec{first_, kName}.display()));
  EXPECT_EQ(status[1].name, (ServerSpec{third, kName}.display()));

  for (int i = 0; i < 20; ++i) resolve("q" + std::to_string(i) + ".test");
  settle();
  for (const Outcome& out : outcomes_) EXPECT_TRUE(out.done && !out.error);
  EXPECT_EQ(queries_to(net_, second_), 0u);
  EXPECT_EQ(queries_to(net_, first_) + queries_to(net_, third), 20u);
  EXPECT_EQ(net_.streams().size(), 3u);  // nothing else opened
}

// A removed server's queries in flight are answered on its connection, which closes then.
TEST_F(UpstreamPoolTest, ARemovedServerFinishesItsQueriesThenItsConnectionCloses) {
  net_.serve(first_, server(pki_->good, /*auto_answer=*/false));
  net_.serve(second_, server(pki_->good));
  make_pool({first_});
  Outcome& a = resolve("a.test");
  settle();
  ASSERT_EQ(net_.streams()[0]->server->held().size(), 1u);

  ASSERT_TRUE(pool_->servers_update(*credentials_, {ServerSpec{second_, kName}}));
  Outcome& b = resolve("b.test");
  settle();
  EXPECT_TRUE(b.done && !b.error);  // on the new server
  EXPECT_FALSE(a.done);             // still on the removed one's connection
  EXPECT_FALSE(net_.streams()[0]->client_closed);

  net_.streams()[0]->server->answer_held();
  net_.flush_server(net_.streams()[0]);
  settle();
  ASSERT_TRUE(a.done);
  EXPECT_FALSE(a.error.has_value());
  EXPECT_TRUE(net_.streams()[0]->client_closed);  // idle now: closed
  EXPECT_EQ(pool_->open_connections(), net_.streams_to(second_));
  EXPECT_EQ(pool_->pending(), 0u);
}

TEST_F(UpstreamPoolTest, AServerRemovedThenAddedAgainIsUsedAgain) {
  net_.serve(first_, server(pki_->good));
  net_.serve(second_, server(pki_->good));
  make_pool({first_, second_});
  ASSERT_TRUE(pool_->servers_update(*credentials_, {ServerSpec{second_, kName}}));
  ASSERT_TRUE(pool_->servers_update(*credentials_, {ServerSpec{first_, kName}}));
  settle();
  Outcome& a = resolve("a.test");
  settle();
  EXPECT_TRUE(a.done && !a.error);
  EXPECT_EQ(queries_to(net_, first_), 1u);
  EXPECT_EQ(queries_to(net_, second_), 0u);
  ASSERT_EQ(pool_->upstream_status().size(), 1u);
}

// Removed servers' slots stay (queries in flight keep their index), so they are bounded: past
// kMaxRemovedSlots the caller is told to make a new pool, and nothing changed.
TEST_F(UpstreamPoolTest, TooManyRemovedServersRefuseAnInPlaceUpdate) {
  make_pool({first_});
  std::size_t updated = 0;
  for (int i = 2; i < 40; ++i) {
    const auto next = *SocketAddress::parse("127.0.0." + std::to_string(i) + ":853");
    if (!pool_->servers_update(*credentials_, {ServerSpec{next, kName}})) break;
    ++updated;
  }
  EXPECT_EQ(updated, Pool::kMaxRemovedSlots);
  ASSERT_EQ(pool_->upstream_status().size(), 1u);
  EXPECT_EQ(pool_->upstream_status()[0].name,
            (ServerSpec{*SocketAddress::parse("127.0.0.17:853"), kName}.display()));
}

}  // namespace
}  // namespace dp::upstream
