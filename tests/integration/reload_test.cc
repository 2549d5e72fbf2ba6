// SIGHUP re-reads the TLS trust: a rotated CA file or upstream key needs no restart, and a
// configuration that does not load leaves the running one in place.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "fakes/process.h"
#include "integration/fixture.h"
#include "tls/client_session.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IntegrationReloadTest : public IntegrationTest {
 protected:
  void SetUp() override { server_ = start_server(); }

  // The config file dotproxy reads at start and on every SIGHUP.
  // dnssec = "off": the test server's zone is unsigned.
  void write_config(const std::string& ca_file, const std::string& pin_line = "") {
    std::ofstream(config_file_) << "ca_file = \"" << ca_file << "\"\n"
                                << "dnssec = \"off\"\n"
                                << "[[upstream]]\naddress = \"127.0.0.1\"\nport = "
                                << server_->port() << "\nauth_name = \"" << kAuthName << "\"\n"
                                << pin_line;
  }
  void start(int workers = 1) {
    proxy_ = std::make_unique<DotproxyProcess>(
        std::vector<std::string>{"--config", config_file_, "--workers", std::to_string(workers)});
  }
  // A name of its own per query, so that every answer comes from the upstream, not the cache.
  ldns_pkt_rcode ask(std::uint16_t id) {
    UdpClient client(proxy_->port());
    client.send(query_build("q" + std::to_string(id) + ".test.", LDNS_RR_TYPE_A, id));
    auto reply = client.receive(seconds(5));
    if (!reply) return LDNS_RCODE_YXRRSET;  // no reply at all: never a valid outcome here
    return ldns_pkt_get_rcode(reply_parse(*reply).get());
  }
  void reload() {
    const auto before = count("reloaded configuration") + count("reload rejected");
    proxy_->process().signal(SIGHUP);
    ASSERT_TRUE(wait_until(
        [&] { return count("reloaded configuration") + count("reload rejected") > before; },
        seconds(5)))
        << proxy_->log();
  }
  std::size_t count(const std::string& needle) const {
    const std::string log = proxy_->log();
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  }
  static std::string pin_of(const std::string& cert_file) {
    const std::string pem = read_file_text(cert_file);
    auto pin = tls::spki_pin_sha256(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()));
    EXPECT_TRUE(pin.has_value());
    return pin.has_value() ? *pin : "";
  }

  TempDir dir_;
  std::string config_file_ = dir_.file("dotproxy.toml");
  std::unique_ptr<DotTestServer> server_;
  std::unique_ptr<DotproxyProcess> proxy_;
};

TEST_F(IntegrationReloadTest, ARotatedCaFileIsTrustedAfterSighupWithoutRestart) {
  write_config(pki_->untrusted_ca_file);  // the upstream's CA is not in it yet
  start(/*workers=*/2);                   // every worker takes the new trust
  EXPECT_EQ(ask(1), LDNS_RCODE_SERVFAIL);
  write_config(pki_->ca_file);
  reload();
  EXPECT_EQ(count("reloaded configuration"), 1u) << proxy_->log();
  for (std::uint16_t id = 2; id < 10; ++id) {  // whichever worker each query lands on
    EXPECT_EQ(ask(id), LDNS_RCODE_NOERROR) << proxy_->log();
  }
  EXPECT_TRUE(proxy_->process().running());
}

TEST_F(IntegrationReloadTest, ANewPinIsCheckedAfterSighup) {
  const std::string right = pin_of(pki_->good.cert_file);
  const std::string wrong = pin_of(pki_->untrusted.cert_file);
  ASSERT_NE(right, wrong);
  write_config(pki_->ca_file, "pin_sha256 = [\"" + wrong + "\"]\n");
  start();
  EXPECT_EQ(ask(1), LDNS_RCODE_SERVFAIL);
  write_config(pki_->ca_file, "pin_sha256 = [\"" + right + "\"]\n");
  reload();
  EXPECT_EQ(ask(2), LDNS_RCODE_NOERROR) << proxy_->log();
  // And back: the pin now excludes the server. The open connection was verified already;
  // once it closes, the new one (no resumption: tickets were dropped) fails the pin.
  write_config(pki_->ca_file, "pin_sha256 = [\"" + wrong + "\"]\n");
  reload();
  server_->behaviour().close_after_queries = 1;  // force new connections
  ask(3);
  EXPECT_EQ(ask(4), LDNS_RCODE_SERVFAIL) << proxy_->log();
}

