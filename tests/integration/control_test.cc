// The operator control channel against the real binary and the DoT test server: `dotproxy
// ctl` flushes that send the next query upstream, the dump, upstreams, stats, reload and status
// commands, and what the socket does with bad or too many clients.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "fakes/process.h"
#include "fakes/unix_stream_client.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::seconds;

// A raw connection to the control socket, for what the ctl client never sends.
using RawControl = UnixStreamClient;

class IntegrationControlTest : public IntegrationTest {
 protected:
  void SetUp() override { server_ = start_server(); }

  void start(std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--control-socket", socket_});
    proxy_ = start_proxy(spec(server_->port()), extra);
  }
  CaptureResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {dotproxy_binary(), "ctl", "--socket", socket_});
    return run_capture(args);
  }
  // Asks `name` over UDP; true when an answer came.
  bool ask(const std::string& name, ldns_rr_type type = LDNS_RR_TYPE_A) {
    UdpClient client(proxy_->port());
    client.send(query_build(name, type, ++id_));
    return client.receive(seconds(5)).has_value();
  }

  TempDir dir_{"dotproxy-control"};
  std::string socket_ = dir_.path() + "/control.sock";
  std::unique_ptr<DotTestServer> server_;
  std::unique_ptr<DotproxyProcess> proxy_;
  std::uint16_t id_ = 0;
};

TEST_F(IntegrationControlTest, FlushSendsTheNextQueryForTheNameUpstream) {
  start();
  ASSERT_TRUE(ask("www.test."));
  ASSERT_TRUE(ask("www.test."));
  ASSERT_TRUE(ask("keep.test."));
  EXPECT_EQ(server_->queries_for("www.test"), 1u);  // the second was a cache hit
  const CaptureResult flushed = ctl({"flush", "WWW.test."});
  EXPECT_EQ(flushed.exit_code, 0) << flushed.err;
  EXPECT_EQ(flushed.out, "removed 1\n");
  ASSERT_TRUE(ask("www.test."));
  EXPECT_EQ(server_->queries_for("www.test"), 2u);
  ASSERT_TRUE(ask("keep.test."));
  EXPECT_EQ(server_->queries_for("keep.test"), 1u);  // untouched
}

TEST_F(IntegrationControlTest, FlushOfATypeKeepsTheOtherTypesOfTheName) {
  start();
  ASSERT_TRUE(ask("www.test.", LDNS_RR_TYPE_A));
  ASSERT_TRUE(ask("www.test.", LDNS_RR_TYPE_AAAA));
  const CaptureResult flushed = ctl({"flush", "www.test", "AAAA"});
  EXPECT_EQ(flushed.exit_code, 0) << flushed.err;
  EXPECT_EQ(flushed.out, "removed 1\n");
  ASSERT_TRUE(ask("www.test.", LDNS_RR_TYPE_A));
  EXPECT_EQ(server_->queries_for("www.test"), 2u);  // A came from the cache
  ASSERT_TRUE(ask("www.test.", LDNS_RR_TYPE_AAAA));
  EXPECT_EQ(server_->queries_for("www.test"), 3u);
}

