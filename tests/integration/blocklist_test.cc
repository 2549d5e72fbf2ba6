// The blocklist end to end: blocked names and their subdomains answered by dotproxy itself
// (never upstream), the null answer, SIGHUP re-reading the files, and a file that cannot be
// read, at start (exit 2) and on SIGHUP (the old list stays).
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::seconds;

class IntegrationBlocklistTest : public IntegrationTest {
 protected:
  void SetUp() override {
    server_ = start_server();
    std::ofstream(list_file_) << "# test list\n"
                              << "ads.test\n"
                              << "0.0.0.0 tracker.test localhost\n"
                              << "not a name\n";
  }

  // One UDP query from 127.0.0.1 with EDNS; null when no reply came.
  PacketPtr ask(const std::string& name, std::uint16_t id, ldns_rr_type type = LDNS_RR_TYPE_A) {
    UdpClient client(proxy_->port());
    client.send(query_build(name, type, id));
    auto reply = client.receive(seconds(3));
    return reply ? reply_parse(*reply) : nullptr;
  }
  static int ede_code(const PacketPtr& pkt) {
    const ldns_rdf* data = ldns_pkt_edns_data(pkt.get());
    if (data == nullptr || ldns_rdf_size(data) < 6) return -1;
    const std::uint8_t* bytes = ldns_rdf_data(data);
    if (bytes[0] != 0 || bytes[1] != 15) return -1;  // option code 15: EDE (RFC 8914)
    return bytes[4] << 8 | bytes[5];
  }
  std::size_t count(const std::string& needle) const {
    const std::string log = proxy_->log();
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  }
  // Sends SIGHUP and waits for the blocklist's verdict on it.
  void reload() {
    const auto before = count("blocklist loaded") + count("blocklist reload rejected");
    proxy_->process().signal(SIGHUP);
    ASSERT_TRUE(wait_until(
        [&] { return count("blocklist loaded") + count("blocklist reload rejected") > before; },
        seconds(5)))
        << proxy_->log();
  }

  TempDir dir_;
  std::string list_file_ = dir_.file("block.list");
  std::unique_ptr<DotTestServer> server_;
  std::unique_ptr<DotproxyProcess> proxy_;
};

