// TcpClientConnection under a StreamTransform (tcp_client_filter.cc): first over a fake
// transform that masks every byte (the handshake gate, its deadline, a failed handshake's
// alert, a bad record, pipelining and the output bound on plaintext), then over real TLS: the
// DoT listener's transform against a tls::ClientSession on the test's end of the socket.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "fakes/fake_stream_transform.h"
#include "fakes/shared_pki.h"
#include "io/client_peer.h"
#include "proxy/tls_transform.h"
#include "tls/client_session.h"
#include "tls/server_credentials.h"

namespace dp::io {
namespace {

using dp::testing::FakeStreamTransform;
using dp::testing::FakeTransformControl;
using std::chrono::milliseconds;
using testing::Bytes;
using testing::bytes_of;
using testing::ClientPeer;
using testing::frame;
using testing::frames_take;

std::span<const std::uint8_t> span_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::unique_ptr<StreamTransform> fake(FakeTransformControl& control) {
  return std::make_unique<FakeStreamTransform>(control);
}

std::string unmask(const std::string& wire) {
  const Bytes plain = FakeStreamTransform::mask(bytes_of(wire));
  return std::string(plain.begin(), plain.end());
}

// Says hello and waits for the welcome: the transform's handshake is done.
void handshake(ClientPeer& peer) {
  peer.send(FakeStreamTransform::kHello);
  std::string got;
  peer.run([&] {
    got += peer.read_available();
    return got.size() >= FakeStreamTransform::kWelcome.size();
  });
  ASSERT_EQ(got, FakeStreamTransform::kWelcome);
}

TEST(TcpClientFilter, PipelinedQueriesRunOverTheTransformsPlaintext) {
  FakeTransformControl control;
  ClientPeer peer(TcpClientLimits{}, fake(control));
  handshake(peer);
  Bytes all = frame("q0");
  const Bytes q1 = frame("q1");
  all.insert(all.end(), q1.begin(), q1.end());
  peer.send(FakeStreamTransform::mask(all));
  peer.run([&] { return peer.handler.messages.size() == 2; });
  EXPECT_EQ(peer.handler.messages, (std::vector<std::string>{"q0", "q1"}));
  peer.conn->send(span_of("a1"));
  peer.conn->send(span_of("a0"));
  std::string wire;
  std::vector<std::string> replies;
  peer.run([&] {
    wire += peer.read_available();
    std::string plain = unmask(wire);
    replies = frames_take(plain);
    return replies.size() == 2;
  });
  EXPECT_EQ(replies, (std::vector<std::string>{"a1", "a0"}));
  EXPECT_FALSE(peer.handler.closed);
}

TEST(TcpClientFilter, NoQueryIsTakenBeforeTheHandshakeIsDone) {
  FakeTransformControl control;
  ClientPeer peer(TcpClientLimits{}, fake(control));
  // Half a hello, then nothing: the framing sees no byte, even of a query sent with it.
  peer.send(std::string(FakeStreamTransform::kHello.substr(0, 3)));
  peer.turns();
  EXPECT_TRUE(peer.handler.messages.empty());
  EXPECT_EQ(peer.read_available(), "");
  peer.send(std::string(FakeStreamTransform::kHello.substr(3)));
  peer.send(FakeStreamTransform::mask(frame("q0")));
  peer.run([&] { return !peer.handler.messages.empty(); });
  EXPECT_EQ(peer.handler.messages, std::vector<std::string>{"q0"});
}

TEST(TcpClientFilter, AClientThatNeverFinishesTheHandshakeMeetsItsDeadline) {
  FakeTransformControl control;
  TcpClientLimits limits;
  limits.read_timeout = milliseconds(30);  // the handshake's deadline too
  limits.idle_timeout = milliseconds(60'000);
  ClientPeer peer(limits, fake(control));
  peer.send(std::string("HEL"));
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_EQ(control.abandoned_timed_out, 1);
  EXPECT_EQ(control.abandoned_left, 0);
}

TEST(TcpClientFilter, AFailedHandshakeSendsItsAlertThenCloses) {
  FakeTransformControl control;
  ClientPeer peer(TcpClientLimits{}, fake(control));
  peer.send(std::string("HELP!"));
  std::string got;
  peer.run([&] {
    got += peer.read_available();
    return peer.handler.closed && got.size() >= FakeStreamTransform::kAlert.size();
  });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_EQ(got, FakeStreamTransform::kAlert);
  EXPECT_TRUE(peer.handler.messages.empty());
  // Failed, not late and not left: the transform counted it already.
  EXPECT_EQ(control.abandoned_timed_out + control.abandoned_left, 0);
}

TEST(TcpClientFilter, AClientThatLeavesMidHandshakeIsAbandoned) {
  FakeTransformControl control;
  ClientPeer peer(TcpClientLimits{}, fake(control));
  peer.send(std::string("HE"));
  peer.shutdown_write();
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_EQ(control.abandoned_left, 1);
  EXPECT_EQ(control.abandoned_timed_out, 0);
}

TEST(TcpClientFilter, ABadRecordClosesAtOnceWithNothingOwed) {
  FakeTransformControl control;
  ClientPeer peer(TcpClientLimits{}, fake(control));
  handshake(peer);
  control.bad_record = true;
  peer.send(FakeStreamTransform::mask(frame("q0")));
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_TRUE(peer.handler.messages.empty());
  peer.conn->send(span_of("late"));  // an answer for a finished connection is dropped
}

TEST(TcpClientFilter, AClientThatDoesNotReadIsBoundedThenClosed) {
  FakeTransformControl control;
  TcpClientLimits limits;
  limits.max_output_bytes = 8 * 1024;
  limits.idle_timeout = milliseconds(50);  // the socket's write timeout under the filter
  ClientPeer peer(limits, fake(control), 4096);
  handshake(peer);
  const std::string big(4000, 'r');
  peer.handler.on_message = [&](TcpClientConnection& conn) { conn.send(span_of(big)); };
  Bytes all;
  for (int i = 0; i < 300; ++i) {
    const Bytes f = frame("q" + std::to_string(i));
    all.insert(all.end(), f.begin(), f.end());
  }
  peer.send(FakeStreamTransform::mask(all));
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  // Held: 8 KiB of plaintext, the filter's 64 KiB of ciphertext (kWireHighWater) and what
  // the small socket buffer took, so about twenty 4000-byte answers of the 300 asked for.
  EXPECT_LT(peer.handler.messages.size() * big.size(), 8 * 1024 + 64 * 1024 + 16 * 1024);
  EXPECT_GT(peer.handler.messages.size(), 3u);
}

// Real TLS: our client session on the test's end, pumped between loop turns.
class TlsClient {
 public:
  explicit TlsClient(ClientPeer& peer) : peer_(peer) {
    tls::SessionOptions options;
    options.auth_name = dp::testing::kSharedPkiName;
    auto created = tls::ClientSession::create(dp::testing::SharedPki::get().credentials, options);
    EXPECT_TRUE(created.has_value());
    if (created) session_ = std::move(*created);
  }

  bool handshake() {
    peer_.run([&] {
      pump();
      return failed_ || session_->handshake_done();
    });
    return session_->handshake_done();
  }
  void send(const Bytes& plaintext) {
    ASSERT_TRUE(session_->write(plaintext).has_value());
    pump();
  }
  std::vector<std::string> replies(std::size_t count) {
    std::vector<std::string> out;
    peer_.run([&] {
      pump();
      for (auto& m : frames_take(plain_)) out.push_back(std::move(m));
      return failed_ || out.size() >= count;
    });
    return out;
  }

 private:
  void pump() {
    const std::string wire = peer_.read_available();
    session_->feed(bytes_of(wire));
    if (!session_->handshake_done()) {
      if (!session_->handshake()) failed_ = true;
    } else {
      std::uint8_t buf[16384];
      for (;;) {
        auto got = session_->read(buf);
        if (!got || *got == 0) break;
        plain_.append(reinterpret_cast<const char*>(buf), *got);
      }
    }
    auto& out = session_->output();
    if (!out.empty()) peer_.send(std::exchange(out, {}));
  }

  ClientPeer& peer_;
  std::unique_ptr<tls::ClientSession> session_;
  std::string plain_;
  bool failed_ = false;
};

std::unique_ptr<StreamTransform> real_tls(proxy::TlsStats& stats) {
  const auto& pki = dp::testing::SharedPki::get().pki;
  static const auto credentials =
      tls::ServerCredentials::create({pki.good.cert_file, pki.good.key_file, ""});
  return proxy::TlsTransform::create(credentials, *SocketAddress::parse("127.0.0.1:5300"), stats);
}

TEST(TcpClientFilter, PipelinedQueriesOverRealTlsAreAnsweredInCompletionOrder) {
  proxy::TlsStats stats;
  ClientPeer peer(TcpClientLimits{}, real_tls(stats));
  TlsClient client(peer);
  ASSERT_TRUE(client.handshake());
  Bytes all;
  for (const char* q : {"q0", "q1", "q2"}) {
    const Bytes f = frame(q);
    all.insert(all.end(), f.begin(), f.end());
  }
  client.send(all);
  peer.run([&] { return peer.handler.messages.size() == 3; });
  EXPECT_EQ(peer.handler.messages, (std::vector<std::string>{"q0", "q1", "q2"}));
  EXPECT_EQ(stats.handshakes_completed, 1u);  // the server's side, once the client's Finished came
  for (const std::string reply : {"a2", "a0", "a1"}) peer.conn->send(span_of(reply));
  EXPECT_EQ(client.replies(3), (std::vector<std::string>{"a2", "a0", "a1"}));
  EXPECT_EQ(stats.records_failed, 0u);
  EXPECT_FALSE(peer.handler.closed);
}

TEST(TcpClientFilter, GarbageInPlaceOfAClientHelloFailsTheRealHandshake) {
  proxy::TlsStats stats;
  ClientPeer peer(TcpClientLimits{}, real_tls(stats));
  peer.send(frame("not a ClientHello at all"));  // a plain DNS client on the DoT port
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_TRUE(peer.handler.messages.empty());
  EXPECT_EQ(stats.handshakes_completed, 0u);
  EXPECT_EQ(stats.handshakes_failed[static_cast<std::size_t>(tls::HandshakeFailure::kProtocol)],
            1u);
}

TEST(TcpClientFilter, ARecordThatDoesNotDecryptClosesARealSession) {
  proxy::TlsStats stats;
  ClientPeer peer(TcpClientLimits{}, real_tls(stats));
  TlsClient client(peer);
  ASSERT_TRUE(client.handshake());
  // A TLS 1.3 application-data record header, then bytes no key made.
  Bytes record = {0x17, 0x03, 0x03, 0x00, 0x20};
  record.resize(record.size() + 0x20, 0xab);
  peer.send(record);
  peer.run([&] { return peer.handler.closed; });
  EXPECT_TRUE(peer.handler.closed);
  EXPECT_EQ(stats.records_failed, 1u);
  EXPECT_TRUE(peer.handler.messages.empty());
}

}  // namespace
}  // namespace dp::io
