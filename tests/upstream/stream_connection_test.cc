#include "upstream/stream_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "dns/answer_check.h"
#include "dns/framing.h"
#include "dns/wire.h"
#include "fakes/fake_clock.h"
#include "fakes/memory_dot_server.h"
#include "fakes/shared_pki.h"

namespace dp::upstream {
namespace {

using testing::Bytes;
using testing::dot_query;
using ::testing::ElementsAre;
using testing::FakeNetwork;
using ::testing::HasSubstr;
using testing::MemoryServerOptions;
using testing::RouteKind;
using ::testing::UnorderedElementsAre;

constexpr const char* kName = testing::kSharedPkiName;
constexpr std::chrono::milliseconds kHandshakeTimeout{3'000};

dns::Question question_of(const Bytes& query) {
  auto parsed = dns::query_parse(query);
  EXPECT_TRUE(parsed.has_value());
  return parsed ? parsed->question : dns::Question{};
}

bool contains(const Bytes& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

struct RecordingListener final : StreamConnection::Listener {
  struct Answer {
    std::uint64_t request_id;
    Bytes wire;
  };
  void on_connection_ready(Connection& /*conn*/) override { ++ready; }
  void on_connection_answer(Connection& /*conn*/, std::uint64_t request_id,
                            std::span<const std::uint8_t> answer) override {
    answers.push_back(Answer{request_id, Bytes(answer.begin(), answer.end())});
  }
  void on_connection_failed(Connection& /*conn*/, const ConnectionFailure& f) override {
    record(f);
  }
  void record(const ConnectionFailure& f) {
    ++failures;
    failure = f;
    orphans = f.orphans;
  }
  std::vector<std::uint64_t> answered_ids() const {
    std::vector<std::uint64_t> ids;
    for (const auto& a : answers) ids.push_back(a.request_id);
    return ids;
  }

  int ready = 0;
  std::vector<Answer> answers;
  int failures = 0;
  std::optional<ConnectionFailure> failure;
  std::vector<std::uint64_t> orphans;
};

class UpstreamStreamConnectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = &testing::SharedPki::get().pki;
    credentials_ = &testing::SharedPki::get().credentials;
  }

  static MemoryServerOptions server(const testing::CertKey& cert, bool auto_answer) {
    MemoryServerOptions options;
    options.cert_file = cert.cert_file;
    options.key_file = cert.key_file;
    options.auto_answer = auto_answer;
    return options;
  }

  // Opens the connection (start() only: nothing is delivered until pump()).
  void open(std::size_t max_in_flight = 256) {
    conn_ = std::make_unique<StreamConnection>(0, ServerSpec{address_, kName}, *credentials_,
                                               net_.make_stream(), max_in_flight, stats_, listener_,
                                               clock_, loop_);
    stream_ = net_.streams().back();
    conn_->start(clock_.now(), kHandshakeTimeout);
  }
  void open_serving(bool auto_answer) {
    net_.serve(address_, server(pki_->good, auto_answer));
    open();
  }
  std::uint16_t send(std::uint64_t request_id, const std::string& name) {
    const Bytes query = dot_query(name);
    return conn_->send(request_id, query, question_of(query));
  }
  // What the pool's timer does; the failure is returned, never told to the listener.
  void on_deadline(TimePoint now) {
    const int before = listener_.failures;
    const auto failure = conn_->on_deadline(now);
    EXPECT_EQ(listener_.failures, before) << "on_deadline() called back into its owner";
    if (failure) listener_.record(*failure);
  }
  testing::MemoryDotServer& dot_server() { return *stream_->server; }
  // The server sends what the test made it encrypt; then everything is delivered.
  void server_flush() {
    net_.flush_server(stream_);
    net_.pump();
  }

  static const testing::TestPki* pki_;
  static const std::shared_ptr<const tls::ClientCredentials>* credentials_;

  SocketAddress address_ = *SocketAddress::parse("127.0.0.1:853");
  io::EventLoop loop_;  // turned by the tests (run_pending) for failures found inside send()
  testing::FakeClock clock_;
  FakeNetwork net_;
  PoolStats stats_;
  RecordingListener listener_;
  std::unique_ptr<StreamConnection> conn_;
  std::shared_ptr<testing::FakeStreamState> stream_;
};

const testing::TestPki* UpstreamStreamConnectionTest::pki_ = nullptr;
const std::shared_ptr<const tls::ClientCredentials>* UpstreamStreamConnectionTest::credentials_ =
    nullptr;

TEST_F(UpstreamStreamConnectionTest, QueryIsAnsweredAfterTheHandshake) {
  open_serving(true);
  EXPECT_EQ(conn_->state(), ConnectionState::kConnecting);
  send(7, "a.test");
  net_.pump();
  EXPECT_EQ(listener_.ready, 1);
  EXPECT_EQ(conn_->state(), ConnectionState::kReady);
  EXPECT_EQ(conn_->deadline(), TimePoint::max());
  ASSERT_EQ(listener_.answers.size(), 1u);
  EXPECT_EQ(listener_.answers[0].request_id, 7u);
  EXPECT_TRUE(dns::answer_check(listener_.answers[0].wire, question_of(dot_query("a.test"))));
  EXPECT_EQ(conn_->in_flight(), 0u);
  EXPECT_EQ(stats_.connections_opened, 1u);
  EXPECT_EQ(stats_.handshakes, 1u);
  EXPECT_EQ(listener_.failures, 0);
}

// RFC 7766 §7: replies may come in any order; each goes to its own request.
TEST_F(UpstreamStreamConnectionTest, PipelinedAnswersOutOfOrderReachTheirRequests) {
  open_serving(false);
  const std::uint16_t id_a = send(11, "a.test");
  const std::uint16_t id_b = send(12, "b.test");
  const std::uint16_t id_c = send(13, "c.test");
  net_.pump();
  ASSERT_EQ(dot_server().held().size(), 3u);
  EXPECT_EQ(std::set<std::uint16_t>({id_a, id_b, id_c}).size(), 3u);
  std::set<std::uint16_t> on_wire;
  for (const Bytes& q : dot_server().held()) on_wire.insert(dns::wire_get_id(q));
  EXPECT_EQ(on_wire, std::set<std::uint16_t>({id_a, id_b, id_c}));
  EXPECT_TRUE(listener_.answers.empty());

  dot_server().answer_held(/*reversed=*/true);
  server_flush();
  ASSERT_THAT(listener_.answered_ids(), ElementsAre(13u, 12u, 11u));
  const char* names[] = {"c.test", "b.test", "a.test"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(dns::answer_check(listener_.answers[i].wire, question_of(dot_query(names[i]))))
        << names[i];
  }
  EXPECT_EQ(conn_->in_flight(), 0u);
}

// Stock Unbound leaves Nagle's algorithm on (RFC 896): it holds answers until we ACK the last
// ones, up to our 40 ms delayed ACK. A read that leaves a few queries in flight asks for the ACK
// now; none left (nothing is held back) or many (busy: the next queries carry it) does not.
TEST_F(UpstreamStreamConnectionTest, AReadLeavingFewQueriesInFlightAsksForAnAck) {
  open_serving(false);
  for (int i = 0; i < 6; ++i)
    send(static_cast<std::uint64_t>(i), "n" + std::to_string(i) + ".test");
  net_.pump();
  ASSERT_EQ(dot_server().held().size(), 6u);
  const std::vector<Bytes> held = dot_server().held();
  const int before = stream_->acks_asked;  // the handshake's reads, with 6 in flight: none
  EXPECT_EQ(before, 0);
  const auto answer = [&](std::size_t i) {
    dot_server().send_message(testing::zone_answer(held[i]));
    server_flush();
  };
  answer(0);  // 5 in flight
  EXPECT_EQ(stream_->acks_asked, 0);
  answer(1);  // 4 in flight
  EXPECT_EQ(stream_->acks_asked, 1);
  for (std::size_t i = 2; i < 5; ++i) answer(i);
  EXPECT_EQ(stream_->acks_asked, 4);
  answer(5);  // none
  EXPECT_EQ(stream_->acks_asked, 4);
  EXPECT_EQ(listener_.answers.size(), 6u);
  EXPECT_EQ(conn_->in_flight(), 0u);
}

TEST_F(UpstreamStreamConnectionTest, Tls12OnlyServerAnswers) {
  MemoryServerOptions options = server(pki_->good, true);
  options.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
  net_.serve(address_, options);
  open();
  send(1, "a.test");
  net_.pump();
  EXPECT_THAT(listener_.answered_ids(), ElementsAre(1u));
  EXPECT_EQ(listener_.failures, 0);
}

// TCP cuts TLS records anywhere: one byte per callback still makes whole answers.
TEST_F(UpstreamStreamConnectionTest, ServerBytesOneAtATime) {
  net_.set_segment_size(1);
  open_serving(true);
  send(1, "a.test");
  send(2, "big.test");  // 100 A records: several hundred bytes, many segments
  net_.pump();
  EXPECT_THAT(listener_.answered_ids(), UnorderedElementsAre(1u, 2u));
  EXPECT_EQ(listener_.failures, 0);
}

// An answer bigger than a TLS record (16 KiB) comes in several records and is reassembled.
TEST_F(UpstreamStreamConnectionTest, AnswerSpanningSeveralTlsRecords) {
  net_.set_segment_size(1000);
  open_serving(false);
  const std::uint16_t id = send(1, "a.test");
  net_.pump();
  Bytes answer = testing::zone_answer(dot_server().held()[0]);
  ASSERT_EQ(dns::wire_get_id(answer), id);
  ASSERT_EQ(answer[7], 1);  // ANCOUNT 1, nothing after the answer section
  ASSERT_EQ(answer[9] + answer[11], 0);
  constexpr int kExtra = 2500;  // 16 bytes each: 40 000 bytes
  for (int i = 0; i < kExtra; ++i) {
    answer.insert(answer.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51,
                                 static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
  }
  answer[6] = static_cast<std::uint8_t>((kExtra + 1) >> 8);
  answer[7] = static_cast<std::uint8_t>(kExtra + 1);
  dot_server().send_message(answer);
  server_flush();
  ASSERT_THAT(listener_.answered_ids(), ElementsAre(1u));
  EXPECT_EQ(listener_.answers[0].wire, answer);
}

TEST_F(UpstreamStreamConnectionTest, PendingIdsAreUniqueUpToTheCap) {
  net_.serve(address_, server(pki_->good, false));
  open(/*max_in_flight=*/300);
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 300; ++i) ids.insert(send(i, "q" + std::to_string(i) + ".test"));
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_FALSE(conn_->has_capacity());
  EXPECT_EQ(conn_->in_flight(), 300u);
}

TEST_F(UpstreamStreamConnectionTest, AnswerWithUnknownIdIsCountedAndIgnored) {
  open_serving(false);
  const std::uint16_t id = send(1, "a.test");
  net_.pump();
  ASSERT_EQ(dot_server().held().size(), 1u);
  Bytes stray = testing::zone_answer(dot_server().held()[0]);
  dns::wire_set_id(stray, static_cast<std::uint16_t>(id ^ 1));
  dot_server().send_message(stray);
  server_flush();
  EXPECT_EQ(stats_.answers_unknown_id, 1u);
  EXPECT_TRUE(listener_.answers.empty());
  EXPECT_EQ(conn_->in_flight(), 1u);
  EXPECT_EQ(conn_->state(), ConnectionState::kReady);

  dot_server().answer_held();  // the real answer still gets through
  server_flush();
  EXPECT_THAT(listener_.answered_ids(), ElementsAre(1u));
}

// RFC 7858 §3.3 / RFC 5452 §9.1: the right ID with another question is not our answer.
TEST_F(UpstreamStreamConnectionTest, AnswerToAnotherQuestionIsDiscardedAndQueryStaysPending) {
  open_serving(false);
  const std::uint16_t id = send(1, "a.test");
  net_.pump();
  Bytes other = dot_query("b.test");
  dns::wire_set_id(other, id);
  dot_server().send_message(testing::zone_answer(other));
  server_flush();
  EXPECT_EQ(stats_.answers_mismatched, 1u);
  EXPECT_EQ(stats_.answers_unknown_id, 0u);
  EXPECT_TRUE(listener_.answers.empty());
  EXPECT_EQ(conn_->in_flight(), 1u);
  EXPECT_EQ(conn_->state(), ConnectionState::kReady);

  dot_server().answer_held();
  server_flush();
  ASSERT_THAT(listener_.answered_ids(), ElementsAre(1u));
  EXPECT_TRUE(dns::answer_check(listener_.answers[0].wire, question_of(dot_query("a.test"))));
}

TEST_F(UpstreamStreamConnectionTest, QueryEchoedBackIsNotAnAnswer) {
  open_serving(false);
  send(1, "a.test");
  net_.pump();
  dot_server().send_message(dot_server().held()[0]);  // QR=0: a query, not a response
  server_flush();
  EXPECT_EQ(stats_.answers_mismatched, 1u);
  EXPECT_TRUE(listener_.answers.empty());
  EXPECT_EQ(conn_->in_flight(), 1u);
}

// Nothing in clear, ever: a query sent while connecting waits for the handshake.
TEST_F(UpstreamStreamConnectionTest, NothingIsWrittenInClearBeforeTheHandshake) {
  open_serving(true);
  send(1, "secret-label.test");
  EXPECT_TRUE(stream_->written.empty());  // not even connected yet
  ASSERT_TRUE(net_.pump_one());           // connected: the ClientHello, nothing else
  auto hello = testing::split_tls_records(stream_->written);
  ASSERT_EQ(hello.size(), 1u);
  EXPECT_EQ(hello[0][0], 0x16);  // handshake record
  EXPECT_EQ(hello[0][5], 0x01);  // ClientHello
  EXPECT_FALSE(contains(stream_->written, "secret-label"));

  net_.pump();
  ASSERT_THAT(listener_.answered_ids(), ElementsAre(1u));
  // Everything the client wrote is TLS records, and the name never appears in clear.
  auto records = testing::split_tls_records(stream_->written);
  ASSERT_GE(records.size(), 3u);
  std::size_t total = 0;
  for (const Bytes& r : records) {
    EXPECT_TRUE(r[0] >= 0x14 && r[0] <= 0x17) << "record type " << int{r[0]};
    total += r.size();
  }
  EXPECT_EQ(total, stream_->written.size());
  EXPECT_FALSE(contains(stream_->written, "secret-label"));
  EXPECT_EQ(dot_server().queries().size(), 1u);
}

TEST_F(UpstreamStreamConnectionTest, PeerCloseReportsQueriesInFlightAsOrphans) {
  open_serving(false);
  send(1, "a.test");
  send(2, "b.test");
  net_.pump();
  ASSERT_EQ(dot_server().held().size(), 2u);
  net_.close_from_server(stream_);
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kClosed);
  EXPECT_TRUE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, UnorderedElementsAre(1u, 2u));
  EXPECT_EQ(conn_->state(), ConnectionState::kClosed);
  EXPECT_FALSE(conn_->has_capacity());
  EXPECT_TRUE(stream_->client_closed);
}

