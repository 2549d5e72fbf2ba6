// DESIGN.md's bad-input table against the real binary: each row gets its answer (or silence),
// and dotproxy keeps serving after all of them.
#include <random>

#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IntegrationBadInputTest : public IntegrationTest {
 protected:
  void SetUp() override {
    server_ = start_server();
    proxy_ = start_proxy(spec(server_->port()), {"--tcp-idle-timeout", "500ms"});
  }

  // A valid query with ID 0x1234 for "www.test." A, EDNS0, then patched by the test.
  static Bytes good() { return query_build("www.test.", LDNS_RR_TYPE_A, 0x1234); }

  std::optional<Bytes> exchange_udp(const Bytes& wire, milliseconds wait = milliseconds(3000)) {
    UdpClient client(proxy_->port());
    client.send(wire);
    return client.receive(wait);
  }

  void expect_rcode(const Bytes& wire, ldns_pkt_rcode rcode, const char* row) {
    SCOPED_TRACE(row);
    auto reply = exchange_udp(wire);
    ASSERT_TRUE(reply) << "no reply";
    auto pkt = reply_parse(*reply);
    ASSERT_TRUE(pkt);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), rcode);
    EXPECT_EQ(ldns_pkt_id(pkt.get()), 0x1234);
    EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
  }

  void expect_still_serving() {
    auto reply = exchange_udp(good());
    ASSERT_TRUE(reply) << proxy_->log();
    auto pkt = reply_parse(*reply);
    EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer_addresses(pkt.get()), std::vector<std::string>{"192.0.2.1"});
    EXPECT_TRUE(proxy_->process().running());
  }

  std::unique_ptr<DotTestServer> server_;
  std::unique_ptr<DotproxyProcess> proxy_;
};

TEST_F(IntegrationBadInputTest, ShorterThanAHeaderIsDropped) {
  EXPECT_FALSE(exchange_udp(Bytes{0x12, 0x34, 0x01}, milliseconds(300)));
  EXPECT_FALSE(exchange_udp(Bytes{}, milliseconds(300)));
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, ResponsesAreDroppedNeverAnswered) {
  Bytes response = good();
  response[2] |= 0x80;  // QR=1: answering would let two resolvers ping-pong forever
  EXPECT_FALSE(exchange_udp(response, milliseconds(300)));
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, MalformedBodyIsFormerr) {
  Bytes truncated = good();
  truncated.resize(17);  // the qname stops mid-label
  expect_rcode(truncated, LDNS_RCODE_FORMERR, "truncated question");
  Bytes bad_label = good();
  bad_label[12] = 0x40;  // reserved label type (RFC 6891 §5)
  expect_rcode(bad_label, LDNS_RCODE_FORMERR, "bad label type");
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, WrongSectionCountsAreFormerr) {
  Bytes no_question = good();
  no_question[5] = 0;  // QDCOUNT 0
  expect_rcode(no_question, LDNS_RCODE_FORMERR, "QDCOUNT=0");
  Bytes two_questions = query_build("www.test.", LDNS_RR_TYPE_A, 0x1234, false);
  const Bytes question(two_questions.begin() + 12, two_questions.end());
  two_questions.insert(two_questions.end(), question.begin(), question.end());
  two_questions[5] = 2;
  expect_rcode(two_questions, LDNS_RCODE_FORMERR, "QDCOUNT=2");
  Bytes answer = query_build("www.test.", LDNS_RR_TYPE_A, 0x1234, false);
  // An A record in the answer section of a query: "www.test." compressed to offset 12.
  answer.insert(answer.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 9});
  answer[7] = 1;  // ANCOUNT 1
  expect_rcode(answer, LDNS_RCODE_FORMERR, "ANCOUNT=1");
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, TwoOptRecordsAreFormerr) {
  Bytes wire = query_build("www.test.", LDNS_RR_TYPE_A, 0x1234, false);
  const Bytes opt = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};  // root, OPT, 1232, v0, no data
  wire.insert(wire.end(), opt.begin(), opt.end());
  wire.insert(wire.end(), opt.begin(), opt.end());
  wire[11] = 2;
  expect_rcode(wire, LDNS_RCODE_FORMERR, "two OPT RRs");
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, OtherOpcodesAreNotimp) {
  for (std::uint8_t opcode : {1, 2, 4, 5}) {  // IQUERY, STATUS, NOTIFY, UPDATE
    Bytes wire = good();
    wire[2] = static_cast<std::uint8_t>((wire[2] & 0x87) | (opcode << 3));
    expect_rcode(wire, LDNS_RCODE_NOTIMPL, "opcode");
  }
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, EdnsVersionOneIsBadvers) {
  Bytes wire = query_build("www.test.", LDNS_RR_TYPE_A, 0x1234, false);
  const Bytes opt = {0, 0, 41, 0x04, 0xd0, 0, 1, 0, 0, 0, 0};  // EDNS version 1
  wire.insert(wire.end(), opt.begin(), opt.end());
  wire[11] = 1;
  auto reply = exchange_udp(wire);
  ASSERT_TRUE(reply);
  auto pkt = reply_parse(*reply);
  // BADVERS = 16: header rcode 0 with extended rcode 1 in our OPT (RFC 6891 §6.1.3).
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), 0);
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(pkt.get()), 1);
  EXPECT_EQ(ldns_pkt_edns_version(pkt.get()), 0);
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, ZoneTransfersAndOddClassesAreRefusedLocally) {
  expect_rcode(query_build("test.", LDNS_RR_TYPE_AXFR, 0x1234), LDNS_RCODE_NOTIMPL, "AXFR");
  expect_rcode(query_build("test.", LDNS_RR_TYPE_IXFR, 0x1234), LDNS_RCODE_NOTIMPL, "IXFR");
  Bytes hesiod = good();
  hesiod[hesiod.size() - 11 - 1] = 4;  // QCLASS HS, the byte before the OPT RR
  expect_rcode(hesiod, LDNS_RCODE_REFUSED, "class HS");
  EXPECT_EQ(server_->queries_received(), 0u);  // none of it went upstream
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, TcpZeroLengthAndStalledPrefixesCloseTheConnection) {
  TcpClient zero(proxy_->port());
  zero.send_raw(Bytes{0, 0});
  EXPECT_TRUE(zero.closed_by_peer(seconds(3)));

  TcpClient stalled(proxy_->port());
  stalled.send_raw(Bytes{0xff, 0xff});              // promises 65535 bytes, sends none
  EXPECT_TRUE(stalled.closed_by_peer(seconds(3)));  // idle timeout is 500 ms here

  TcpClient malformed(proxy_->port());
  Bytes notify = good();
  notify[2] = static_cast<std::uint8_t>((notify[2] & 0x87) | (4 << 3));
  malformed.send(notify);
  auto reply = malformed.receive(seconds(3));
  ASSERT_TRUE(reply);
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOTIMPL);
  malformed.send(good());  // the same connection still works
  reply = malformed.receive(seconds(3));
  ASSERT_TRUE(reply);
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOERROR);
  expect_still_serving();
}

