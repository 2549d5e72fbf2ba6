#include "proxy/tls_transform.h"

#include <gtest/gtest.h>

#include <utility>

#include "fakes/fake_clock.h"
#include "fakes/shared_pki.h"

namespace dp::proxy {
namespace {

using testing::FakeClock;
using testing::SharedPki;

SocketAddress address(const char* text) { return *SocketAddress::parse(text); }

TEST(TlsHandshakeLimitTest, BurstThenRatePerAddressWithAFakeClock) {
  policy::RateLimiter limiter(handshake_limit_options(3));
  ASSERT_TRUE(limiter.enabled());
  FakeClock clock;
  const SocketAddress a = address("127.0.0.1:5000");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.check(a, clock.now()), policy::RateDecision::kPass) << i;
  }
  // Over: closed, never slipped; another port of the same host is the same client.
  EXPECT_EQ(limiter.check(a, clock.now()), policy::RateDecision::kDrop);
  EXPECT_EQ(limiter.check(address("127.0.0.1:6000"), clock.now()), policy::RateDecision::kDrop);
  // Per address, not per /24: the neighbour has its own bucket.
  EXPECT_EQ(limiter.check(address("127.0.0.2:5000"), clock.now()), policy::RateDecision::kPass);
  EXPECT_EQ(limiter.check(address("[::1]:5000"), clock.now()), policy::RateDecision::kPass);
  // One token a third of a second.
  clock.advance(std::chrono::milliseconds(340));
  EXPECT_EQ(limiter.check(a, clock.now()), policy::RateDecision::kPass);
  EXPECT_EQ(limiter.check(a, clock.now()), policy::RateDecision::kDrop);
  clock.advance(std::chrono::seconds(10));  // a full bucket again, never more than the burst
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.check(a, clock.now()), policy::RateDecision::kPass);
  EXPECT_EQ(limiter.check(a, clock.now()), policy::RateDecision::kDrop);
}

TEST(TlsHandshakeLimitTest, ZeroIsOff) {
  EXPECT_FALSE(policy::RateLimiter(handshake_limit_options(0)).enabled());
}

std::shared_ptr<const tls::ServerCredentials> credentials(bool mutual_tls) {
  const auto& pki = SharedPki::get().pki;
  return tls::ServerCredentials::create(
      {pki.good.cert_file, pki.good.key_file, mutual_tls ? pki.ca_file : ""});
}

// Runs our client session against the transform; true when both ends are done.
bool run(tls::ClientSession& client, TlsTransform& server) {
  for (int round = 0; round < 10; ++round) {
    auto step = client.handshake();
    server.feed(std::exchange(client.output(), {}));
    const auto server_step = server.handshake();
    client.feed(std::exchange(server.output(), {}));
    if (server_step == io::StreamTransform::Handshake::kFailed || !step) return false;
    if (*step == tls::IoState::kDone && server_step == io::StreamTransform::Handshake::kDone) {
      return true;
    }
  }
  return false;
}

std::unique_ptr<tls::ClientSession> client() {
  tls::SessionOptions options;
  options.auth_name = testing::kSharedPkiName;
  auto session = tls::ClientSession::create(SharedPki::get().credentials, options);
  EXPECT_TRUE(session.has_value());
  return session ? std::move(*session) : nullptr;
}

TEST(TlsTransformTest, CountsEachHandshakeOutcome) {
  TlsStats stats;
  const SocketAddress peer = address("127.0.0.1:5000");
  auto ok = TlsTransform::create(credentials(false), peer, stats);
  ASSERT_NE(ok, nullptr);
  auto c = client();
  ASSERT_TRUE(run(*c, *ok));
  EXPECT_EQ(stats.handshakes_completed, 1u);

  // Our client has no certificate: with mutual TLS on, that is "missing".
  auto mtls = TlsTransform::create(credentials(true), peer, stats);
  auto no_cert = client();
  EXPECT_FALSE(run(*no_cert, *mtls));
  EXPECT_EQ(
      stats.handshakes_failed[static_cast<std::size_t>(tls::HandshakeFailure::kClientCertMissing)],
      1u);
  EXPECT_EQ(stats.handshakes_completed, 1u);

  auto late = TlsTransform::create(credentials(false), peer, stats);
  late->abandoned(true);
  auto gone = TlsTransform::create(credentials(false), peer, stats);
  gone->abandoned(false);
  EXPECT_EQ(stats.handshakes_timed_out, 1u);
  EXPECT_EQ(stats.handshakes_abandoned, 1u);

  // After the handshake: plaintext both ways; a close_notify is "nothing more", not a failure.
  ASSERT_TRUE(c->write(std::vector<std::uint8_t>{1, 2, 3}).has_value());
  ok->feed(std::exchange(c->output(), {}));
  std::uint8_t buf[16];
  EXPECT_EQ(ok->read(buf), std::optional<std::size_t>(3));
  EXPECT_TRUE(ok->write(std::vector<std::uint8_t>{4, 5}));
  ok->feed_eof();
  EXPECT_EQ(ok->read(buf), std::optional<std::size_t>(0));
  EXPECT_EQ(stats.records_failed, 0u);
}

}  // namespace
}  // namespace dp::proxy