TEST_F(UpstreamStreamConnectionTest, CloseNotifyWithQueriesInFlightReportsOrphans) {
  open_serving(false);
  send(1, "a.test");
  net_.pump();
  net_.close_from_server(stream_, /*close_notify=*/true);
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kClosed);
  EXPECT_TRUE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, ElementsAre(1u));
}

// An answer that arrives just before the FIN is still delivered; only the rest is orphaned.
TEST_F(UpstreamStreamConnectionTest, AnswerBeforeTheFinIsDelivered) {
  open_serving(false);
  send(1, "a.test");
  send(2, "b.test");
  net_.pump();
  const Bytes first = dot_server().held()[0];
  dot_server().send_message(testing::zone_answer(first));
  net_.flush_server(stream_);
  net_.close_from_server(stream_);
  net_.pump();
  EXPECT_THAT(listener_.answered_ids(), ElementsAre(1u));
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_TRUE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, ElementsAre(2u));
}

TEST_F(UpstreamStreamConnectionTest, HandshakeVerifyFailureIsNotReady) {
  net_.serve(address_, server(pki_->wrong_name, true));
  open();
  send(1, "secret-label.test");
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kTlsVerify);
  EXPECT_FALSE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.failure->detail, HasSubstr("does not match"));
  EXPECT_THAT(listener_.orphans, ElementsAre(1u));
  EXPECT_EQ(listener_.ready, 0);
  EXPECT_EQ(stats_.handshakes, 0u);
  EXPECT_FALSE(contains(stream_->written, "secret-label"));
  EXPECT_TRUE(dot_server().queries().empty());
}