TEST_F(IntegrationReloadTest, ABrokenConfigOnSighupIsRejectedAndTheOldOneKeepsServing) {
  write_config(pki_->ca_file);
  start();
  EXPECT_EQ(ask(1), LDNS_RCODE_NOERROR);
  std::ofstream(config_file_) << "ca_file = \"" << pki_->ca_file << "\"\nworkers = \"many\"\n";
  reload();
  EXPECT_EQ(count("reload rejected"), 1u);
  EXPECT_NE(proxy_->log().find(config_file_ + ":2: workers"), std::string::npos) << proxy_->log();
  EXPECT_EQ(ask(2), LDNS_RCODE_NOERROR);
  std::ofstream(config_file_) << "ca_file = \"/nonexistent/ca.pem\"\n";
  reload();
  EXPECT_EQ(count("reload rejected"), 2u);
  EXPECT_EQ(ask(3), LDNS_RCODE_NOERROR);
}

TEST_F(IntegrationReloadTest, ANewUpstreamTakesOverWithNoQueryLost) {
  write_config(pki_->ca_file);
  start(/*workers=*/2);
  auto second = start_server();
  second->behaviour().delay_ms = 50;  // the old pool still has queries when the swap comes
  server_->behaviour().delay_ms = 50;
  // A client keeps 20 queries in flight, distinct names (never from the cache), throughout.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::atomic<int> answered{0};
  std::atomic<int> failed{0};
  // Which queries (by index, the ID they were sent with) have their reply: the old upstream
  // answers one at a time, so it reads a query long after it was sent; only once every query
  // the old pool may have had is answered does its count say anything about the swap.
  std::mutex replied_mutex;
  std::vector<bool> replied;
  std::thread load([&] {
    UdpClient client(proxy_->port());
    int next = 0;
    while (!stop || sent > answered + failed) {
      while (!stop && sent - answered - failed < 20) {
        {
          std::lock_guard lock(replied_mutex);
          replied.push_back(false);
        }
        client.send(query_build("load" + std::to_string(next) + ".test.", LDNS_RR_TYPE_A,
                                static_cast<std::uint16_t>(next)));
        ++next;
        ++sent;
      }
      auto reply = client.receive(seconds(3));
      if (!reply) break;  // a lost query: counted below as sent - answered - failed
      const auto parsed = reply_parse(*reply);
      {
        std::lock_guard lock(replied_mutex);
        const std::size_t index = ldns_pkt_id(parsed.get());
        if (index < replied.size()) replied[index] = true;
      }
      ++(ldns_pkt_get_rcode(parsed.get()) == LDNS_RCODE_NOERROR ? answered : failed);
    }
  });
  std::this_thread::sleep_for(milliseconds(300));
  std::ofstream(config_file_) << "ca_file = \"" << pki_->ca_file << "\"\ndnssec = \"off\"\n"
                              << "[[upstream]]\naddress = \"127.0.0.1\"\nport = " << second->port()
                              << "\nauth_name = \"" << kAuthName << "\"\n";
  reload();
  // The swap is applied by each worker on its own loop: wait until the new upstream is in use
  // (bounded); the client's queries all reach one worker (one socket), so every query sent
  // from then on goes to the new pool. Then wait until each one sent before is answered.
  for (int i = 0; i < 200 && second->queries_received() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  const std::size_t sent_before_swap = static_cast<std::size_t>(sent.load());
  const auto all_answered = [&] {
    std::lock_guard lock(replied_mutex);
    return std::all_of(replied.begin(),
                       replied.begin() + static_cast<std::ptrdiff_t>(sent_before_swap),
                       [](bool r) { return r; });
  };
  for (int i = 0; i < 500 && !all_answered(); ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_TRUE(all_answered()) << "a query sent before the swap got no reply in 5 s";
  const auto first_after_swap = server_->queries_received();
  std::this_thread::sleep_for(milliseconds(300));
  stop = true;
  load.join();
  std::printf(
      "METRIC reload_swap sent=%d answered=%d failed=%d old_upstream=%llu "
      "new_upstream=%llu\n",
      sent.load(), answered.load(), failed.load(),
      static_cast<unsigned long long>(server_->queries_received()),
      static_cast<unsigned long long>(second->queries_received()));
  EXPECT_GT(sent, 40);
  EXPECT_EQ(answered, sent) << "failed " << failed << "\n" << proxy_->log();
  EXPECT_GT(second->queries_received(), 0u);
  // Once the old pool's last queries were answered, nothing more went to the old upstream.
  EXPECT_EQ(server_->queries_received(), first_after_swap);
}

// A server list that changes on SIGHUP changes in place: the server that stays keeps its
// connections (no new accept, no new handshake), the added one is used, and a removed one's
// connections are closed once idle.
TEST_F(IntegrationReloadTest, AnUpstreamAddedOrRemovedOnSighupLeavesTheOtherOnesConnectionsOpen) {
  write_config(pki_->ca_file);
  start();
  for (std::uint16_t id = 1; id <= 5; ++id) ASSERT_EQ(ask(id), LDNS_RCODE_NOERROR);
  const auto accepted_before = server_->connections_accepted();
  ASSERT_GT(server_->connections_open(), 0u);

  auto second = start_server();
  const std::string both =
      "ca_file = \"" + pki_->ca_file + "\"\ndnssec = \"off\"\n" +
      "[[upstream]]\naddress = \"127.0.0.1\"\nport = " + std::to_string(server_->port()) +
      "\nauth_name = \"" + kAuthName +
      "\"\n[[upstream]]\naddress = \"127.0.0.1\"\nport = " + std::to_string(second->port()) +
      "\nauth_name = \"" + kAuthName + "\"\n";
  std::ofstream(config_file_) << both;
  reload();
  // The new server is unmeasured, so it is chosen first: it gets queries at once.
  for (std::uint16_t id = 10; id < 30; ++id) ASSERT_EQ(ask(id), LDNS_RCODE_NOERROR);
  EXPECT_GT(second->queries_received(), 0u);
  EXPECT_EQ(server_->connections_accepted(), accepted_before) << proxy_->log();
  EXPECT_GT(server_->connections_open(), 0u);

  write_config(pki_->ca_file);  // the first server alone again
  reload();
  const auto second_queries = second->queries_received();
  for (std::uint16_t id = 30; id < 40; ++id) ASSERT_EQ(ask(id), LDNS_RCODE_NOERROR);
  EXPECT_EQ(second->queries_received(), second_queries);
  EXPECT_TRUE(wait_until([&] { return second->connections_open() == 0; }, seconds(5)))
      << "the removed server's connections stayed open";
  EXPECT_EQ(server_->connections_accepted(), accepted_before);
}

TEST_F(IntegrationReloadTest, AclAndLogLevelChangeOnSighupAndFixedSettingsAreNamed) {
  write_config(pki_->ca_file);
  start();
  EXPECT_EQ(ask(1), LDNS_RCODE_NOERROR);
  std::ofstream(config_file_) << "ca_file = \"" << pki_->ca_file << "\"\ndnssec = \"off\"\n"
                              << "acl = [\"127.0.0.1 refuse\", \"127.0.0.0/8 allow\"]\n"
                              << "log_level = \"debug\"\ncache_size = \"1M\"\n"
                              << "[[upstream]]\naddress = \"127.0.0.1\"\nport = " << server_->port()
                              << "\nauth_name = \"" << kAuthName << "\"\n";
  reload();
  EXPECT_EQ(ask(2), LDNS_RCODE_REFUSED) << proxy_->log();
  EXPECT_NE(proxy_->log().find("log_level=debug"), std::string::npos) << proxy_->log();
  EXPECT_NE(proxy_->log().find("only after a restart\" settings=cache_size"), std::string::npos)
      << proxy_->log();
}

}  // namespace
}  // namespace dp::testing
