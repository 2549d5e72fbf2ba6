// One upstream that misbehaves, end to end: the real dotproxy (one worker) in front of the DoT
// test server with one knob set. Each test checks what the client gets, that the next query
// still works, and the server counter that shows the misbehaviour really happened.
#include <algorithm>
#include <map>
#include <set>

#include "fakes/synthetic_zone.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kUpstreamTimeout{1'000};  // --upstream-timeout for the timeout tests
constexpr milliseconds kMargin{700};             // scheduling slack on top of a deadline
constexpr milliseconds kReplyWait{5'000};        // a client never waits longer than this

// What one UDP query got: the parsed reply (null if none came) and how long it took.
struct Reply {
  PacketPtr pkt;
  milliseconds took{0};
  ldns_pkt_rcode rcode() const { return ldns_pkt_get_rcode(pkt.get()); }
};

Reply ask(UdpClient& client, const std::string& name, std::uint16_t id,
          milliseconds timeout = kReplyWait) {
  const auto start = Clock::now();
  client.send(query_build(name, LDNS_RR_TYPE_A, id));
  auto wire = client.receive(timeout);
  Reply reply;
  reply.took = duration_cast<milliseconds>(Clock::now() - start);
  if (wire) reply.pkt = reply_parse(*wire);
  return reply;
}

// The zone's answer to `name` under `id`: NOERROR, the question echoed, A 192.0.2.1.
::testing::AssertionResult is_zone_answer(const Reply& reply, const std::string& name,
                                          std::uint16_t id) {
  if (!reply.pkt) return ::testing::AssertionFailure() << "no reply for " << name;
  const ldns_pkt* pkt = reply.pkt.get();
  if (ldns_pkt_id(pkt) != id) {
    return ::testing::AssertionFailure() << "id " << ldns_pkt_id(pkt) << ", want " << id;
  }
  if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
    return ::testing::AssertionFailure() << "rcode " << ldns_pkt_get_rcode(pkt) << " for " << name;
  }
  if (question_name(pkt) != name) {
    return ::testing::AssertionFailure() << "question " << question_name(pkt) << ", want " << name;
  }
  if (answer_addresses(pkt) != std::vector<std::string>{"192.0.2.1"}) {
    return ::testing::AssertionFailure() << "wrong answer section for " << name;
  }
  return ::testing::AssertionSuccess();
}

// SERVFAIL for `name` under `id`, with the client's own question and no answer records.
::testing::AssertionResult is_servfail(const Reply& reply, const std::string& name,
                                       std::uint16_t id) {
  if (!reply.pkt) return ::testing::AssertionFailure() << "no reply for " << name;
  const ldns_pkt* pkt = reply.pkt.get();
  if (ldns_pkt_id(pkt) != id) {
    return ::testing::AssertionFailure() << "id " << ldns_pkt_id(pkt) << ", want " << id;
  }
  if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_SERVFAIL) {
    return ::testing::AssertionFailure() << "rcode " << ldns_pkt_get_rcode(pkt) << " for " << name;
  }
  if (question_name(pkt) != name) {
    return ::testing::AssertionFailure() << "question " << question_name(pkt) << ", want " << name;
  }
  if (ldns_pkt_ancount(pkt) != 0) {
    return ::testing::AssertionFailure() << ldns_pkt_ancount(pkt) << " answer records";
  }
  return ::testing::AssertionSuccess();
}

class IntegrationMisbehaviourTest : public IntegrationTest {
 protected:
  void SetUp() override { server_ = start_server(); }

  // dotproxy (one worker) in front of server_; waits until its first connection is up so
  // that the knobs set afterwards meet an established connection.
  void start(std::vector<std::string> extra = {}) {
    proxy_ = start_proxy(spec(server_->port()), std::move(extra));
    client_ = std::make_unique<UdpClient>(proxy_->port());
    ASSERT_TRUE(wait_until([&] { return server_->handshakes_completed() >= 1; }, seconds(5)))
        << proxy_->log();
  }

  void start_with_timeout() {
    start({"--upstream-timeout", std::to_string(kUpstreamTimeout.count()) + "ms"});
  }