TEST_F(UpstreamStreamConnectionTest, UntrustedCertIsAVerifyFailure) {
  net_.serve(address_, server(pki_->untrusted, true));
  open();
  send(1, "a.test");
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kTlsVerify);
  EXPECT_FALSE(listener_.failure->was_ready);
}

TEST_F(UpstreamStreamConnectionTest, RefusedConnectFails) {
  net_.script(address_, RouteKind::kRefuse);
  open();
  send(1, "a.test");
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kConnectFailed);
  EXPECT_FALSE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, ElementsAre(1u));
}

TEST_F(UpstreamStreamConnectionTest, GarbageInsteadOfTlsFailsTheHandshake) {
  net_.script(address_, RouteKind::kGarbage);
  open();
  send(1, "a.test");
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kTlsHandshake);
  EXPECT_FALSE(listener_.failure->was_ready);
}

TEST_F(UpstreamStreamConnectionTest, ServerClosingDuringHandshakeIsAHandshakeFailure) {
  net_.script(address_, RouteKind::kBlackHole);
  open();
  net_.pump();
  net_.close_from_server(stream_);
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kTlsHandshake);
  EXPECT_FALSE(listener_.failure->was_ready);
}

TEST_F(UpstreamStreamConnectionTest, ConnectDeadlineFailsWithConnectFailed) {
  net_.script(address_, RouteKind::kHang);
  open();
  send(1, "a.test");
  net_.pump();
  EXPECT_EQ(conn_->deadline(), clock_.now() + kHandshakeTimeout);
  on_deadline(clock_.now() + kHandshakeTimeout - std::chrono::milliseconds(1));
  EXPECT_EQ(listener_.failures, 0);
  on_deadline(clock_.now() + kHandshakeTimeout);
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kConnectFailed);
  EXPECT_FALSE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, ElementsAre(1u));
  EXPECT_TRUE(stream_->client_closed);
}

