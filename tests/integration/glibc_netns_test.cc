// glibc end to end (issue #15): a pod's resolv.conf (search list, ndots:5) through dotproxy on
// port 53, in a network namespace the test makes for itself; getent resolves a Service name from
// the cluster DNS fixture and an external name over DoT, and the search-path misses of the
// external name are the fixture's NXDOMAINs, cached for the forward zone's max_negative_ttl.
#include <unistd.h>

#include <array>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "fakes/netns.h"
#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kClusterDnsAddress = "127.0.0.2";  // not dotproxy's client address
constexpr auto kNegativeTtl = seconds(5);                // the zone's max_negative_ttl
constexpr auto kGetentTimeout = seconds(15);             // glibc: 5 s per try, see resolv.conf
// The search-path candidates glibc tries for "www.test" before the name as given: it has fewer
// dots than ndots:5 (resolv.conf(5)).
constexpr std::array<const char*, 3> kSearchMisses = {
    "www.test.default.svc.cluster.local", "www.test.svc.cluster.local", "www.test.cluster.local"};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

std::string counts_text(const std::map<std::string, std::uint64_t>& counts) {
  std::ostringstream out;
  for (const auto& [name, count] : counts) out << " " << name << "=" << count;
  return out.str();
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class GlibcNetnsTest : public IntegrationTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network and mount namespaces, port 53)";
    // Probed here, on gtest's thread, so that a skip is reported as a skip.
    const std::string netns = run_in_new_netns([] {});
    if (!netns.empty()) GTEST_SKIP() << "cannot make a network namespace: " << netns;
    const CaptureResult mount_ns = run_capture({"unshare", "--mount", "true"}, seconds(10));
    if (mount_ns.exit_code != 0) {
      GTEST_SKIP() << "cannot make a mount namespace with unshare(1) (exit " << mount_ns.exit_code
                   << "): " << mount_ns.err;
    }
    resolv_conf_ = dir_.file("resolv.conf");
    nsswitch_conf_ = dir_.file("nsswitch.conf");
    hosts_ = dir_.file("hosts");
    // A Kubernetes pod's resolv.conf (kubelet's ClusterFirst policy), with dotproxy as its server.
    write_file(resolv_conf_,
               "nameserver 127.0.0.1\n"
               "search default.svc.cluster.local svc.cluster.local cluster.local\n"
               "options ndots:5\n");
    // No nss-resolve, mdns or myhostname between getent and the DNS.
    write_file(nsswitch_conf_, "hosts: files dns\n");
    write_file(hosts_, "127.0.0.1 localhost\n::1 localhost\n");  // none of the test names
  }

  // `getent ARGS` as in the pod: in a mount namespace of its own whose mounts are private (so
  // nothing reaches the host) with the generated resolv.conf, nsswitch.conf and
  // hosts bind-mounted over /etc's, no host nscd to ask instead of the DNS, and none of the
  // environment variables that override resolv.conf (resolv.conf(5)). Run from the test's
  // network namespace thread, so it is in that network namespace too.
  CaptureResult getent(const std::vector<std::string>& args) const {
    static constexpr const char* kScript =
        "set -e\n"
        "mount --bind \"$1\" /etc/resolv.conf\n"
        "mount --bind \"$2\" /etc/nsswitch.conf\n"
        "mount --bind \"$3\" /etc/hosts\n"
        "if [ -d /var/run/nscd ]; then mount -t tmpfs tmpfs /var/run/nscd; fi\n"
        "shift 3\n"
        "exec env -u LOCALDOMAIN -u RES_OPTIONS -u HOSTALIASES getent \"$@\"\n";
    std::vector<std::string> argv = {
        "unshare", "--mount", "--propagation", "private",    "--",           "sh",
        "-c",      kScript,   "getent-in-pod", resolv_conf_, nsswitch_conf_, hosts_};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_capture(argv, kGetentTimeout);
  }

  TempDir dir_{"dotproxy-netns"};
  std::string resolv_conf_;
  std::string nsswitch_conf_;
  std::string hosts_;
};