TEST_F(IntegrationBadInputTest, RandomGarbageNeverStopsIt) {
  std::mt19937 rng(20261122);
  UdpClient client(proxy_->port());
  for (int i = 0; i < 2000; ++i) {
    Bytes junk(rng() % 600);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    if (i % 2 == 0 && junk.size() >= 12) junk[2] &= 0x7f;  // QR=0: past the first check
    client.send(junk);
  }
  while (client.receive(milliseconds(200))) {
  }
  expect_still_serving();
}

class IntegrationTcpLimitsTest : public IntegrationTest {};

TEST_F(IntegrationTcpLimitsTest, AClientTricklingAQueryIsClosedAtTheReadTimeout) {
  auto server = start_server();
  auto proxy = start_proxy(spec(server->port()),
                           {"--tcp-idle-timeout", "10s", "--tcp-read-timeout", "600ms"});
  TcpClient slow(proxy->port());
  Bytes framed = {0, 0};
  const Bytes query = query_build("www.test.", LDNS_RR_TYPE_A, 7);
  framed[1] = static_cast<std::uint8_t>(query.size());
  framed.insert(framed.end(), query.begin(), query.end());
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  // One byte every 100 ms would take seconds; each byte resets the idle timer, not this one.
  for (std::size_t i = 0; i < framed.size() && !closed; ++i) {
    closed = !slow.try_send_raw(Bytes{framed[i]}) || slow.closed_by_peer(milliseconds(100));
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(took, milliseconds(500));
  EXPECT_LT(took, milliseconds(1500));
  // Whole queries on another connection are unaffected.
  TcpClient fine(proxy->port());
  fine.send(query);
  auto reply = fine.receive(seconds(3));
  ASSERT_TRUE(reply);
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOERROR);
}

TEST_F(IntegrationTcpLimitsTest, OneAddressCannotTakeEveryConnection) {
  auto server = start_server();
  auto proxy = start_proxy(spec(server->port()), {"--max-tcp-clients-per-address", "3"});
  std::vector<std::unique_ptr<TcpClient>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<TcpClient>(proxy->port()));
  for (auto& client : held) {  // accepted: each answers
    client->send(query_build("www.test.", LDNS_RR_TYPE_A, 1));
    EXPECT_TRUE(client->receive(seconds(3)));
  }
  TcpClient fourth(proxy->port());
  EXPECT_TRUE(fourth.closed_by_peer(seconds(3)));
  // Another address is served (127.0.0.2 is loopback too).
  TcpClient other(proxy->port(), "127.0.0.2");
  other.send(query_build("www.test.", LDNS_RR_TYPE_A, 2));
  EXPECT_TRUE(other.receive(seconds(3)));
  // A slot freed is a slot back.
  held.pop_back();
  std::unique_ptr<TcpClient> again;
  ASSERT_TRUE(wait_until(
      [&] {
        again = std::make_unique<TcpClient>(proxy->port());
        again->send(query_build("www.test.", LDNS_RR_TYPE_A, 3));
        return again->receive(milliseconds(300)).has_value();
      },
      seconds(5)));
}

}  // namespace
}  // namespace dp::testing