  // A fresh query after the misbehaviour is switched off gets the zone's answer.
  void expect_next_query_works(const std::string& name, std::uint16_t id) {
    const Reply reply = ask(*client_, name, id);
    EXPECT_TRUE(is_zone_answer(reply, name, id)) << proxy_->log();
  }

  std::unique_ptr<DotTestServer> server_;  // declared first: outlives the proxy
  std::unique_ptr<DotproxyProcess> proxy_;
  std::unique_ptr<UdpClient> client_;
};

TEST_F(IntegrationMisbehaviourTest, ResetInTheMiddleOfAnAnswerIsRetriedAndAnswered) {
  start();
  server_->behaviour().reset_mid_answer = true;
  const Reply reply = ask(*client_, "reset.test.", 1);
  EXPECT_TRUE(is_zone_answer(reply, "reset.test.", 1)) << proxy_->log();
  EXPECT_EQ(server_->resets_sent(), 1u);
  EXPECT_FALSE(server_->behaviour().reset_mid_answer);  // it fired
  // The half answer and the retry's whole one, from one client query.
  EXPECT_EQ(server_->queries_received(), 2u);
  EXPECT_EQ(server_->answers_sent(), 2u);
  expect_next_query_works("after-reset.test.", 2);
}

TEST_F(IntegrationMisbehaviourTest, ConnectionsClosedAfterNQueriesKeepAnswersComing) {
  start();
  constexpr int kPerConnection = 3;
  constexpr int kQueries = 12;
  server_->behaviour().close_after_queries = kPerConnection;
  for (int i = 0; i < kQueries; ++i) {
    const std::string name = "close" + std::to_string(i) + ".test.";
    const Reply reply = ask(*client_, name, static_cast<std::uint16_t>(100 + i));
    EXPECT_TRUE(is_zone_answer(reply, name, static_cast<std::uint16_t>(100 + i))) << proxy_->log();
  }
  // No connection carries more than 3 answers, so 12 answers took at least 4 connections;
  // dotproxy keeps at most 2 open, so the server ended at least 2 of them.
  EXPECT_GE(server_->answers_sent(), static_cast<std::uint64_t>(kQueries));
  EXPECT_GE(server_->connections_accepted(), static_cast<std::uint64_t>(kQueries / kPerConnection));
  EXPECT_GE(server_->connections_closed_by_server(), 2u);
  server_->behaviour().close_after_queries = 0;
  expect_next_query_works("after-close.test.", 200);
}

TEST_F(IntegrationMisbehaviourTest, ConnectionsClosedWhenIdleAreReopenedAndQueriesWork) {
  start();
  ASSERT_TRUE(wait_until([&] { return server_->handshakes_completed() >= 2; }, seconds(5)));
  server_->behaviour().idle_close_ms = 200;
  // Both connections opened at start-up are idle: the server ends them.
  ASSERT_TRUE(wait_until([&] { return server_->connections_closed_by_server() >= 2; }, seconds(3)));
  expect_next_query_works("idle1.test.", 1);
  // That query made the upstream recently used: its next idle close is followed by a warm
  // re-open, and the query after it still works.
  const std::uint64_t accepted = server_->connections_accepted();
  const std::uint64_t closed = server_->connections_closed_by_server();
  ASSERT_TRUE(wait_until(
      [&] {
        return server_->connections_closed_by_server() > closed &&
               server_->connections_accepted() > accepted;
      },
      seconds(3)))
      << proxy_->log();
  expect_next_query_works("idle2.test.", 2);
}

TEST_F(IntegrationMisbehaviourTest, SilentUpstreamIsServfailWithinTheTimeout) {
  start_with_timeout();
  server_->behaviour().silent = true;
  const Reply reply = ask(*client_, "silent.test.", 1);
  EXPECT_TRUE(is_servfail(reply, "silent.test.", 1)) << proxy_->log();
  EXPECT_GE(reply.took, kUpstreamTimeout - milliseconds(100));
  EXPECT_LT(reply.took, kUpstreamTimeout + kMargin);
  EXPECT_GE(server_->queries_received(), 1u);  // it got there and was swallowed
  EXPECT_EQ(server_->answers_sent(), 0u);
  server_->behaviour().silent = false;
  expect_next_query_works("after-silent.test.", 2);
}