TEST_F(UpstreamStreamConnectionTest, HandshakeDeadlineFailsWithTlsHandshake) {
  net_.script(address_, RouteKind::kBlackHole);  // connects, never answers the ClientHello
  open();
  net_.pump();
  EXPECT_EQ(conn_->state(), ConnectionState::kHandshaking);
  on_deadline(clock_.now() + kHandshakeTimeout);
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kTlsHandshake);
  EXPECT_FALSE(listener_.failure->was_ready);
}

TEST_F(UpstreamStreamConnectionTest, SilentConnectionFailsAtItsLivenessDeadline) {
  open_serving(false);
  conn_->set_liveness_timeout(std::chrono::milliseconds(1'000));
  send(1, "a.test");
  net_.pump();
  ASSERT_EQ(conn_->state(), ConnectionState::kReady);
  // New queries do not push the deadline back: it runs from the oldest unanswered one.
  clock_.advance(std::chrono::milliseconds(600));
  send(2, "b.test");
  net_.pump();
  on_deadline(clock_.now() + std::chrono::milliseconds(399));
  EXPECT_EQ(listener_.failures, 0);
  on_deadline(clock_.now() + std::chrono::milliseconds(400));
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kTimeout);
  EXPECT_TRUE(listener_.failure->was_ready);
  EXPECT_EQ(listener_.orphans.size(), 2u);
}

TEST_F(UpstreamStreamConnectionTest, AnAnswerRestartsTheLivenessClock) {
  open_serving(false);
  conn_->set_liveness_timeout(std::chrono::milliseconds(1'000));
  send(1, "a.test");
  send(2, "b.test");
  net_.pump();
  clock_.advance(std::chrono::milliseconds(900));
  dot_server().send_message(testing::zone_answer(dot_server().held().front()));  // one: alive
  server_flush();
  ASSERT_EQ(listener_.answers.size(), 1u);
  on_deadline(clock_.now() + std::chrono::milliseconds(999));
  EXPECT_EQ(listener_.failures, 0);
  EXPECT_EQ(conn_->in_flight(), 1u);
}

TEST_F(UpstreamStreamConnectionTest, IdleWithoutKeepaliveHasNoDeadline) {
  open_serving(true);
  send(1, "a.test");
  net_.pump();
  ASSERT_EQ(listener_.answers.size(), 1u);
  EXPECT_EQ(conn_->deadline(), TimePoint::max());
  on_deadline(clock_.now() + std::chrono::hours(1));
  EXPECT_EQ(listener_.failures, 0);
}

TEST_F(UpstreamStreamConnectionTest, ForgottenQueryAnswerCountsAsUnknown) {
  open_serving(false);
  const std::uint16_t id = send(1, "a.test");
  net_.pump();
  conn_->forget(id);
  EXPECT_EQ(conn_->in_flight(), 0u);
  dot_server().answer_held();
  server_flush();
  EXPECT_EQ(stats_.answers_unknown_id, 1u);
  EXPECT_TRUE(listener_.answers.empty());
  EXPECT_EQ(conn_->state(), ConnectionState::kReady);
}

TEST_F(UpstreamStreamConnectionTest, FrameShorterThanAHeaderIsAProtocolError) {
  open_serving(false);
  send(1, "a.test");
  net_.pump();
  dot_server().send_message(Bytes{1, 2, 3});
  server_flush();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kProtocol);
  EXPECT_TRUE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, ElementsAre(1u));
}

// The ownership contract: a write that fails inside send() closes the connection there, but
// the owner hears of it from the loop, once send() has returned (the pool would otherwise
// retry or finish the very query it is sending, and free what it is using).
TEST_F(UpstreamStreamConnectionTest, AFailureInsideSendIsReportedFromTheLoopNotFromInsideIt) {
  open_serving(false);
  send(1, "a.test");
  net_.pump();
  ASSERT_EQ(conn_->state(), ConnectionState::kReady);
  stream_->reset_inside_write = true;
  send(2, "b.test");
  EXPECT_EQ(listener_.failures, 0);
  EXPECT_EQ(conn_->state(), ConnectionState::kClosed);  // closed at once: no second send
  EXPECT_FALSE(conn_->has_capacity());
  EXPECT_EQ(conn_->deadline(), TimePoint::max());
  loop_.run_pending();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kClosed);
  EXPECT_TRUE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, UnorderedElementsAre(1u, 2u));
  loop_.run_pending();
  EXPECT_EQ(listener_.failures, 1);  // once
}

