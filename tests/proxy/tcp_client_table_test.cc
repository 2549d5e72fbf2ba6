#include "proxy/tcp_client_table.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <vector>

#include "fakes/fake_clock.h"
#include "fakes/shared_pki.h"
#include "io/run_until.h"
#include "proxy/tls_transform.h"

namespace dp::proxy {
namespace {

using Bytes = std::vector<std::uint8_t>;

SocketAddress address(const char* text) { return *SocketAddress::parse(text); }

// The table's connections run over socketpairs: real sockets, no network. The peer address is
// what the listener would have reported.
class ProxyTcpClientTableTest : public ::testing::Test {
 protected:
  void TearDown() override {
    table_.reset();
    for (const int fd : peers_) ::close(fd);
  }

  void make_table(std::size_t max_clients, std::size_t per_address,
                  std::shared_ptr<const tls::ServerCredentials> credentials = nullptr,
                  unsigned handshakes_per_second = 0) {
    TcpClientTableOptions options;
    options.max_clients = max_clients;
    options.max_clients_per_address = per_address;
    table_ = std::make_unique<TcpClientTable>(
        loop_, clock_, options,
        [this](std::span<const std::uint8_t> message, const ClientRef& client) {
          messages_.emplace_back(Bytes(message.begin(), message.end()), client);
        },
        tls_stats_, std::move(credentials), handshake_limit_options(handshakes_per_second));
  }

  // A new connection from `peer` offered to the table; returns the client's end.
  int connect(const char* peer, bool tls = false) {
    std::array<int, 2> fds{};
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds.data()), 0);
    peers_.push_back(fds[1]);
    if (tls) {
      table_->accept_tls(fds[0], address(peer));
    } else {
      table_->accept(fds[0], address(peer));
    }
    return fds[1];
  }

