// Clients that try to exhaust dotproxy: one that never reads its answers, thousands that
// connect and say nothing. Others are served throughout and memory stays bounded.
#include <sys/resource.h>

#include <fstream>
#include <thread>

#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ASan's quarantine holds freed memory, so RSS says nothing about our bounds in that build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRssMeaningful = false;
#else
constexpr bool kRssMeaningful = true;
#endif

// Resident memory of a process in KiB (VmRSS), 0 if unknown.
long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

class IntegrationHostileTest : public IntegrationTest {
 protected:
  void SetUp() override { server_ = start_server(); }
  void expect_served(std::uint16_t port, const std::string& source = "127.0.0.9") {
    UdpClient client(port, source);
    client.send(query_build("ok.test.", LDNS_RR_TYPE_A, 1));
    auto reply = client.receive(seconds(3));
    ASSERT_TRUE(reply);
    EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOERROR);
  }
  std::unique_ptr<DotTestServer> server_;
};

TEST_F(IntegrationHostileTest, AClientThatNeverReadsIsNotBufferedWithoutBound) {
  auto proxy = start_proxy(spec(server_->port()), {"--tcp-idle-timeout", "2s"});
  const long before = rss_kib(proxy->process().pid());
  TcpClient hog(proxy->port());
  Bytes burst;
  const Bytes query = query_build("big.test.", LDNS_RR_TYPE_A, 5);  // ~1.7 KB answers
  for (int i = 0; i < 20000; ++i) {
    burst.push_back(static_cast<std::uint8_t>(query.size() >> 8));
    burst.push_back(static_cast<std::uint8_t>(query.size() & 0xff));
    burst.insert(burst.end(), query.begin(), query.end());
  }
  hog.try_send_raw(burst);  // 34 MB of answers asked for, none read
  std::this_thread::sleep_for(milliseconds(500));
  expect_served(proxy->port());
  // Reading stops once the kernel's socket buffer and then 256 KB of ours are full of
  // unread answers: most of the 20000 are never even read.
  EXPECT_LT(server_->queries_received(), 4000u);
  if (kRssMeaningful) EXPECT_LT(rss_kib(proxy->process().pid()) - before, 16 * 1024) << "KiB";
  // Still throttled a moment later, and others still served.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_LT(server_->queries_received(), 4000u);
  expect_served(proxy->port(), "127.0.0.10");
}

TEST_F(IntegrationHostileTest, ThousandsOfIdleConnectionsAreBoundedAndExpire) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);  // dotproxy inherits it too
  ASSERT_GE(limit.rlim_cur, 4096u) << "needs 4096 file descriptors";
  auto proxy = start_proxy(spec(server_->port()),
                           {"--max-tcp-clients", "1000", "--max-tcp-clients-per-address", "100000",
                            "--tcp-idle-timeout", "3s"});
  const long before = rss_kib(proxy->process().pid());
  std::vector<std::unique_ptr<TcpClient>> idle;
  for (int i = 0; i < 1500; ++i) idle.push_back(std::make_unique<TcpClient>(proxy->port()));
  // Beyond the 1000 a worker holds, new connections are closed at once.
  std::size_t refused = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        refused = 0;
        for (auto& c : idle) refused += c->closed_by_peer(milliseconds(0)) ? 1 : 0;
        return refused >= 500;
      },
      seconds(5)))
      << refused;
  EXPECT_LE(refused, 520u);  // the rest were accepted (the backlog may lag a little)
  expect_served(proxy->port());
  if (kRssMeaningful) EXPECT_LT(rss_kib(proxy->process().pid()) - before, 32 * 1024) << "KiB";
  // Idle for the timeout: every one of them is closed, and new clients are accepted again.
  EXPECT_TRUE(wait_until(
      [&] {
        for (auto& c : idle) {
          if (!c->closed_by_peer(milliseconds(0))) return false;
        }
        return true;
      },
      seconds(10)));
  TcpClient fresh(proxy->port());
  fresh.send(query_build("www.test.", LDNS_RR_TYPE_A, 9));
  auto reply = fresh.receive(seconds(3));
  ASSERT_TRUE(reply);
  EXPECT_EQ(ldns_pkt_get_rcode(reply_parse(*reply).get()), LDNS_RCODE_NOERROR);
}

}  // namespace
}  // namespace dp::testing