// A connection freed before the loop turned takes its report with it (ASan: the report
// would run on freed memory).
TEST_F(UpstreamStreamConnectionTest, AConnectionFreedBeforeItsReportRanReportsNothing) {
  open_serving(false);
  send(1, "a.test");
  net_.pump();
  stream_->reset_inside_write = true;
  send(2, "b.test");
  conn_.reset();
  loop_.run_pending();
  EXPECT_EQ(listener_.failures, 0);
  EXPECT_TRUE(stream_->destroyed);
}

// Its owner's stats and listener may be gone before it is freed (a retired pool's failed
// connection, freed by the loop): the destructor touches neither (ASan: used after free).
TEST_F(UpstreamStreamConnectionTest, AFailedConnectionOutlivesItsStatsAndListener) {
  net_.serve(address_, server(pki_->good, false));
  auto stats = std::make_unique<PoolStats>();
  auto listener = std::make_unique<RecordingListener>();
  auto conn =
      std::make_unique<StreamConnection>(0, ServerSpec{address_, kName}, *credentials_,
                                         net_.make_stream(), 16, *stats, *listener, clock_, loop_);
  conn->start(clock_.now(), kHandshakeTimeout);
  const Bytes query = dot_query("a.test");
  conn->send(1, query, question_of(query));
  net_.pump();
  net_.close_from_server(net_.streams().back());
  net_.pump();
  ASSERT_EQ(listener->failures, 1);
  listener.reset();
  stats.reset();
  conn.reset();
  EXPECT_TRUE(net_.streams().back()->destroyed);
}