  // True when the table closed its end of the client's connection.
  static bool closed_by_table(int client) {
    std::uint8_t byte = 0;
    return ::recv(client, &byte, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
  }

  io::EventLoop loop_;
  testing::FakeClock clock_;
  TlsStats tls_stats_;
  std::vector<std::pair<Bytes, ClientRef>> messages_;
  std::vector<int> peers_;
  std::unique_ptr<TcpClientTable> table_;
};

TEST_F(ProxyTcpClientTableTest, OneAddressCannotTakeMoreThanItsShare) {
  make_table(/*max_clients=*/10, /*per_address=*/2);
  const int a1 = connect("192.0.2.1:1000");
  const int a2 = connect("192.0.2.1:1001");
  const int a3 = connect("192.0.2.1:1002");  // the same host on another port: over its share
  EXPECT_EQ(table_->size(), 2u);
  EXPECT_EQ(table_->refused(), 1u);
  EXPECT_FALSE(closed_by_table(a1));
  EXPECT_FALSE(closed_by_table(a2));
  EXPECT_TRUE(closed_by_table(a3));
  EXPECT_EQ(table_->clients_from(address("192.0.2.1:0")), 2u);
  connect("192.0.2.2:1000");  // another host has its own share
  EXPECT_EQ(table_->size(), 3u);
  EXPECT_EQ(table_->refused(), 1u);
}

TEST_F(ProxyTcpClientTableTest, TheWorkerCapRefusesEveryAddressAndLeavesNoCountBehind) {
  make_table(/*max_clients=*/2, /*per_address=*/64);
  connect("192.0.2.1:1000");
  connect("[2001:db8::1]:1000");
  const int third = connect("192.0.2.3:1000");
  EXPECT_EQ(table_->size(), 2u);
  EXPECT_EQ(table_->refused(), 1u);
  EXPECT_TRUE(closed_by_table(third));
  EXPECT_EQ(table_->clients_from(address("192.0.2.3:0")), 0u);
}

TEST_F(ProxyTcpClientTableTest, AClientThatLeavesFreesItsSlot) {
  make_table(/*max_clients=*/10, /*per_address=*/1);
  const int client = connect("192.0.2.1:1000");
  ASSERT_EQ(table_->size(), 1u);
  ::close(client);
  peers_.pop_back();
  io::testing::run_until(loop_, [&] { return table_->size() == 0; });
  EXPECT_EQ(table_->size(), 0u);
  EXPECT_EQ(table_->clients_from(address("192.0.2.1:0")), 0u);
  const int again = connect("192.0.2.1:1001");
  EXPECT_EQ(table_->size(), 1u);
  EXPECT_FALSE(closed_by_table(again));
  EXPECT_EQ(table_->refused(), 0u);
}

TEST_F(ProxyTcpClientTableTest, AQueryGoesOutWithItsConnectionAndItsReplyComesBack) {
  make_table(10, 10);
  const int client = connect("192.0.2.1:1000");
  const Bytes framed = {0, 3, 'a', 'b', 'c'};  // RFC 1035 §4.2.2: two-byte length prefix
  ASSERT_EQ(::send(client, framed.data(), framed.size(), 0), 5);
  io::testing::run_until(loop_, [&] { return !messages_.empty(); });
  ASSERT_EQ(messages_.size(), 1u);
  EXPECT_EQ(messages_[0].first, (Bytes{'a', 'b', 'c'}));
  const ClientRef& from = messages_[0].second;
  EXPECT_EQ(from.transport, Transport::kTcp);
  EXPECT_EQ(from.peer, address("192.0.2.1:1000"));
  EXPECT_TRUE(table_->replies_owed());

  table_->reply_send(from.tcp_conn + 1, Bytes{'x'});  // no such connection: nothing happens
  table_->reply_send(from.tcp_conn, Bytes{'d', 'e'});
  EXPECT_FALSE(table_->replies_owed());
  std::array<std::uint8_t, 8> got{};
  io::testing::run_until(
      loop_, [&] { return ::recv(client, got.data(), got.size(), MSG_DONTWAIT | MSG_PEEK) >= 4; });
  ASSERT_EQ(::recv(client, got.data(), got.size(), MSG_DONTWAIT), 4);
  EXPECT_EQ(Bytes(got.begin(), got.begin() + 4), (Bytes{0, 2, 'd', 'e'}));
}

TEST_F(ProxyTcpClientTableTest, AReloadedCapHoldsNewConnectionsAndKeepsOpenOnes) {
  make_table(10, 2);
  const int a1 = connect("192.0.2.1:1000");
  const int a2 = connect("192.0.2.1:1001");
  TcpClientTableOptions tighter;
  tighter.max_clients_per_address = 1;
  table_->reload(tighter);
  const int a3 = connect("192.0.2.1:1002");
  EXPECT_EQ(table_->size(), 2u);
  EXPECT_FALSE(closed_by_table(a1));
  EXPECT_FALSE(closed_by_table(a2));
  EXPECT_TRUE(closed_by_table(a3));
}

TEST_F(ProxyTcpClientTableTest, DoTHandshakesOverTheRateAreClosedBeforeTakingASlot) {
  const auto& pki = testing::SharedPki::get().pki;
  make_table(10, 10, tls::ServerCredentials::create({pki.good.cert_file, pki.good.key_file, ""}),
             /*handshakes_per_second=*/1);
  const int first = connect("192.0.2.1:1000", /*tls=*/true);
  const int second = connect("192.0.2.1:1001", /*tls=*/true);
  EXPECT_EQ(table_->size(), 1u);
  EXPECT_FALSE(closed_by_table(first));
  EXPECT_TRUE(closed_by_table(second));
  EXPECT_EQ(tls_stats_.handshakes_rate_limited, 1u);
  EXPECT_EQ(table_->refused(), 0u);  // counted as a handshake refusal, not a full table
  EXPECT_EQ(table_->clients_from(address("192.0.2.1:0")), 1u);
  connect("192.0.2.2:1000", /*tls=*/true);  // its own bucket
  EXPECT_EQ(table_->size(), 2u);
  clock_.advance(std::chrono::milliseconds(1'000));  // one more token
  connect("192.0.2.1:1002", /*tls=*/true);
  EXPECT_EQ(table_->size(), 3u);
  connect("192.0.2.1:1003");  // plain TCP is not rate limited
  EXPECT_EQ(table_->size(), 4u);
}

}  // namespace
}  // namespace dp::proxy