TEST_F(IntegrationMisbehaviourTest, SlowAnswerWithinTheTimeoutIsDeliveredBeyondItIsServfail) {
  start_with_timeout();
  server_->behaviour().delay_ms = 300;
  const Reply slow = ask(*client_, "slow.test.", 1);
  EXPECT_TRUE(is_zone_answer(slow, "slow.test.", 1)) << proxy_->log();
  EXPECT_GE(slow.took, milliseconds(300));

  server_->behaviour().delay_ms = 1'500;
  const Reply late = ask(*client_, "late.test.", 2);
  EXPECT_TRUE(is_servfail(late, "late.test.", 2)) << proxy_->log();
  EXPECT_GE(late.took, kUpstreamTimeout - milliseconds(100));
  EXPECT_LT(late.took, kUpstreamTimeout + kMargin);

  server_->behaviour().delay_ms = 0;
  expect_next_query_works("after-slow.test.", 3);
  // The late answer (sent 1.5 s in, after dotproxy gave up) never reaches the client.
  EXPECT_FALSE(client_->receive(milliseconds(700)));
}

TEST_F(IntegrationMisbehaviourTest, OutOfOrderAnswersToFiftyPipelinedTcpQueriesAllMatch) {
  start();
  server_->behaviour().reverse_batches = true;
  constexpr int kQueries = 50;
  TcpClient client(proxy_->port());
  Bytes burst;
  for (int i = 0; i < kQueries; ++i) {
    const Bytes query = query_build("p" + std::to_string(i) + ".order.test.", LDNS_RR_TYPE_A,
                                    static_cast<std::uint16_t>(500 + i));
    burst.push_back(static_cast<std::uint8_t>(query.size() >> 8));
    burst.push_back(static_cast<std::uint8_t>(query.size() & 0xff));
    burst.insert(burst.end(), query.begin(), query.end());
  }
  client.send_raw(burst);  // one write: pipelined
  std::set<int> seen;
  for (int i = 0; i < kQueries; ++i) {
    auto wire = client.receive(kReplyWait);
    ASSERT_TRUE(wire) << "after " << i << " replies\n" << proxy_->log();
    Reply reply{reply_parse(*wire)};
    const int n = ldns_pkt_id(reply.pkt.get()) - 500;
    ASSERT_TRUE(n >= 0 && n < kQueries) << ldns_pkt_id(reply.pkt.get());
    const std::string name = "p" + std::to_string(n) + ".order.test.";
    EXPECT_TRUE(is_zone_answer(reply, name, static_cast<std::uint16_t>(500 + n)));
    EXPECT_TRUE(seen.insert(n).second) << "twice: " << name;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kQueries));
  EXPECT_EQ(server_->answers_sent(), static_cast<std::uint64_t>(kQueries));
  server_->behaviour().reverse_batches = false;
  expect_next_query_works("after-order.test.", 1);
}

// Sends `count` queries at once and expects each to be answered exactly once, with its own
// question, and nothing more to arrive.
void expect_each_answered_once(UdpClient& client, const std::string& tag, int count,
                               const DotproxyProcess& proxy) {
  for (int i = 0; i < count; ++i) {
    client.send(query_build("d" + std::to_string(i) + "." + tag + ".test.", LDNS_RR_TYPE_A,
                            static_cast<std::uint16_t>(1000 + i)));
  }
  std::map<int, int> replies;
  for (int i = 0; i < count; ++i) {
    auto wire = client.receive(kReplyWait);
    ASSERT_TRUE(wire) << "after " << i << " replies\n" << proxy.log();
    Reply reply{reply_parse(*wire)};
    const int n = ldns_pkt_id(reply.pkt.get()) - 1000;
    ASSERT_TRUE(n >= 0 && n < count) << ldns_pkt_id(reply.pkt.get());
    const std::string name = "d" + std::to_string(n) + "." + tag + ".test.";
    EXPECT_TRUE(is_zone_answer(reply, name, static_cast<std::uint16_t>(1000 + n)));
    ++replies[n];
  }
  EXPECT_EQ(replies.size(), static_cast<std::size_t>(count));
  for (const auto& [n, times] : replies) EXPECT_EQ(times, 1) << "query " << n;
  EXPECT_FALSE(client.receive(milliseconds(300))) << "an extra reply";
}