TEST_F(UpstreamStreamConnectionTest, CloseReportsNothing) {
  open_serving(false);
  send(1, "a.test");
  net_.pump();
  conn_->close();
  net_.close_from_server(stream_);
  net_.pump();
  EXPECT_EQ(listener_.failures, 0);
  EXPECT_TRUE(stream_->client_closed);
}

// Plain DNS over TCP (RFC 7766): the same connection without credentials.
class UpstreamStreamConnectionPlainTest : public UpstreamStreamConnectionTest {
 protected:
  void open_plain(bool auto_answer) {
    MemoryServerOptions options;
    options.plain = true;
    options.auto_answer = auto_answer;
    net_.serve(address_, options);
    conn_ =
        std::make_unique<StreamConnection>(0, ServerSpec{address_, ""}, nullptr, net_.make_stream(),
                                           256, stats_, listener_, clock_, loop_);
    stream_ = net_.streams().back();
    conn_->start(clock_.now(), kHandshakeTimeout);
  }
};

TEST_F(UpstreamStreamConnectionPlainTest, ReadyOnConnectAndAnswersOutOfOrder) {
  open_plain(/*auto_answer=*/false);
  EXPECT_FALSE(conn_->tls());
  const Bytes query = dot_query("a.test");
  conn_->send(11, query, question_of(query));  // held until connected
  EXPECT_TRUE(stream_->written.empty());
  send(12, "b.test");
  net_.pump();
  EXPECT_EQ(listener_.ready, 1);
  EXPECT_EQ(conn_->state(), ConnectionState::kReady);
  ASSERT_EQ(dot_server().held().size(), 2u);
  send(13, "c.test");  // Ready: straight out
  net_.pump();
  ASSERT_EQ(dot_server().held().size(), 3u);
  dot_server().answer_held(/*reversed=*/true);
  server_flush();
  ASSERT_THAT(listener_.answered_ids(), ElementsAre(13u, 12u, 11u));
  EXPECT_TRUE(dns::answer_check(listener_.answers[2].wire, question_of(query)));
  EXPECT_EQ(stats_.handshakes, 0u);
  EXPECT_EQ(stats_.connections_opened, 1u);
  EXPECT_FALSE(conn_->certificate_expiry().has_value());
}