TEST_F(GlibcNetnsTest, PodResolvConfResolvesServiceAndExternalNamesAndCachesSearchMisses) {
  const std::string netns_error = run_in_new_netns([&] {
    // The cluster DNS: its SOA minimum (RFC 2308 §5: the negative TTL) is an hour, so an
    // NXDOMAIN asked again after 5 s shows the zone's max_negative_ttl at work.
    PlainDnsServerConfig cluster_config;
    cluster_config.address = kClusterDnsAddress;
    cluster_config.soa_minimum = 3600;
    auto cluster = start_plain_server(cluster_config);
    auto dot = start_server();  // the default upstream, on 127.0.0.1

    const std::string config_file = dir_.file("dotproxy.toml");
    write_file(config_file,
               "[[forward_zone]]\n"
               "zone = \"cluster.local\"\n"
               "transport = \"tcp\"\n"
               "servers = [\"" +
                   std::string(kClusterDnsAddress) + "@" + std::to_string(cluster->port()) +
                   "\"]\n"
                   "max_negative_ttl = \"5s\"\n");
    const std::string query_log = dir_.file("query.log");
    // glibc can only ask port 53: the reason for the namespace.
    auto proxy = start_proxy(spec(dot->port()), {"--config", config_file, "--listen",
                                                 "127.0.0.1:53", "--query-log", query_log});
    ASSERT_NE(proxy->log().find("127.0.0.1:53"), std::string::npos) << proxy->log();
    const auto log_has = [&](const std::string& needle, std::size_t at_least = 1) {
      return wait_until([&] { return count_of(read_file_text(query_log), needle) >= at_least; },
                        seconds(5));
    };

    // A Service by its namespace-relative name: the search list makes it
    // kubernetes.default.svc.cluster.local, which the fixture knows.
    const CaptureResult service = getent({"hosts", "kubernetes.default"});
    ASSERT_EQ(service.exit_code, 0) << service.out << service.err << proxy->log();
    EXPECT_EQ(service.out.rfind("10.96.0.1 ", 0), 0u) << service.out;
    EXPECT_NE(service.out.find("kubernetes.default.svc.cluster.local"), std::string::npos)
        << service.out;
    EXPECT_GE(cluster->queries_for("kubernetes.default.svc.cluster.local"), 1u);
    EXPECT_TRUE(
        log_has("name=kubernetes.default.svc.cluster.local. type=A route=cluster.local "
                "rcode=NOERROR"))
        << read_file_text(query_log);

    // An external name: the three search-path candidates are NXDOMAINs from the fixture, then
    // the name as given goes over DoT.
    const auto first_ask = SteadyClock::now();
    const CaptureResult external = getent({"ahosts", "www.test"});
    const auto first_done = SteadyClock::now();
    ASSERT_EQ(external.exit_code, 0) << external.out << external.err << proxy->log();
    EXPECT_NE(external.out.find("192.0.2.1 "), std::string::npos) << external.out;
    EXPECT_GE(dot->queries_for("www.test"), 1u) << counts_text(dot->queries_by_name());
    EXPECT_EQ(cluster->queries_for("www.test"), 0u);
    std::map<std::string, std::uint64_t> asked;  // by the fixture, per search-path candidate
    for (const std::string name : kSearchMisses) {
      asked[name] = cluster->queries_for(name);
      EXPECT_GE(asked[name], 1u) << name << ":" << counts_text(cluster->queries_by_name());
      EXPECT_TRUE(log_has("name=" + name + ". type=A route=cluster.local rcode=NXDOMAIN"))
          << read_file_text(query_log);
    }
    EXPECT_TRUE(log_has("name=www.test. type=A route=upstream rcode=NOERROR"))
        << read_file_text(query_log);
    std::cout << "after getent ahosts www.test: cluster DNS:"
              << counts_text(cluster->queries_by_name())
              << "; DoT:" << counts_text(dot->queries_by_name()) << "\n";

    // Again within the negative TTL: glibc asks dotproxy for every candidate again (the query
    // log shows it), dotproxy answers from its cache, the fixture hears nothing new.
    std::map<std::string, std::size_t> logged;
    const std::string log_before = read_file_text(query_log);
    for (const std::string name : kSearchMisses) {
      logged[name] = count_of(log_before, "name=" + name + ". ");
    }
    const CaptureResult again = getent({"hosts", "www.test"});
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("www.test"), std::string::npos) << again.out;
    ASSERT_LT(SteadyClock::now() - first_ask, kNegativeTtl - seconds(1))
        << "too slow to tell a cached NXDOMAIN from an expired one";
    for (const std::string name : kSearchMisses) {
      EXPECT_TRUE(log_has("name=" + name + ". ", logged[name] + 1)) << name << " not asked again:\n"
                                                                    << read_file_text(query_log);
      EXPECT_EQ(cluster->queries_for(name), asked[name])
          << name << " reached the fixture within its negative TTL:"
          << counts_text(cluster->queries_by_name());
    }
    std::cout << "after getent hosts www.test within 5 s: cluster DNS:"
              << counts_text(cluster->queries_by_name()) << "\n";

    // Past the zone's 5 s (the fixture's own SOA says an hour): the candidates are asked again.
    std::this_thread::sleep_until(first_done + kNegativeTtl + milliseconds(500));
    const CaptureResult later = getent({"hosts", "www.test"});
    ASSERT_EQ(later.exit_code, 0) << later.out << later.err;
    EXPECT_NE(later.out.find("www.test"), std::string::npos) << later.out;
    for (const std::string name : kSearchMisses) {
      EXPECT_TRUE(wait_until([&] { return cluster->queries_for(name) > asked[name]; }, seconds(3)))
          << name
          << " not asked again after its negative TTL:" << counts_text(cluster->queries_by_name());
    }
    std::cout << "after getent hosts www.test past 5 s: cluster DNS:"
              << counts_text(cluster->queries_by_name())
              << "; DoT:" << counts_text(dot->queries_by_name()) << "\n";

    // Nothing under cluster.local ever left over DoT.
    for (const auto& [name, count] : dot->queries_by_name()) {
      EXPECT_FALSE(name == "cluster.local" || name.ends_with(".cluster.local"))
          << name << " went to the default upstream " << count << " times";
    }
  });
  ASSERT_EQ(netns_error, "") << "the network namespace worked in SetUp";
}

}  // namespace
}  // namespace dp::testing