TEST_F(IntegrationMisbehaviourTest, DuplicateAnswersAreDeliveredOnce) {
  start();
  server_->behaviour().duplicate_answers = true;
  expect_each_answered_once(*client_, "dup", 20, *proxy_);
  EXPECT_EQ(server_->answers_sent(), 20u);  // each sent twice, counted once
  server_->behaviour().duplicate_answers = false;
  expect_next_query_works("after-dup.test.", 1);
}

TEST_F(IntegrationMisbehaviourTest, AnswersUnderUnknownIdsAreIgnored) {
  start();
  server_->behaviour().unknown_id_answers = true;
  expect_each_answered_once(*client_, "unknown", 20, *proxy_);
  EXPECT_EQ(server_->answers_sent(), 20u);  // each preceded by a decoy
  server_->behaviour().unknown_id_answers = false;
  expect_next_query_works("after-unknown.test.", 1);
}

TEST_F(IntegrationMisbehaviourTest, AnswerForAnotherQuestionIsNeverDelivered) {
  start_with_timeout();
  server_->behaviour().wrong_question = true;
  const Reply reply = ask(*client_, "www.test.", 1);
  // RFC 7858 §3.3: matched by ID and question; "xwww.test." is discarded, so the query
  // times out.
  EXPECT_TRUE(is_servfail(reply, "www.test.", 1)) << proxy_->log();
  EXPECT_GE(reply.took, kUpstreamTimeout - milliseconds(100));
  EXPECT_LT(reply.took, kUpstreamTimeout + kMargin);
  EXPECT_GE(server_->answers_sent(), 1u);  // the wrong answer did go out
  server_->behaviour().wrong_question = false;
  // Nothing else arrives, in particular nothing about xwww.test.
  auto extra = client_->receive(milliseconds(300));
  EXPECT_FALSE(extra) << (extra ? question_name(reply_parse(*extra).get()) : "");
  // The timed-out name is remembered as failing for --servfail-ttl (RFC 9520 §3.2); another
  // name goes upstream and is answered.
  expect_next_query_works("next.test.", 2);
}

TEST_F(IntegrationMisbehaviourTest, GarbageFramesAreServfailAndTheNextQueryWorks) {
  start_with_timeout();
  server_->behaviour().garbage = true;
  const Reply reply = ask(*client_, "garbage.test.", 1);
  EXPECT_TRUE(is_servfail(reply, "garbage.test.", 1)) << proxy_->log();
  EXPECT_LT(reply.took, kUpstreamTimeout + kMargin);
  EXPECT_GE(server_->queries_received(), 1u);
  EXPECT_EQ(server_->answers_sent(), 0u);  // garbage frames are not answers
  server_->behaviour().garbage = false;
  expect_next_query_works("after-garbage.test.", 2);
}

TEST_F(IntegrationMisbehaviourTest, ZeroLengthPrefixIsServfailAndTheNextQueryWorks) {
  start_with_timeout();
  server_->behaviour().zero_length_prefix = true;
  const Reply reply = ask(*client_, "zero.test.", 1);
  EXPECT_TRUE(is_servfail(reply, "zero.test.", 1)) << proxy_->log();
  // A zero-length frame breaks the stream at once: no need to wait for the timeout.
  EXPECT_LT(reply.took, kUpstreamTimeout - milliseconds(200)) << proxy_->log();
  EXPECT_GE(server_->queries_received(), 1u);
  server_->behaviour().zero_length_prefix = false;
  expect_next_query_works("after-zero.test.", 2);
}

TEST_F(IntegrationMisbehaviourTest, HugePrefixThenSilenceIsServfailWithinTheTimeout) {
  start_with_timeout();
  server_->behaviour().huge_prefix_then_silence = true;
  const Reply reply = ask(*client_, "huge.test.", 1);
  EXPECT_TRUE(is_servfail(reply, "huge.test.", 1)) << proxy_->log();
  EXPECT_LT(reply.took, kUpstreamTimeout + kMargin);
  EXPECT_GE(server_->queries_received(), 1u);
  server_->behaviour().huge_prefix_then_silence = false;
  expect_next_query_works("after-huge.test.", 2);
}