// The wire carries length-prefixed DNS messages and nothing else: no ClientHello, ever.
TEST_F(UpstreamStreamConnectionPlainTest, NeverSpeaksTls) {
  open_plain(/*auto_answer=*/true);
  send(1, "a.test");
  send(2, "b.test");
  net_.pump();
  ASSERT_EQ(listener_.answers.size(), 2u);
  const Bytes& wire = stream_->written;
  dns::FrameAssembler frames;
  frames.feed(wire);
  std::size_t messages = 0;
  while (auto message = frames.next()) {
    EXPECT_EQ(dns::wire_get_rcode(*message), dns::Rcode::kNoError);
    ++messages;
  }
  EXPECT_EQ(messages, 2u);
  ASSERT_GE(wire.size(), 2u);
  EXPECT_NE(wire[0], 0x16);  // a TLS handshake record would start so
}

// A ByteStream that sends nothing until the test ends the loop turn (on_stream_flush()).
class TurnStream final : public io::ByteStream {
 public:
  void connect(const SocketAddress& /*to*/, Handler& handler) override { handler_ = &handler; }
  void write(std::span<const std::uint8_t> bytes) override {
    writes.emplace_back(bytes.begin(), bytes.end());
  }
  std::size_t write_pending() const override { return 0; }
  void write_soon() override { flush_asked = true; }
  void close() override { handler_ = nullptr; }
  void end_turn() {
    if (std::exchange(flush_asked, false) && handler_ != nullptr) handler_->on_stream_flush();
  }
  Handler* handler_ = nullptr;
  bool flush_asked = false;
  std::vector<Bytes> writes;
};