TEST_F(IntegrationControlTest, FlushZoneTakesTheNamesUnderItAndFlushAllTakesEverything) {
  start();
  for (const char* name : {"zone.test.", "a.zone.test.", "b.a.zone.test.", "other.test."}) {
    ASSERT_TRUE(ask(name));
  }
  const CaptureResult zone = ctl({"flush-zone", "zone.test"});
  EXPECT_EQ(zone.exit_code, 0) << zone.err;
  EXPECT_EQ(zone.out, "removed 3\n");
  ASSERT_TRUE(ask("b.a.zone.test."));
  EXPECT_EQ(server_->queries_for("b.a.zone.test"), 2u);
  ASSERT_TRUE(ask("other.test."));
  EXPECT_EQ(server_->queries_for("other.test"), 1u);  // not under the zone: still cached

  const CaptureResult all = ctl({"flush-all"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out, "removed 2\n");  // other.test and b.a.zone.test
  ASSERT_TRUE(ask("other.test."));
  EXPECT_EQ(server_->queries_for("other.test"), 2u);
}

TEST_F(IntegrationControlTest, CacheDumpListsTheCachedNamesAsJsonLines) {
  start();
  ASSERT_TRUE(ask("www.test."));
  ASSERT_TRUE(ask("nx.test."));
  const CaptureResult dump = ctl({"cache-dump"});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("{\"name\":\"www.test.\",\"type\":\"A\",\"class\":\"IN\",\"do\":false,"
                          "\"cd\":false,\"ttl\":"),
            std::string::npos)
      << dump.out;
  EXPECT_NE(dump.out.find("\"rcode\":\"NXDOMAIN\""), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("\n2 entries\n"), std::string::npos) << dump.out;

  const CaptureResult one = ctl({"cache-dump", "nx.test"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out.find("www.test."), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("\"name\":\"nx.test.\""), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("\n1 entries\n"), std::string::npos) << one.out;
}

TEST_F(IntegrationControlTest, UpstreamsShowsTheTestUpstreamWithItsConnectionsAndRtt) {
  start();
  ASSERT_TRUE(ask("www.test."));
  const CaptureResult upstreams = ctl({"upstreams"});
  EXPECT_EQ(upstreams.exit_code, 0) << upstreams.err;
  const std::string name = "127.0.0.1@" + std::to_string(server_->port()) + "#" + kAuthName;
  EXPECT_NE(upstreams.out.find("{\"route\":\"default\",\"upstream\":\"" + name +
                               "\",\"transport\":\"tls\",\"open_connections\":"),
            std::string::npos)
      << upstreams.out;
  EXPECT_EQ(upstreams.out.find("\"srtt_ms\":null"), std::string::npos) << upstreams.out;
  EXPECT_NE(upstreams.out.find("\"last_failure\":null"), std::string::npos) << upstreams.out;
  EXPECT_NE(upstreams.out.find("\n1 upstreams\n"), std::string::npos) << upstreams.out;
}

TEST_F(IntegrationControlTest, StatsIsOneJsonObjectWithTheCounters) {
  start();
  ASSERT_TRUE(ask("www.test."));
  ASSERT_TRUE(ask("www.test."));
  const CaptureResult stats = ctl({"stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const std::string file = dir_.file("stats.json");
  std::ofstream(file) << stats.out;
  // Parsed by a real JSON parser; the cache holds the one answer, stored once.
  const CaptureResult parsed =
      run_capture({"python3", "-c",
                   "import json, sys\n"
                   "d = json.load(open(sys.argv[1]))\n"
                   "print(d['dotproxy_cache_inserts_total'], d['dotproxy_cache_entries'],\n"
                   "      d['dotproxy_build_info'][0]['labels']['version'] != '')\n",
                   file});
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err << stats.out;
  EXPECT_EQ(parsed.out, "1 1 True\n") << stats.out;
}

TEST_F(IntegrationControlTest, ReloadReportsItsOutcomeAndABadConfigIsAnError) {
  const std::string config = dir_.file("dotproxy.toml");
  std::ofstream(config) << "log_level = \"info\"\n";
  start({"--config", config});
  const CaptureResult good = ctl({"reload"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(good.out.rfind("reloaded: upstreams 127.0.0.1@", 0), 0u) << good.out;
  EXPECT_TRUE(proxy_->wait_for_log("reloaded configuration", seconds(5)));

  std::ofstream(config) << "log_level = \"loud\"\n";
  const CaptureResult bad = ctl({"reload"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("dotproxy ctl: reload rejected, the running configuration stays: "),
            std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("loud"), std::string::npos) << bad.err;
  ASSERT_TRUE(ask("www.test."));  // still serving
}

TEST_F(IntegrationControlTest, StatusSaysVersionWorkersAndReadiness) {
  start();
  const CaptureResult status = ctl({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("{\"version\":\""), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"workers\":1,\"workers_answering\":1,\"ready\":true,\"why\":null"),
            std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("\nready\n"), std::string::npos) << status.out;
}

TEST_F(IntegrationControlTest, TheSocketIsModeSixHundredAndGoesAtACleanExit) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(proxy_->process().terminate(), 0);
  EXPECT_NE(::stat(socket_.c_str(), &st), 0);
  const CaptureResult gone = ctl({"status"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("cannot connect to " + socket_), std::string::npos) << gone.err;
}

TEST_F(IntegrationControlTest, ASecondProcessOnALiveSocketFailsToStartAndAStaleOneIsReplaced) {
  start();
  const CaptureResult second = run_capture(
      {dotproxy_binary(), "--listen", "127.0.0.1:0", "--upstream", spec(server_->port()),
       "--ca-file", pki_->ca_file, "--workers", "1", "--control-socket", socket_});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("another process is listening on " + socket_), std::string::npos)
      << second.err;
  EXPECT_EQ(ctl({"status"}).exit_code, 0);  // the first one's socket survived

  // SIGKILL leaves the file behind; the next start replaces it.
  proxy_->process().signal(SIGKILL);
  ASSERT_TRUE(proxy_->process().wait_exit(seconds(5)).has_value());
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  proxy_.reset();
  start();
  EXPECT_EQ(ctl({"status"}).exit_code, 0);

  const CaptureResult no_dir =
      run_capture({dotproxy_binary(), "--listen", "127.0.0.1:0", "--upstream",
                   spec(server_->port()), "--ca-file", pki_->ca_file, "--workers", "1",
                   "--control-socket", dir_.path() + "/missing/control.sock"});
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_NE(no_dir.err.find("directory " + dir_.path() + "/missing does not exist"),
            std::string::npos)
      << no_dir.err;
}

TEST_F(IntegrationControlTest, UsageErrorsExitTwo) {
  start();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"flush"}, {"purge", "www.test"}, {"flush", "www.test", "BOGUS"}}) {
    const CaptureResult r = ctl(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("usage: dotproxy ctl"), std::string::npos) << r.err;
  }
}

TEST_F(IntegrationControlTest, AMalformedOrOversizedRequestGetsAnErrorAndTheConnectionCloses) {
  start();
  RawControl unknown(socket_);
  ASSERT_TRUE(unknown.connected());
  unknown.send("purge www.test\nstatus\n");
  EXPECT_EQ(unknown.read_reply().rfind("error unknown command 'purge' (try: flush,", 0), 0u);
  EXPECT_TRUE(unknown.closed_by_server());  // "status" never answered

  RawControl binary(socket_);
  binary.send(std::string("flush \x01\x02\n", 9));
  EXPECT_EQ(binary.read_reply(), "error request has control characters\n");
  EXPECT_TRUE(binary.closed_by_server());

  RawControl oversized(socket_);
  oversized.send("flush " + std::string(2000, 'a'));
  EXPECT_EQ(oversized.read_reply(), "error request longer than 1024 bytes\n");
  EXPECT_TRUE(oversized.closed_by_server());

  RawControl good(socket_);  // a well-formed one keeps its connection for the next request
  good.send("status\n");
  EXPECT_NE(good.read_reply().find("\nok ready\n"), std::string::npos);
  good.send("flush-all\n");
  EXPECT_EQ(good.read_reply(), "ok removed 0\n");
}

TEST_F(IntegrationControlTest, MoreThanFourConnectionsAtOnceAreRefused) {
  start();
  std::vector<std::unique_ptr<RawControl>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawControl>(socket_));
    held.back()->send("flush-all\n");  // answered: surely accepted and counted
    ASSERT_EQ(held.back()->read_reply(), "ok removed 0\n");
  }
  RawControl fifth(socket_);
  EXPECT_EQ(fifth.read_reply(), "error too many control connections (at most 4)\n");
  EXPECT_TRUE(fifth.closed_by_server());
  const CaptureResult refused = ctl({"status"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("too many control connections"), std::string::npos)
      << "[" << refused.err << "]";
  held.pop_back();  // one slot free again
  EXPECT_TRUE(wait_until([&] { return ctl({"status"}).exit_code == 0; }, seconds(5)));
}

TEST_F(IntegrationControlTest, CommandsAreCountedByNameAndResult) {
  start();
  ASSERT_EQ(ctl({"flush-all"}).exit_code, 0);
  RawControl bad(socket_);
  bad.send("nonsense\n");
  bad.read_reply();
  const CaptureResult stats = ctl({"stats"});
  ASSERT_EQ(stats.exit_code, 0);
  EXPECT_NE(stats.out.find("\"dotproxy_control_commands_total\":[{\"labels\":{\"command\":"
                           "\"flush-all\",\"result\":\"ok\"},\"value\":1}"),
            std::string::npos)
      << stats.out;
  EXPECT_NE(
      stats.out.find("{\"labels\":{\"command\":\"invalid\",\"result\":\"error\"},\"value\":1}"),
      std::string::npos)
      << stats.out;
}

}  // namespace
}  // namespace dp::testing