TEST_F(IntegrationBlocklistTest, ABlockedNameGetsNxdomainWithEde15AndNeverGoesUpstream) {
  proxy_ = start_proxy(spec(server_->port()), {"--blocklist", list_file_});
  // The malformed line is reported with its file and line number; the rest is loaded.
  EXPECT_NE(proxy_->log().find("blocklist: malformed lines skipped"), std::string::npos)
      << proxy_->log();
  EXPECT_NE(proxy_->log().find("first_line=4"), std::string::npos) << proxy_->log();
  EXPECT_NE(proxy_->log().find("names=2"), std::string::npos) << proxy_->log();

  for (const char* name : {"ads.test.", "Deep.Sub.ADS.test.", "tracker.test."}) {
    auto reply = ask(name, 1);
    ASSERT_TRUE(reply) << name << proxy_->log();
    EXPECT_EQ(ldns_pkt_get_rcode(reply.get()), LDNS_RCODE_NXDOMAIN) << name;
    EXPECT_EQ(ede_code(reply), 15) << name;         // RFC 8914 §4.16 Blocked
    EXPECT_TRUE(ldns_pkt_aa(reply.get())) << name;  // our answer: we are its authority
    EXPECT_EQ(ldns_pkt_ancount(reply.get()), 0u) << name;
  }
  EXPECT_EQ(server_->queries_received(), 0u);  // none of them left the host

  auto served = ask("www.test.", 2);  // not listed: forwarded and answered
  ASSERT_TRUE(served);
  EXPECT_EQ(ldns_pkt_get_rcode(served.get()), LDNS_RCODE_NOERROR);
  EXPECT_FALSE(ldns_pkt_aa(served.get()));  // the upstream's answer: it is, we are not
  EXPECT_EQ(answer_addresses(served.get()), std::vector<std::string>{"192.0.2.1"});
  auto lookalike = ask("notads.test.", 3);  // ends like a listed name, not at a label
  ASSERT_TRUE(lookalike);
  EXPECT_EQ(ldns_pkt_get_rcode(lookalike.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(server_->queries_received(), 2u);
}

TEST_F(IntegrationBlocklistTest, NullModeAnswersTheUnspecifiedAddress) {
  proxy_ =
      start_proxy(spec(server_->port()), {"--blocklist", list_file_, "--blocklist-answer", "null"});
  auto a = ask("www.ads.test.", 1);
  ASSERT_TRUE(a) << proxy_->log();
  EXPECT_EQ(ldns_pkt_get_rcode(a.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(answer_addresses(a.get()), std::vector<std::string>{"0.0.0.0"});
  EXPECT_EQ(ede_code(a), 15);
  auto aaaa = ask("www.ads.test.", 2, LDNS_RR_TYPE_AAAA);
  ASSERT_TRUE(aaaa);
  ASSERT_EQ(ldns_pkt_ancount(aaaa.get()), 1u);
  const ldns_rr* rr = ldns_rr_list_rr(ldns_pkt_answer(aaaa.get()), 0);
  EXPECT_EQ(ldns_rr_get_type(rr), LDNS_RR_TYPE_AAAA);
  char* address = ldns_rdf2str(ldns_rr_rdf(rr, 0));
  EXPECT_STREQ(address, "::");
  std::free(address);  // NOLINT: ldns allocates with malloc
  auto mx = ask("ads.test.", 3, LDNS_RR_TYPE_MX);
  ASSERT_TRUE(mx);
  EXPECT_EQ(ldns_pkt_get_rcode(mx.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(mx.get()), 0u);  // NODATA
  EXPECT_EQ(server_->queries_received(), 0u);

  // dig sees it as a client would, over TCP too.
  auto dig = run_capture({"dig", "@127.0.0.1", "-p", std::to_string(proxy_->port()), "+tcp",
                          "+tries=1", "+time=2", "tracker.test", "A"});
  EXPECT_NE(dig.out.find("0.0.0.0"), std::string::npos) << dig.out;
  EXPECT_NE(dig.out.find("EDE: 15 (Blocked)"), std::string::npos) << dig.out;
  EXPECT_EQ(server_->queries_received(), 0u);
}

TEST_F(IntegrationBlocklistTest, SighupRereadsTheFilesAndAnUnreadableOneKeepsTheOldList) {
  proxy_ = start_proxy(spec(server_->port()),
                       {"--blocklist", list_file_, "--workers", "2"});  // the last --workers wins
  auto before = ask("ads.test.", 1);
  ASSERT_TRUE(before);
  EXPECT_EQ(ldns_pkt_get_rcode(before.get()), LDNS_RCODE_NXDOMAIN);

  std::ofstream(list_file_) << "new.test\n";  // ads.test is unblocked, new.test blocked
  reload();
  EXPECT_EQ(count("blocklist loaded"), 2u) << proxy_->log();
  for (std::uint16_t id = 2; id < 8; ++id) {  // whichever worker each query lands on
    auto unblocked = ask("ads.test.", id);
    ASSERT_TRUE(unblocked);
    EXPECT_EQ(ldns_pkt_get_rcode(unblocked.get()), LDNS_RCODE_NOERROR) << proxy_->log();
    auto blocked = ask("www.new.test.", static_cast<std::uint16_t>(id + 100));
    ASSERT_TRUE(blocked);
    EXPECT_EQ(ldns_pkt_get_rcode(blocked.get()), LDNS_RCODE_NXDOMAIN) << proxy_->log();
  }

  ASSERT_EQ(::unlink(list_file_.c_str()), 0);
  reload();
  EXPECT_EQ(count("blocklist reload rejected"), 1u) << proxy_->log();
  EXPECT_NE(proxy_->log().find("cannot read '" + list_file_ + "'"), std::string::npos)
      << proxy_->log();
  for (std::uint16_t id = 10; id < 16; ++id) {
    auto still = ask("new.test.", id);
    ASSERT_TRUE(still);
    EXPECT_EQ(ldns_pkt_get_rcode(still.get()), LDNS_RCODE_NXDOMAIN) << proxy_->log();
  }
  EXPECT_TRUE(proxy_->process().running());
}

TEST_F(IntegrationBlocklistTest, AFileThatCannotBeReadAtStartIsAConfigError) {
  const std::string missing = dir_.file("missing.list");
  auto result = run_capture({dotproxy_binary(), "--listen", "127.0.0.1:0", "--blocklist",
                             list_file_, "--blocklist", missing});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "dotproxy: blocklist: cannot read '" + missing + "': No such file or directory\n");
  auto check = run_capture({dotproxy_binary(), "--check-config", "--blocklist", list_file_});
  EXPECT_EQ(check.exit_code, 0) << check.err;  // a malformed line is not fatal
  EXPECT_NE(check.err.find("first_line=4"), std::string::npos) << check.err;
}

}  // namespace
}  // namespace dp::testing