// Like the TLS corking: the queries of one loop turn leave in one write.
TEST_F(UpstreamStreamConnectionPlainTest, QueriesOfOneTurnLeaveInOneWrite) {
  auto owned = std::make_unique<TurnStream>();
  TurnStream& stream = *owned;
  conn_ = std::make_unique<StreamConnection>(0, ServerSpec{address_, ""}, nullptr, std::move(owned),
                                             256, stats_, listener_, clock_, loop_);
  conn_->start(clock_.now(), kHandshakeTimeout);
  ASSERT_NE(stream.handler_, nullptr);
  stream.handler_->on_stream_connected();
  stream.end_turn();
  for (int i = 0; i < 3; ++i)
    send(static_cast<std::uint64_t>(i), "t" + std::to_string(i) + ".test");
  EXPECT_TRUE(stream.writes.empty());
  stream.end_turn();
  ASSERT_EQ(stream.writes.size(), 1u);
  dns::FrameAssembler frames;
  frames.feed(stream.writes[0]);
  std::size_t messages = 0;
  while (frames.next()) ++messages;
  EXPECT_EQ(messages, 3u);
  send(9, "next.test");  // the next turn: its own write
  stream.end_turn();
  EXPECT_EQ(stream.writes.size(), 2u);
}

TEST_F(UpstreamStreamConnectionPlainTest, AReadLeavingFewQueriesInFlightAsksForAnAck) {
  open_plain(/*auto_answer=*/false);
  for (int i = 0; i < 5; ++i)
    send(static_cast<std::uint64_t>(i), "n" + std::to_string(i) + ".test");
  net_.pump();
  const std::vector<Bytes> held = dot_server().held();
  ASSERT_EQ(held.size(), 5u);
  dot_server().send_message(testing::zone_answer(held[0]));  // 4 left in flight
  server_flush();
  EXPECT_EQ(stream_->acks_asked, 1);
  for (std::size_t i = 1; i < 5; ++i) {
    dot_server().send_message(testing::zone_answer(held[i]));
    server_flush();
  }
  EXPECT_EQ(stream_->acks_asked, 4);  // none when nothing is left
}

TEST_F(UpstreamStreamConnectionPlainTest, AnswerToAnotherQuestionIsDiscarded) {
  open_plain(/*auto_answer=*/false);
  send(1, "a.test");
  net_.pump();
  Bytes other = testing::zone_answer(dot_query("other.test"));
  dns::wire_set_id(other, dns::wire_get_id(dot_server().held()[0]));
  dot_server().send_message(other);
  server_flush();
  EXPECT_TRUE(listener_.answers.empty());
  EXPECT_EQ(stats_.answers_mismatched, 1u);
  EXPECT_EQ(conn_->in_flight(), 1u);
}

TEST_F(UpstreamStreamConnectionPlainTest, SilentServerFailsAtTheLivenessDeadline) {
  open_plain(/*auto_answer=*/false);
  conn_->set_liveness_timeout(std::chrono::milliseconds(1'000));
  send(1, "a.test");
  net_.pump();
  on_deadline(clock_.now() + std::chrono::milliseconds(999));
  EXPECT_EQ(listener_.failures, 0);
  on_deadline(clock_.now() + std::chrono::milliseconds(1'000));
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kTimeout);
  EXPECT_THAT(listener_.orphans, ElementsAre(1u));
}

TEST_F(UpstreamStreamConnectionPlainTest, RefusedConnectIsAConnectFailure) {
  net_.script(address_, RouteKind::kRefuse);
  conn_ =
      std::make_unique<StreamConnection>(0, ServerSpec{address_, ""}, nullptr, net_.make_stream(),
                                         256, stats_, listener_, clock_, loop_);
  conn_->start(clock_.now(), kHandshakeTimeout);
  send(1, "a.test");
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kConnectFailed);
  EXPECT_FALSE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, ElementsAre(1u));
}

TEST_F(UpstreamStreamConnectionPlainTest, ServerClosingBeforeAnswersReportsOrphans) {
  open_plain(/*auto_answer=*/false);
  send(1, "a.test");
  net_.pump();
  net_.close_from_server(stream_);
  net_.pump();
  ASSERT_EQ(listener_.failures, 1);
  EXPECT_EQ(listener_.failure->error, UpstreamError::kClosed);
  EXPECT_TRUE(listener_.failure->was_ready);
  EXPECT_THAT(listener_.orphans, ElementsAre(1u));
}

}  // namespace
}  // namespace dp::upstream
