#include "upstream/udp_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

#include "dns/answer_check.h"
#include "dns/wire.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_datagram.h"
#include "fakes/memory_dot_server.h"
#include "io/run_until.h"
#include "io/socket.h"
#include "io/udp_listener.h"
#include "io/udp_socket.h"

namespace dp::upstream {
namespace {

using testing::Bytes;
using testing::dot_query;
using ::testing::ElementsAre;

dns::Question question_of(const Bytes& query) {
  auto parsed = dns::query_parse(query);
  EXPECT_TRUE(parsed.has_value());
  return parsed ? parsed->question : dns::Question{};
}

struct RecordingListener final : Connection::Listener {
  void on_connection_ready(Connection& /*conn*/) override { ++ready; }
  void on_connection_answer(Connection& /*conn*/, std::uint64_t request_id,
                            std::span<const std::uint8_t> answer) override {
    answers.emplace_back(request_id, Bytes(answer.begin(), answer.end()));
  }
  void on_connection_lost(Connection& /*conn*/, std::uint64_t request_id,
                          UpstreamError error) override {
    lost.emplace_back(request_id, error);
  }
  void on_connection_failed(Connection& /*conn*/, const ConnectionFailure& f) override {
    failures.push_back(f);
  }
  int ready = 0;
  std::vector<std::pair<std::uint64_t, Bytes>> answers;
  std::vector<std::pair<std::uint64_t, UpstreamError>> lost;
  std::vector<ConnectionFailure> failures;
};

class UpstreamUdpConnectionTest : public ::testing::Test {
 protected:
  void open(std::size_t max_in_flight = 256) {
    conn_ = std::make_unique<UdpConnection>(0, ServerSpec{address_, ""}, dgram_.factory(),
                                            net_.factory(), max_in_flight, stats_, listener_,
                                            clock_, loop_);
    conn_->start(clock_.now(), std::chrono::milliseconds(1'000));
  }
  std::uint16_t send(std::uint64_t request_id, const std::string& name) {
    const Bytes query = dot_query(name);
    return conn_->send(request_id, query, question_of(query));
  }
  void settle() {
    for (int i = 0; i < 100; ++i) {
      const std::size_t n = dgram_.pump() + net_.pump();
      loop_.run_pending();
      if (n == 0 && dgram_.pump() + net_.pump() == 0) return;
    }
    ADD_FAILURE() << "never quiet";
  }

  SocketAddress address_ = *SocketAddress::parse("127.0.0.1:53");
  io::EventLoop loop_;
  testing::FakeClock clock_;
  testing::FakeDatagramNetwork dgram_;
  testing::FakeNetwork net_;
  PoolStats stats_;
  RecordingListener listener_;
  std::unique_ptr<UdpConnection> conn_;
};

TEST_F(UpstreamUdpConnectionTest, ReadyAtOnceAndAnswered) {
  dgram_.serve(address_);
  open();
  EXPECT_EQ(conn_->state(), ConnectionState::kReady);
  const std::uint16_t id = send(7, "a.test");
  EXPECT_TRUE(listener_.answers.empty());  // not from inside send()
  EXPECT_EQ(conn_->in_flight(), 1u);
  EXPECT_EQ(conn_->open_sockets(), 1u);
  settle();
  ASSERT_EQ(listener_.answers.size(), 1u);
  EXPECT_EQ(listener_.answers[0].first, 7u);
  EXPECT_EQ(dns::wire_get_id(listener_.answers[0].second), id);
  EXPECT_TRUE(dns::answer_check(listener_.answers[0].second, question_of(dot_query("a.test"))));
  EXPECT_EQ(conn_->in_flight(), 0u);
  EXPECT_EQ(conn_->open_sockets(), 0u);
  EXPECT_EQ(conn_->deadline(), TimePoint::max());
  EXPECT_EQ(listener_.ready, 0);  // nothing proves a UDP server up before it answers
}

TEST_F(UpstreamUdpConnectionTest, ForgetClosesTheSocketAndALateAnswerIsNotDelivered) {
  dgram_.silence(address_);
  open();
  const std::uint16_t id = send(1, "a.test");
  settle();
  auto socket = dgram_.sockets()[0];
  conn_->forget(id);
  EXPECT_TRUE(socket->closed);
  EXPECT_EQ(conn_->in_flight(), 0u);
  dgram_.deliver(socket, testing::zone_answer(socket->sent[0]));
  settle();
  EXPECT_TRUE(listener_.answers.empty());
  EXPECT_TRUE(socket->destroyed);
}

TEST_F(UpstreamUdpConnectionTest, ALostQueryIsReportedFromTheLoopNotFromInsideSend) {
  dgram_.set_open_fails(true);
  open();
  send(5, "a.test");
  EXPECT_TRUE(listener_.lost.empty());
  EXPECT_EQ(conn_->in_flight(), 0u);
  loop_.run_pending();
  ASSERT_EQ(listener_.lost.size(), 1u);
  EXPECT_EQ(listener_.lost[0].first, 5u);
  EXPECT_EQ(listener_.lost[0].second, UpstreamError::kConnectFailed);
  EXPECT_EQ(conn_->state(), ConnectionState::kReady);  // the connection itself stays
  EXPECT_EQ(stats_.udp_errors, 1u);
}

TEST_F(UpstreamUdpConnectionTest, AConnectionFreedBeforeItsLostReportRanReportsNothing) {
  dgram_.set_open_fails(true);
  open();
  send(5, "a.test");
  conn_.reset();
  loop_.run_pending();
  EXPECT_TRUE(listener_.lost.empty());
}

TEST_F(UpstreamUdpConnectionTest, TruncatedAnswerWhoseTcpRetryFailsLosesOnlyThatQuery) {
  dgram_.respond(address_, [](const Bytes& query) {
    Bytes answer = testing::zone_answer(query);
    if (query.size() > 13 && query[13] == 't' && query[14] == 'c') answer[2] |= 0x02;  // TC=1
    return std::vector<Bytes>{answer};
  });
  net_.script(address_, testing::RouteKind::kRefuse);
  open();
  send(1, "tc.test");
  settle();
  ASSERT_EQ(listener_.lost.size(), 1u);
  EXPECT_EQ(listener_.lost[0].first, 1u);
  EXPECT_EQ(stats_.udp_truncated, 1u);
  EXPECT_EQ(conn_->state(), ConnectionState::kReady);
  send(2, "ok.test");  // UDP still serves
  settle();
  ASSERT_EQ(listener_.answers.size(), 1u);
  EXPECT_EQ(listener_.answers[0].first, 2u);
  EXPECT_TRUE(listener_.failures.empty());
}

TEST_F(UpstreamUdpConnectionTest, ForgettingAQueryOnTcpForgetsItThere) {
  dgram_.respond(address_, [](const Bytes& query) {
    Bytes answer = testing::zone_answer(query);
    answer[2] |= 0x02;
    return std::vector<Bytes>{answer};
  });
  testing::MemoryServerOptions plain;
  plain.plain = true;
  plain.auto_answer = false;
  net_.serve(address_, plain);
  open();
  const std::uint16_t id = send(1, "a.test");
  settle();
  ASSERT_EQ(net_.streams().size(), 1u);
  ASSERT_EQ(net_.streams()[0]->server->held().size(), 1u);
  EXPECT_EQ(conn_->in_flight(), 1u);
  conn_->forget(id);
  EXPECT_EQ(conn_->in_flight(), 0u);
  net_.streams()[0]->server->answer_held();
  net_.flush_server(net_.streams()[0]);
  settle();
  EXPECT_TRUE(listener_.answers.empty());
  EXPECT_EQ(stats_.answers_unknown_id, 1u);  // the TCP connection forgot it too
}

TEST_F(UpstreamUdpConnectionTest, IcmpErrorFailsTheConnectionWithEveryQueryOrphaned) {
  dgram_.silence(address_);
  open();
  send(1, "a.test");
  send(2, "b.test");
  settle();
  dgram_.icmp_error(dgram_.sockets()[0], "recv: Connection refused");
  settle();
  ASSERT_EQ(listener_.failures.size(), 1u);
  EXPECT_EQ(listener_.failures[0].error, UpstreamError::kConnectFailed);
  EXPECT_FALSE(listener_.failures[0].was_ready);
  EXPECT_EQ(std::set<std::uint64_t>(listener_.failures[0].orphans.begin(),
                                    listener_.failures[0].orphans.end()),
            std::set<std::uint64_t>({1, 2}));
  EXPECT_EQ(conn_->state(), ConnectionState::kClosed);
  EXPECT_EQ(dgram_.open_sockets(), 0u);
}

TEST_F(UpstreamUdpConnectionTest, LivenessDeadlineRunsFromTheOldestQueryOrTheLastAnswer) {
  dgram_.silence(address_);
  open();
  conn_->set_liveness_timeout(std::chrono::milliseconds(1'000));
  send(1, "a.test");
  clock_.advance(std::chrono::milliseconds(600));
  send(2, "b.test");
  settle();
  EXPECT_EQ(conn_->deadline(), clock_.now() + std::chrono::milliseconds(400));
  EXPECT_FALSE(conn_->on_deadline(clock_.now() + std::chrono::milliseconds(399)));
  auto failure = conn_->on_deadline(clock_.now() + std::chrono::milliseconds(400));
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->error, UpstreamError::kTimeout);
  EXPECT_EQ(failure->orphans.size(), 2u);
  EXPECT_TRUE(listener_.failures.empty());  // returned, never told
  EXPECT_EQ(dgram_.open_sockets(), 0u);
}

TEST_F(UpstreamUdpConnectionTest, InFlightIsBounded) {
  dgram_.silence(address_);
  open(/*max_in_flight=*/2);
  send(1, "a.test");
  EXPECT_TRUE(conn_->has_capacity());
  send(2, "b.test");
  EXPECT_FALSE(conn_->has_capacity());
}

// Real sockets on loopback: a UDP DNS server (io::UdpListener) answers, and each query came
// from a port of its own.
TEST(UpstreamUdpConnectionLoopbackTest, QueriesLeaveFromTheirOwnPortsAndAreAnswered) {
  io::EventLoop loop;
  testing::FakeClock clock;
  const int fd = io::socket_bind(*SocketAddress::parse("127.0.0.1:0"), io::SocketKind::kUdp);
  const SocketAddress server_address = io::socket_local_address(fd);
  std::vector<SocketAddress> from;
  io::UdpListener* server = nullptr;
  io::UdpListener listener(loop, fd,
                           [&](std::span<const std::uint8_t> query, const SocketAddress& sender) {
                             from.push_back(sender);
                             server->send(testing::zone_answer(query), sender);
                           });
  server = &listener;
  PoolStats stats;
  RecordingListener recorder;
  UdpConnection conn(
      0, ServerSpec{server_address, ""},
      [&](const SocketAddress& to, io::DatagramSocket::Handler& handler) {
        return io::UdpSocket::open(loop, to, handler);
      },
      [] { return std::unique_ptr<io::ByteStream>(); }, 16, stats, recorder, clock, loop);
  conn.start(clock.now(), std::chrono::milliseconds(1'000));
  const Bytes a = dot_query("a.test");
  const Bytes b = dot_query("b.test");
  conn.send(1, a, question_of(a));
  conn.send(2, b, question_of(b));
  io::testing::run_until(loop, [&] { return recorder.answers.size() == 2; });
  ASSERT_EQ(recorder.answers.size(), 2u);
  ASSERT_EQ(from.size(), 2u);
  EXPECT_NE(from[0].port(), from[1].port());
  EXPECT_EQ(conn.open_sockets(), 0u);
  EXPECT_EQ(stats.udp_queries, 2u);
  EXPECT_EQ(stats.udp_mismatched, 0u);
}

}  // namespace
}  // namespace dp::upstream