TEST_F(IntegrationMisbehaviourTest, Tls12OnlyServerIsAnsweredAndResumed) {
  DotTestServerConfig config;
  config.cert_file = pki_->good.cert_file;
  config.key_file = pki_->good.key_file;
  config.tls12_only = true;
  server_ = std::make_unique<DotTestServer>(config);
  start();
  expect_next_query_works("tls12.test.", 1);
  // Each connection dies after one answer, so the next query needs a new one, which resumes
  // the TLS 1.2 session of an earlier one.
  server_->behaviour().close_after_queries = 1;
  for (std::uint16_t id = 2; id < 5; ++id) {  // names of their own: not from the cache
    expect_next_query_works("tls12-" + std::to_string(id) + ".test.", id);
  }
  EXPECT_TRUE(wait_until([&] { return server_->handshakes_resumed() >= 1; }, seconds(2)))
      << "handshakes " << server_->handshakes_completed() << "\n"
      << proxy_->log();
}

TEST_F(IntegrationMisbehaviourTest, KeepaliveIsOfferedAndDotproxyClosesBeforeTheServerDoes) {
  server_->behaviour().keepalive_timeout_ms = 1'000;
  start({"--upstream-connections", "1"});  // one connection: each close is dotproxy's or not
  const Reply first = ask(*client_, "ka1.test.", 1);
  const auto answered_at = Clock::now();
  EXPECT_TRUE(is_zone_answer(first, "ka1.test.", 1)) << proxy_->log();
  // RFC 7828 §3.2.1: the query offers edns-tcp-keepalive with no timeout.
  const auto offered = query_option(server_->last_query(), kEdnsKeepaliveCode);
  ASSERT_TRUE(offered);
  EXPECT_TRUE(offered->empty());

  // The answer announced 1 s. dotproxy closes the idle connection at 90 % of it, before the
  // server's own close, and opens a warm one in its place.
  ASSERT_TRUE(wait_until([&] { return server_->connections_accepted() >= 2; }, seconds(3)))
      << proxy_->log();
  const auto reopened_after = Clock::now() - answered_at;
  EXPECT_EQ(server_->connections_closed_by_server(), 0u);
  EXPECT_GE(reopened_after, milliseconds(700));
  EXPECT_LT(reopened_after, milliseconds(1'500));
  EXPECT_TRUE(wait_until([&] { return server_->connections_open() == 1; }, seconds(1)));

  // The warm connection learns the timeout from its first answer and is closed by dotproxy
  // in the same way.
  const Reply second = ask(*client_, "ka2.test.", 2);
  EXPECT_TRUE(is_zone_answer(second, "ka2.test.", 2)) << proxy_->log();
  EXPECT_TRUE(query_has_option(server_->last_query(), kEdnsKeepaliveCode));
  ASSERT_TRUE(wait_until([&] { return server_->connections_accepted() >= 3; }, seconds(3)))
      << proxy_->log();
  EXPECT_EQ(server_->connections_closed_by_server(), 0u);
  // Counted after the accept: waited for.
  EXPECT_TRUE(wait_until([&] { return server_->handshakes_completed() == 3; }, seconds(1)));
}

TEST_F(IntegrationMisbehaviourTest, QueriesArePaddedToMultiplesOf128) {
  start();
  // Names of different lengths, so the padding differs.
  const std::string long_label(60, 'p');
  const std::vector<std::string> names = {
      "a.test.", "padding-check.test.", long_label + "." + long_label + ".test.",
      long_label + "." + long_label + "." + long_label + "." + long_label + ".test."};
  std::set<std::size_t> sizes;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const Reply reply = ask(*client_, names[i], static_cast<std::uint16_t>(i + 1));
    EXPECT_TRUE(is_zone_answer(reply, names[i], static_cast<std::uint16_t>(i + 1)))
        << proxy_->log();
    const std::vector<std::uint8_t> query = server_->last_query();
    EXPECT_EQ(query.size() % 128, 0u) << names[i] << ": " << query.size() << " bytes";
    // RFC 7830 §3: the padding option, its octets zero.
    const auto padding = query_option(query, kEdnsPaddingCode);
    ASSERT_TRUE(padding) << names[i];
    EXPECT_TRUE(std::all_of(padding->begin(), padding->end(), [](auto b) { return b == 0; }));
    sizes.insert(query.size());
  }
  EXPECT_GE(sizes.size(), 2u);  // the long names went past one block
}

}  // namespace
}  // namespace dp::testing
