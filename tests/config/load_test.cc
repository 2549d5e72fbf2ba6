#include "config/load.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "dotproxy_version.h"

namespace dp::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Action = Invocation::Action;

std::vector<std::string> listen_strings(const Config& c) {
  std::vector<std::string> out;
  for (const auto& a : c.listen) out.push_back(a.to_string());
  return out;
}

std::vector<std::string> upstream_strings(const Config& c) {
  std::vector<std::string> out;
  for (const auto& u : c.upstreams) out.push_back(u.display());
  return out;
}

class ConfigLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dotproxy-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // A config file written under the temp dir, named by --config.
  std::string with_file(const std::string& toml) {
    path_ = write_file("dotproxy.toml", toml);
    return path_;
  }

  Invocation load(std::vector<std::string> args) {
    if (!path_.empty()) args.insert(args.begin(), {"--config", path_});
    args.insert(args.begin(), "dotproxy");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    const EnvLookup env = [this](const std::string& name) -> std::optional<std::string> {
      const auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    return config_load(static_cast<int>(args.size()), argv.data(), env);
  }

  // The ConfigError message of load(args); a test failure if it loads.
  std::string load_error(std::vector<std::string> args) {
    try {
      load(std::move(args));
      ADD_FAILURE() << "loaded without error";
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      return e.what();
    }
    return "";
  }

  std::string dir_;
  std::string path_;  // config file given with --config; "" for none
  std::map<std::string, std::string> env_;
};

TEST_F(ConfigLoadTest, DefaultsWhenNothingGiven) {
  const Invocation inv = load({});
  EXPECT_EQ(inv.action, Action::kRun);
  EXPECT_EQ(inv.config_path, "");
  const Config& c = inv.config;
  EXPECT_THAT(listen_strings(c), ElementsAre("127.0.0.1:53", "[::1]:53"));
  EXPECT_THAT(upstream_strings(c),
              ElementsAre("1.1.1.1@853#cloudflare-dns.com", "1.0.0.1@853#cloudflare-dns.com"));
  EXPECT_EQ(c.ca_file, "");
  EXPECT_EQ(c.log_level, log::Level::kInfo);
  EXPECT_EQ(c.workers, 0u);
  EXPECT_EQ(c.tcp_idle_timeout, milliseconds(10'000));
  EXPECT_EQ(c.upstream_timeout, milliseconds(3'000));
  EXPECT_EQ(c.max_tcp_clients, 1024u);
  EXPECT_EQ(c.max_tcp_queries_per_client, 128u);
  EXPECT_EQ(c.upstream_connections, 2u);
  EXPECT_EQ(c.max_queries_per_connection, 256u);
  EXPECT_EQ(c.max_pending_queries, 8192u);
}

TEST_F(ConfigLoadTest, CommandLineAlone) {
  const std::string ca = write_file("ca.pem", "not checked here\n");
  const Config c = load({"--listen",
                         "127.0.0.2:5353",
                         "--listen",
                         "[::1]:5353",
                         "--upstream",
                         "9.9.9.9#dns.quad9.net",
                         "--upstream",
                         "[2620:fe::fe]@8853",
                         "--ca-file",
                         ca,
                         "--log-level",
                         "debug",
                         "--workers",
                         "4",
                         "--upstream-timeout",
                         "500ms",
                         "--tcp-idle-timeout",
                         "1m",
                         "--max-tcp-clients",
                         "10",
                         "--max-tcp-queries-per-client",
                         "11",
                         "--upstream-connections",
                         "3",
                         "--max-queries-per-connection",
                         "12",
                         "--max-pending-queries=13"})
                       .config;
  EXPECT_THAT(listen_strings(c), ElementsAre("127.0.0.2:5353", "[::1]:5353"));
  EXPECT_THAT(upstream_strings(c), ElementsAre("9.9.9.9@853#dns.quad9.net", "[2620:fe::fe]@8853"));
  EXPECT_EQ(c.ca_file, ca);
  EXPECT_EQ(c.log_level, log::Level::kDebug);
  EXPECT_EQ(c.workers, 4u);
  EXPECT_EQ(c.upstream_timeout, milliseconds(500));
  EXPECT_EQ(c.tcp_idle_timeout, milliseconds(60'000));
  EXPECT_EQ(c.max_tcp_clients, 10u);
  EXPECT_EQ(c.max_tcp_queries_per_client, 11u);
  EXPECT_EQ(c.upstream_connections, 3u);
  EXPECT_EQ(c.max_queries_per_connection, 12u);
  EXPECT_EQ(c.max_pending_queries, 13u);
}

TEST_F(ConfigLoadTest, CommandLineListTakesCommas) {
  const Config c = load({"--listen", "127.0.0.1:1053,[::1]:1053"}).config;
  EXPECT_THAT(listen_strings(c), ElementsAre("127.0.0.1:1053", "[::1]:1053"));
}

TEST_F(ConfigLoadTest, EnvironmentAlone) {
  const std::string ca = write_file("ca.pem", "x\n");
  env_ = {{"DOTPROXY_LISTEN", "127.0.0.3:53, [::1]:54"},
          {"DOTPROXY_UPSTREAM", "8.8.8.8#dns.google,2001:4860:4860::8888@853#dns.google"},
          {"DOTPROXY_CA_FILE", ca},
          {"DOTPROXY_LOG_LEVEL", "warn"},
          {"DOTPROXY_WORKERS", "2"},
          {"DOTPROXY_UPSTREAM_TIMEOUT", "2"},
          {"DOTPROXY_TCP_IDLE_TIMEOUT", "1h"},
          {"DOTPROXY_MAX_TCP_CLIENTS", "20"},
          {"DOTPROXY_MAX_TCP_QUERIES_PER_CLIENT", "21"},
          {"DOTPROXY_UPSTREAM_CONNECTIONS", "64"},
          {"DOTPROXY_MAX_QUERIES_PER_CONNECTION", "4096"},
          {"DOTPROXY_MAX_PENDING_QUERIES", "23"}};
  const Config c = load({}).config;
  EXPECT_THAT(listen_strings(c), ElementsAre("127.0.0.3:53", "[::1]:54"));
  EXPECT_THAT(upstream_strings(c),
              ElementsAre("8.8.8.8@853#dns.google", "[2001:4860:4860::8888]@853#dns.google"));
  EXPECT_EQ(c.ca_file, ca);
  EXPECT_EQ(c.log_level, log::Level::kWarn);
  EXPECT_EQ(c.workers, 2u);
  EXPECT_EQ(c.upstream_timeout, milliseconds(2'000));
  EXPECT_EQ(c.tcp_idle_timeout, milliseconds(3'600'000));
  EXPECT_EQ(c.max_tcp_clients, 20u);
  EXPECT_EQ(c.max_tcp_queries_per_client, 21u);
  EXPECT_EQ(c.upstream_connections, 64u);
  EXPECT_EQ(c.max_queries_per_connection, 4096u);
  EXPECT_EQ(c.max_pending_queries, 23u);
}

TEST_F(ConfigLoadTest, EmptyEnvironmentVariableCountsAsUnset) {
  env_ = {{"DOTPROXY_WORKERS", ""}, {"DOTPROXY_LISTEN", ""}, {"DOTPROXY_CONFIG", ""}};
  const Invocation inv = load({});
  EXPECT_EQ(inv.config.workers, 0u);
  EXPECT_EQ(inv.config.listen.size(), 2u);
  EXPECT_EQ(inv.config_path, "");
}

TEST_F(ConfigLoadTest, FileAlone) {
  const std::string ca = write_file("ca.pem", "x\n");
  const std::string path = with_file(R"(
listen = ["127.0.0.4:53", "[::1]:55"]
ca_file = ")" + ca + R"("
log_level = "error"
workers = 8
upstream_timeout = "1500ms"
tcp_idle_timeout = 30
max_tcp_clients = 30
max_tcp_queries_per_client = "31"
upstream_connections = 4
max_queries_per_connection = 32
max_pending_queries = 33

[[upstream]]
address = "9.9.9.9"
auth_name = "dns.quad9.net"

[[upstream]]
address = "2620:fe::9"
port = 8853
)");
  const Invocation inv = load({});
  EXPECT_EQ(inv.config_path, path);
  const Config& c = inv.config;
  EXPECT_THAT(listen_strings(c), ElementsAre("127.0.0.4:53", "[::1]:55"));
  EXPECT_THAT(upstream_strings(c), ElementsAre("9.9.9.9@853#dns.quad9.net", "[2620:fe::9]@8853"));
  EXPECT_EQ(c.ca_file, ca);
  EXPECT_EQ(c.log_level, log::Level::kError);
  EXPECT_EQ(c.workers, 8u);
  EXPECT_EQ(c.upstream_timeout, milliseconds(1'500));
  EXPECT_EQ(c.tcp_idle_timeout, milliseconds(30'000));
  EXPECT_EQ(c.max_tcp_clients, 30u);
  EXPECT_EQ(c.max_tcp_queries_per_client, 31u);
  EXPECT_EQ(c.upstream_connections, 4u);
  EXPECT_EQ(c.max_queries_per_connection, 32u);
  EXPECT_EQ(c.max_pending_queries, 33u);
}

TEST_F(ConfigLoadTest, FileUpstreamAsArrayOfSpecs) {
  with_file("upstream = [\"1.1.1.1@853#one.one.one.one\", \"::1@8853\"]\n");
  EXPECT_THAT(upstream_strings(load({}).config),
              ElementsAre("1.1.1.1@853#one.one.one.one", "[::1]@8853"));
}

TEST_F(ConfigLoadTest, ConfigPathFromEnvironment) {
  const std::string path = write_file("env.toml", "workers = 5\n");
  env_ = {{"DOTPROXY_CONFIG", path}};
  const Invocation inv = load({});
  EXPECT_EQ(inv.config_path, path);
  EXPECT_EQ(inv.config.workers, 5u);
}

TEST_F(ConfigLoadTest, ConfigFlagBeatsConfigEnvironment) {
  env_ = {{"DOTPROXY_CONFIG", write_file("env.toml", "workers = 5\n")}};
  const std::string flag_path = write_file("flag.toml", "workers = 6\n");
  const Invocation inv = load({"--config", flag_path});
  EXPECT_EQ(inv.config_path, flag_path);
  EXPECT_EQ(inv.config.workers, 6u);
}

TEST_F(ConfigLoadTest, PrecedenceFileEnvCommandLine) {
  with_file("workers = 2\nupstream_timeout = \"2s\"\nlog_level = \"error\"\n");
  EXPECT_EQ(load({}).config.workers, 2u);

  env_ = {{"DOTPROXY_WORKERS", "3"}, {"DOTPROXY_UPSTREAM_TIMEOUT", "4s"}};
  Config c = load({}).config;
  EXPECT_EQ(c.workers, 3u);
  EXPECT_EQ(c.upstream_timeout, milliseconds(4'000));
  EXPECT_EQ(c.log_level, log::Level::kError);  // only in the file

  c = load({"--workers", "4"}).config;
  EXPECT_EQ(c.workers, 4u);
  EXPECT_EQ(c.upstream_timeout, milliseconds(4'000));  // env, not overridden

  EXPECT_EQ(load({"--workers", "4", "--workers", "7"}).config.workers, 7u);  // last one wins
}

TEST_F(ConfigLoadTest, HigherLevelListReplacesLowerList) {
  with_file(R"(
listen = ["127.0.0.1:1001", "127.0.0.1:1002"]
[[upstream]]
address = "192.0.2.1"
[[upstream]]
address = "192.0.2.2"
[[upstream]]
address = "192.0.2.3"
)");
  Config c = load({"--upstream", "198.51.100.1", "--upstream", "198.51.100.2"}).config;
  EXPECT_THAT(upstream_strings(c), ElementsAre("198.51.100.1@853", "198.51.100.2@853"));
  EXPECT_THAT(listen_strings(c), ElementsAre("127.0.0.1:1001", "127.0.0.1:1002"));

  env_ = {{"DOTPROXY_LISTEN", "127.0.0.1:2001"}};
  c = load({}).config;
  EXPECT_THAT(listen_strings(c), ElementsAre("127.0.0.1:2001"));
  EXPECT_EQ(c.upstreams.size(), 3u);

  c = load({"--listen", "127.0.0.1:3001"}).config;
  EXPECT_THAT(listen_strings(c), ElementsAre("127.0.0.1:3001"));
}

TEST_F(ConfigLoadTest, FileListReplacesDefaultList) {
  with_file("listen = [\"127.0.0.1:5300\"]\n");
  EXPECT_THAT(listen_strings(load({}).config), ElementsAre("127.0.0.1:5300"));
}

TEST_F(ConfigLoadTest, CheckConfigVersionAndHelp) {
  EXPECT_EQ(load({"--check-config"}).action, Action::kCheckConfig);

  const Invocation version = load({"--version"});
  EXPECT_EQ(version.action, Action::kExit);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output, std::string("dotproxy ") + DOTPROXY_VERSION + "\n");

  for (const char* flag : {"--help", "-h"}) {
    const Invocation help = load({flag});
    EXPECT_EQ(help.action, Action::kExit);
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_THAT(help.output, HasSubstr("--upstream-timeout DUR"));
    EXPECT_THAT(help.output, HasSubstr("DOTPROXY_MAX_PENDING_QUERIES"));
    EXPECT_THAT(help.output, HasSubstr("--check-config"));
  }
}

TEST_F(ConfigLoadTest, HelpAndVersionDoNotReadTheFile) {
  path_ = dir_ + "/missing.toml";
  EXPECT_EQ(load({"--version"}).action, Action::kExit);
  EXPECT_EQ(load({"--help"}).action, Action::kExit);
}

struct BadValue {
  std::vector<std::string> args;
  std::string message;
};

TEST_F(ConfigLoadTest, CommandLineErrorsNameTheFlag) {
  const std::vector<BadValue> cases = {
      {{"--listen", "1.2.3.4"}, "--listen: '1.2.3.4' is not ADDR:PORT (IPv6 as [::1]:53)"},
      {{"--listen", "::1:53"}, "--listen: '::1:53' is not ADDR:PORT"},
      {{"--listen", "localhost:53"}, "--listen: 'localhost:53' is not ADDR:PORT"},
      {{"--upstream", "1.1.1.1@99999"},
       "--upstream: '1.1.1.1@99999': port '99999' is not from 1 to 65535"},
      {{"--upstream", ""}, "--upstream: empty upstream"},
      {{"--log-level", "verbose"},
       "--log-level: 'verbose' is not a log level (error, warn, info, debug)"},
      {{"--workers", "-1"}, "--workers: '-1' is not a whole number from 0 to 1024"},
      {{"--workers", "1025"}, "--workers: '1025' is not a whole number from 0 to 1024"},
      {{"--workers", "two"}, "--workers: 'two' is not a whole number"},
      {{"--upstream-timeout", "abc"},
       "--upstream-timeout: 'abc' is not a duration (e.g. 500ms, 3s)"},
      {{"--upstream-timeout", "61s"}, "--upstream-timeout: '61s' is not from 1ms to 60s"},
      {{"--upstream-timeout", "0"}, "--upstream-timeout: '0' is not from 1ms to 60s"},
      {{"--tcp-idle-timeout", "2h"}, "--tcp-idle-timeout: '2h' is not from 1ms to 1h"},
      {{"--tcp-idle-timeout", "10 s"}, "--tcp-idle-timeout: '10 s' is not a duration"},
      {{"--max-tcp-clients", "0"}, "--max-tcp-clients: '0' is not a whole number from 1 to"},
      {{"--max-tcp-queries-per-client", "65536"},
       "--max-tcp-queries-per-client: '65536' is not a whole number from 1 to 65535"},
      {{"--upstream-connections", "65"},
       "--upstream-connections: '65' is not a whole number from 1 to 64"},
      {{"--max-queries-per-connection", "4097"},
       "--max-queries-per-connection: '4097' is not a whole number from 1 to 4096"},
      {{"--max-pending-queries", "0"}, "--max-pending-queries: '0' is not a whole number"},
  };
  for (const BadValue& bad : cases) {
    EXPECT_THAT(load_error(bad.args), HasSubstr(bad.message)) << bad.args[0];
  }
}

TEST_F(ConfigLoadTest, CommandLineParseErrorsAreOneLine) {
  EXPECT_THAT(load_error({"--bogus"}), HasSubstr("--bogus"));
  EXPECT_THAT(load_error({"--workers"}), HasSubstr("--workers"));
  EXPECT_THAT(load_error({"stray"}), HasSubstr("stray"));
}

TEST_F(ConfigLoadTest, EnvironmentErrorsNameTheVariable) {
  env_ = {{"DOTPROXY_WORKERS", "-1"}};
  EXPECT_THAT(load_error({}), HasSubstr("DOTPROXY_WORKERS: '-1' is not a whole number from 0 to "
                                        "1024 (0: one per CPU)"));
  env_ = {{"DOTPROXY_LISTEN", "127.0.0.1:53,,[::1]:53"}};
  EXPECT_THAT(load_error({}), HasSubstr("DOTPROXY_LISTEN: empty item in '127.0.0.1:53,,[::1]:53'"));
  env_ = {{"DOTPROXY_UPSTREAM", "1.1.1.1,1.1.1.1:853"}};
  EXPECT_THAT(load_error({}), HasSubstr("DOTPROXY_UPSTREAM: '1.1.1.1:853': '1.1.1.1:853' is not an "
                                        "IP address (put the port after '@'"));
  env_ = {{"DOTPROXY_UPSTREAM_TIMEOUT", "3x"}};
  EXPECT_THAT(load_error({}), HasSubstr("DOTPROXY_UPSTREAM_TIMEOUT: '3x' is not a duration"));
}

TEST_F(ConfigLoadTest, CommandLineValueErrorWinsOverNothingElse) {
  // A good env value does not hide a bad flag value.
  env_ = {{"DOTPROXY_WORKERS", "2"}};
  EXPECT_THAT(load_error({"--workers", "x"}), HasSubstr("--workers: 'x'"));
}

TEST_F(ConfigLoadTest, FileValueErrorGivesFileAndLine) {
  const std::string path = with_file(R"(# comment
listen = ["127.0.0.1:53"]


workers = 2

upstream_timeout = "abc"
)");
  EXPECT_EQ(load_error({}),
            path + ":7: upstream_timeout: 'abc' is not a duration (e.g. 500ms, 3s)");
}

TEST_F(ConfigLoadTest, FileErrorsComeInFileOrder) {
  // "listen" sorts before "workers", but the workers line comes first in the file.
  const std::string path = with_file("workers = -1\nlisten = 5\n");
  EXPECT_THAT(load_error({}), HasSubstr(path + ":1: workers: '-1'"));
}

TEST_F(ConfigLoadTest, FileListItemErrorGivesItsLine) {
  const std::string path = with_file("listen = [\n  \"127.0.0.1:53\",\n  \"1.2.3.4\",\n]\n");
  EXPECT_EQ(load_error({}), path + ":3: listen: '1.2.3.4' is not ADDR:PORT (IPv6 as [::1]:53)");
}

TEST_F(ConfigLoadTest, FileUnknownKey) {
  const std::string path = with_file("workers = 1\n\nworker = 2\n");
  EXPECT_EQ(load_error({}), path + ":3: unknown key 'worker'");
}

TEST_F(ConfigLoadTest, FileRejectsKeysThatAreNotSettings) {
  const std::string path = with_file("config = \"other.toml\"\n");  // --config is CLI/env only
  EXPECT_EQ(load_error({}), path + ":1: unknown key 'config'");
}

TEST_F(ConfigLoadTest, FileSyntaxErrorGivesFileAndLine) {
  const std::string path = with_file("workers = 1\nlisten = [\"127.0.0.1:53\"\nlog_level = 3\n");
  const std::string error = load_error({});
  EXPECT_THAT(error, HasSubstr(path + ":"));
  EXPECT_THAT(error, ::testing::MatchesRegex(".*dotproxy.toml:[23]: .+"));
}

TEST_F(ConfigLoadTest, FileWrongTypes) {
  std::string path = with_file("workers = 1.5\n");
  EXPECT_EQ(load_error({}), path + ":1: workers: expected a string, a whole number or a boolean");
  path = with_file("workers = true\n");
  EXPECT_THAT(load_error({}), HasSubstr(":1: workers: 'true' is not a whole number"));
  path = with_file("workers = -1\n");
  EXPECT_THAT(load_error({}), HasSubstr(":1: workers: '-1' is not a whole number from 0 to 1024"));
  path = with_file("log_level = [\"info\"]\n");
  EXPECT_EQ(load_error({}), path + ":1: log_level: expected a single value, not an array");
  path = with_file("\nlisten = \"127.0.0.1:53\"\n");
  EXPECT_EQ(load_error({}), path + ":2: listen: expected an array");
  path = with_file("listen = [53]\n");
  EXPECT_EQ(load_error({}), path + ":1: listen: '53' is not ADDR:PORT (IPv6 as [::1]:53)");
}

TEST_F(ConfigLoadTest, FileUpstreamTableErrorsGiveTheKeyLine) {
  std::string path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\nport = 99999\n");
  EXPECT_EQ(load_error({}), path + ":3: upstream.port: expected a whole number from 1 to 65535");

  path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\n\n[[upstream]]\nport = 853\n");
  EXPECT_EQ(load_error({}), path + ":4: upstream: missing 'address'");

  path = with_file("[[upstream]]\naddress = \"one.one.one.one\"\n");
  EXPECT_THAT(load_error({}), HasSubstr(path + ":2: upstream.address: expected an IP address"));

  path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\nauth_name = \"bad name\"\n");
  EXPECT_THAT(load_error({}), HasSubstr(path + ":3: upstream.auth_name: expected a host name"));

  path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\nauthname = \"x\"\n");
  EXPECT_EQ(load_error({}), path + ":3: unknown key 'upstream.authname'");

  path = with_file("upstream = [\"1.1.1.1@0\"]\n");
  EXPECT_THAT(load_error({}), HasSubstr(path + ":1: upstream: '1.1.1.1@0': port '0'"));
}

// SHA-256("") and 32 bytes of 0x01: two well-formed pins.
constexpr const char* kPinA = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
constexpr const char* kPinB = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

TEST_F(ConfigLoadTest, FileUpstreamPinsAndTlsMinVersion) {
  with_file(std::string(R"(
[[upstream]]
address = "9.9.9.9"
auth_name = "dns.quad9.net"
pin_sha256 = [")") +
            kPinA + R"(", ")" + kPinB + R"("]
tls_min_version = "1.3"

[[upstream]]
address = "1.1.1.1"
tls_min_version = "1.2"
pin_sha256 = ")" +
            kPinB + R"("

[[upstream]]
address = "::1"
port = 8853
)");
  const Config c = load({}).config;
  // The spec form, in logs and errors, is unchanged by the file-only settings.
  EXPECT_THAT(upstream_strings(c),
              ElementsAre("9.9.9.9@853#dns.quad9.net", "1.1.1.1@853", "[::1]@8853"));
  ASSERT_EQ(c.upstreams.size(), 3u);

  const auto& quad9 = c.upstreams[0];
  ASSERT_EQ(quad9.pins.size(), 2u);
  EXPECT_EQ(quad9.pins[0][0], 0xe3);  // e3b0c442...b855
  EXPECT_EQ(quad9.pins[0][1], 0xb0);
  EXPECT_EQ(quad9.pins[0][2], 0xc4);
  EXPECT_EQ(quad9.pins[0][31], 0x55);
  EXPECT_EQ(quad9.pins[1],
            (std::array<std::uint8_t, 32>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                          1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(quad9.tls_min_version, TlsVersion::kTls13);

  const auto& cloudflare = c.upstreams[1];  // one pin as a bare string
  ASSERT_EQ(cloudflare.pins.size(), 1u);
  EXPECT_EQ(cloudflare.pins[0][0], 0x01);
  EXPECT_EQ(cloudflare.tls_min_version, TlsVersion::kTls12);

  EXPECT_TRUE(c.upstreams[2].pins.empty());  // no pin set: no pin check
  EXPECT_EQ(c.upstreams[2].tls_min_version, TlsVersion::kTls12);
}

TEST_F(ConfigLoadTest, SpecUpstreamsHaveNoPinsAndTls12) {
  env_ = {{"DOTPROXY_UPSTREAM", "9.9.9.9#dns.quad9.net"}};
  Config c = load({}).config;
  ASSERT_EQ(c.upstreams.size(), 1u);
  EXPECT_TRUE(c.upstreams[0].pins.empty());
  EXPECT_EQ(c.upstreams[0].tls_min_version, TlsVersion::kTls12);

  // The command line's list replaces the file's, pins and all.
  with_file(std::string("[[upstream]]\naddress = \"1.1.1.1\"\npin_sha256 = [\"") + kPinA + "\"]\n");
  c = load({"--upstream", "8.8.8.8"}).config;
  ASSERT_EQ(c.upstreams.size(), 1u);
  EXPECT_TRUE(c.upstreams[0].pins.empty());
}

TEST_F(ConfigLoadTest, FileUpstreamPinErrorsGiveTheItemLine) {
  std::string path =
      with_file(std::string("[[upstream]]\naddress = \"1.1.1.1\"\npin_sha256 = [\n  \"") + kPinA +
                "\",\n  \"not*base64\",\n]\n");
  EXPECT_EQ(load_error({}), path +
                                ":5: upstream.pin_sha256: 'not*base64' is not base64 "
                                "(A-Z a-z 0-9 + /, padded with '=')");

  // 31 and 33 bytes: valid base64, wrong length for a SHA-256.
  path = with_file(
      "[[upstream]]\naddress = \"1.1.1.1\"\npin_sha256 = "
      "[\"/////////////////////////////////////////w==\"]\n");
  EXPECT_EQ(load_error({}),
            path +
                ":3: upstream.pin_sha256: '/////////////////////////////////////////w==' is "
                "base64 of 31 bytes, not of a 32-byte SHA-256 (44 characters ending in '=')");
  path = with_file(
      "[[upstream]]\naddress = \"1.1.1.1\"\n\npin_sha256 = "
      "\"////////////////////////////////////////////\"\n");
  EXPECT_THAT(load_error({}),
              HasSubstr(path + ":4: upstream.pin_sha256: '//////////////////////////////"
                               "//////////////' is base64 of 33 bytes"));

  // Hex is the other usual spelling of a SHA-256; it is not what pin_sha256 takes.
  path = with_file(
      "[[upstream]]\naddress = \"1.1.1.1\"\npin_sha256 = "
      "[\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"]\n");
  EXPECT_THAT(load_error({}), HasSubstr(path + ":3: upstream.pin_sha256: 'e3b0c4"));

  path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\npin_sha256 = [\"\"]\n");
  EXPECT_THAT(load_error({}), HasSubstr(path + ":3: upstream.pin_sha256: '' is base64 of 0 bytes"));

  path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\npin_sha256 = [42]\n");
  EXPECT_EQ(load_error({}),
            path + ":3: upstream.pin_sha256: expected base64 strings, e.g. [\"Gr6f...hQg=\"]");

  path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\npin_sha256 = []\n");
  EXPECT_EQ(load_error({}), path +
                                ":3: upstream.pin_sha256: expected at least one pin (or no "
                                "pin_sha256 at all)");
}

TEST_F(ConfigLoadTest, FileUpstreamTlsMinVersionErrors) {
  std::string path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\ntls_min_version = \"1.1\"\n");
  EXPECT_EQ(load_error({}),
            path + ":3: upstream.tls_min_version: expected \"1.2\" or \"1.3\" as a string");
  path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\n\ntls_min_version = 1.3\n");
  EXPECT_EQ(load_error({}),
            path + ":4: upstream.tls_min_version: expected \"1.2\" or \"1.3\" as a string");
  path = with_file("[[upstream]]\naddress = \"1.1.1.1\"\ntls_min_version = \"TLS1.3\"\n");
  EXPECT_THAT(load_error({}), HasSubstr(path + ":3: upstream.tls_min_version: expected"));
}

TEST_F(ConfigLoadTest, UpstreamHelpMentionsPinsAndTlsMinVersion) {
  const std::string table = options_markdown_table();
  EXPECT_THAT(table, HasSubstr("pin_sha256"));
  EXPECT_THAT(table, HasSubstr("tls_min_version"));
}

TEST_F(ConfigLoadTest, MissingConfigFileNamesItsSource) {
  const std::string missing = dir_ + "/nope.toml";
  EXPECT_EQ(load_error({"--config", missing}),
            "--config: cannot read '" + missing + "': No such file or directory");
  env_ = {{"DOTPROXY_CONFIG", missing}};
  EXPECT_THAT(load_error({}), HasSubstr("DOTPROXY_CONFIG: cannot read '" + missing + "'"));
  EXPECT_THAT(load_error({"--config", dir_}), HasSubstr("is a directory"));
}

TEST_F(ConfigLoadTest, ValidateNeedsListenAndUpstream) {
  with_file("listen = []\n");
  EXPECT_THAT(load_error({}), HasSubstr("listen: no address to listen on"));
  with_file("upstream = []\n");
  EXPECT_THAT(load_error({}), HasSubstr("upstream: no upstream"));
}

TEST_F(ConfigLoadTest, ValidateRejectsDuplicateListen) {
  EXPECT_EQ(load_error({"--listen", "127.0.0.1:53,[::1]:53,127.0.0.1:53"}),
            "listen: 127.0.0.1:53 is given twice");
  EXPECT_EQ(load_error({"--listen", "[::1]:53", "--listen", "[0:0::1]:53"}),
            "listen: [::1]:53 is given twice");
  EXPECT_EQ(load({"--listen", "127.0.0.1:53,127.0.0.1:54"}).config.listen.size(), 2u);
}

TEST_F(ConfigLoadTest, ValidateChecksCaFile) {
  const std::string missing = dir_ + "/missing.pem";
  EXPECT_EQ(load_error({"--ca-file", missing}),
            "ca_file: cannot read '" + missing + "': No such file or directory");
  EXPECT_THAT(load_error({"--ca-file", dir_}), HasSubstr("is a directory"));
  const std::string ca = write_file("ca.pem", "x\n");
  EXPECT_EQ(load({"--ca-file", ca}).config.ca_file, ca);
}

TEST_F(ConfigLoadTest, ValidateAcceptsDefaults) { EXPECT_NO_THROW(config_validate(Config{})); }

TEST_F(ConfigLoadTest, MarkdownTableHasEveryOptionAndItsDefault) {
  const std::string table = options_markdown_table();
  EXPECT_THAT(table, HasSubstr("| Flag | Environment | TOML key | Default | Meaning |\n"));
  EXPECT_THAT(table, HasSubstr("| `--workers N` | `DOTPROXY_WORKERS` | `workers` | 0 |"));
  EXPECT_THAT(table, HasSubstr("| `--upstream-timeout DUR` | `DOTPROXY_UPSTREAM_TIMEOUT` | "
                               "`upstream_timeout` | 3s |"));
  EXPECT_THAT(table, HasSubstr("| 127.0.0.1:53, [::1]:53 |"));
  EXPECT_THAT(table, HasSubstr("1.1.1.1@853#cloudflare-dns.com, 1.0.0.1@853#cloudflare-dns.com"));
  EXPECT_THAT(table, HasSubstr("| `--config FILE` | `DOTPROXY_CONFIG` | — |"));
  EXPECT_THAT(table, HasSubstr("| `-h, --help` | — | — | — |"));
  for (const char* key : {"listen",
                          "upstream",
                          "ca_file",
                          "log_level",
                          "tcp_idle_timeout",
                          "max_tcp_clients",
                          "max_tcp_queries_per_client",
                          "upstream_connections",
                          "max_queries_per_connection",
                          "max_pending_queries",
                          "servfail_failover",
                          "cache_size",
                          "min_ttl",
                          "max_ttl",
                          "max_negative_ttl",
                          "servfail_ttl",
                          "serve_stale",
                          "max_stale",
                          "stale_client_timeout",
                          "prefetch",
                          "dnstap",
                          "dnstap_messages",
                          "dnstap_identity",
                          "control_socket",
                          "dnssec",
                          "trust_anchor",
                          "insecure_domains"}) {
    EXPECT_THAT(table, HasSubstr(std::string("| `") + key + "` |")) << key;
  }
  const auto rows = std::count(table.begin(), table.end(), '\n');
  EXPECT_EQ(rows, 2 + 55);
}

TEST_F(ConfigLoadTest, TlsListenerOptionsFromEachSource) {
  const Config defaults = load({}).config;
  EXPECT_TRUE(defaults.listen_tls.empty());  // off unless asked for
  EXPECT_EQ(defaults.tls_handshake_rate, 20u);
  with_file("listen_tls = [\"127.0.0.1:853\"]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n");
  Config c = load({}).config;
  ASSERT_EQ(c.listen_tls.size(), 1u);
  EXPECT_EQ(c.listen_tls[0].to_string(), "127.0.0.1:853");
  EXPECT_EQ(c.tls_cert_file, "c.pem");
  env_["DOTPROXY_TLS_CLIENT_CA"] = "ca.pem";
  env_["DOTPROXY_TLS_HANDSHAKE_RATE"] = "0";
  c = load({"--listen-tls", "[::1]:8853,127.0.0.1:8853"}).config;
  EXPECT_EQ(c.listen_tls.size(), 2u);
  EXPECT_EQ(c.tls_client_ca_file, "ca.pem");
  EXPECT_EQ(c.tls_handshake_rate, 0u);
  EXPECT_THAT(load_error({"--listen-tls", "853"}),
              HasSubstr("--listen-tls: '853' is not ADDR:PORT"));
  EXPECT_THAT(load_error({"--tls-handshake-rate", "-1"}), HasSubstr("--tls-handshake-rate"));
}

TEST_F(ConfigLoadTest, TlsListenerNeedsCertificateAndKeyAndItsOwnPort) {
  EXPECT_THAT(load_error({"--listen-tls", "127.0.0.1:853", "--tls-cert", "c.pem"}),
              HasSubstr("listen_tls: needs a certificate and key (give --tls-cert FILE "
                        "--tls-key FILE)"));
  EXPECT_THAT(load_error({"--listen", "127.0.0.1:853", "--listen-tls", "127.0.0.1:853",
                          "--tls-cert", "c.pem", "--tls-key", "k.pem"}),
              HasSubstr("listen_tls: 127.0.0.1:853 is given twice"));
}

TEST_F(ConfigLoadTest, ServfailFailoverFromEachSource) {
  EXPECT_TRUE(load({}).config.servfail_failover);  // default
  with_file("servfail_failover = false\n");
  EXPECT_FALSE(load({}).config.servfail_failover);
  env_["DOTPROXY_SERVFAIL_FAILOVER"] = "yes";
  EXPECT_TRUE(load({}).config.servfail_failover);
  EXPECT_FALSE(load({"--servfail-failover", "off"}).config.servfail_failover);
  EXPECT_THAT(load_error({"--servfail-failover", "maybe"}),
              HasSubstr("--servfail-failover: 'maybe' is not true or false"));
}

TEST_F(ConfigLoadTest, CacheSettingsFromEachSourceWithTheirDefaults) {
  const Config defaults = load({}).config;
  EXPECT_EQ(defaults.cache_size, 64u << 20);
  EXPECT_EQ(defaults.max_ttl, std::chrono::seconds(86'400));
  EXPECT_EQ(defaults.max_negative_ttl, std::chrono::seconds(3'600));
  EXPECT_EQ(defaults.stale_client_timeout, std::chrono::milliseconds(1'800));
  EXPECT_TRUE(defaults.serve_stale);
  EXPECT_TRUE(defaults.prefetch);
  with_file("cache_size = \"16M\"\nmin_ttl = \"30s\"\nserve_stale = false\n");
  Config c = load({}).config;
  EXPECT_EQ(c.cache_size, 16u << 20);
  EXPECT_EQ(c.min_ttl, std::chrono::seconds(30));
  EXPECT_FALSE(c.serve_stale);
  env_["DOTPROXY_CACHE_SIZE"] = "0";
  env_["DOTPROXY_MAX_STALE"] = "1h";
  c = load({"--max-negative-ttl", "0", "--servfail-ttl", "2s", "--prefetch", "off"}).config;
  EXPECT_EQ(c.cache_size, 0u);
  EXPECT_EQ(c.max_stale, std::chrono::seconds(3'600));
  EXPECT_EQ(c.max_negative_ttl, std::chrono::seconds(0));
  EXPECT_EQ(c.servfail_ttl, std::chrono::seconds(2));
  EXPECT_FALSE(c.prefetch);
}

TEST_F(ConfigLoadTest, CacheSettingsOutOfRangeAreOneLineErrors) {
  EXPECT_THAT(load_error({"--cache-size", "64MB"}),
              HasSubstr("--cache-size: '64MB' is not a size from 0 to 1TiB (e.g. 64M)"));
  EXPECT_THAT(load_error({"--servfail-ttl", "0"}),
              HasSubstr("--servfail-ttl: '0' is not from 1s to 5m"));
  EXPECT_THAT(load_error({"--servfail-ttl", "10m"}), HasSubstr("is not from 1s to 5m"));
  EXPECT_THAT(load_error({"--min-ttl", "1500ms"}),
              HasSubstr("--min-ttl: '1500ms' is not whole seconds"));
  EXPECT_THAT(load_error({"--min-ttl", "2h", "--max-ttl", "1h"}),
              HasSubstr("min_ttl: 7200s is above max_ttl (3600s)"));
}

TEST_F(ConfigLoadTest, BlocklistFilesAndAnswerFromEachSource) {
  EXPECT_TRUE(load({}).config.blocklist.empty());  // default: nothing blocked
  EXPECT_EQ(load({}).config.blocklist_answer, dns::BlockedAnswer::kNxDomain);
  with_file("blocklist = [\"/etc/a.list\", \"b.hosts\"]\nblocklist_answer = \"null\"\n");
  EXPECT_EQ(load({}).config.blocklist, (std::vector<std::string>{"/etc/a.list", "b.hosts"}));
  EXPECT_EQ(load({}).config.blocklist_answer, dns::BlockedAnswer::kNull);
  env_["DOTPROXY_BLOCKLIST"] = "c.list, d.list";
  env_["DOTPROXY_BLOCKLIST_ANSWER"] = "nxdomain";
  EXPECT_EQ(load({}).config.blocklist, (std::vector<std::string>{"c.list", "d.list"}));
  EXPECT_EQ(load({}).config.blocklist_answer, dns::BlockedAnswer::kNxDomain);
  const auto cli =
      load({"--blocklist", "e.list", "--blocklist", "f.list", "--blocklist-answer", "null"});
  EXPECT_EQ(cli.config.blocklist, (std::vector<std::string>{"e.list", "f.list"}));
  EXPECT_EQ(cli.config.blocklist_answer, dns::BlockedAnswer::kNull);
  EXPECT_EQ(load_error({"--blocklist-answer", "refused"}),
            "--blocklist-answer: 'refused' is not nxdomain or null");
}

TEST_F(ConfigLoadTest, OperationsSettingsFromEachSource) {
  const Config defaults = load({}).config;
  EXPECT_FALSE(defaults.metrics_listen.has_value());  // off unless asked
  EXPECT_EQ(defaults.log_format, log::Format::kLogfmt);
  EXPECT_EQ(defaults.drain_timeout, std::chrono::milliseconds(5'000));
  with_file("metrics_listen = \"127.0.0.1:9153\"\nlog_format = \"json\"\n");
  Config c = load({}).config;
  ASSERT_TRUE(c.metrics_listen.has_value());
  EXPECT_EQ(c.metrics_listen->to_string(), "127.0.0.1:9153");
  EXPECT_EQ(c.log_format, log::Format::kJson);
  env_["DOTPROXY_USER"] = "nobody";
  c = load({"--drain-timeout", "2s", "--query-log", "/tmp/q.log"}).config;
  EXPECT_EQ(c.user, "nobody");
  EXPECT_EQ(c.drain_timeout, std::chrono::milliseconds(2'000));
  EXPECT_EQ(c.query_log, "/tmp/q.log");
  EXPECT_THAT(load_error({"--log-format", "text"}),
              HasSubstr("--log-format: 'text' is not logfmt or json"));
  EXPECT_THAT(load_error({"--metrics-listen", "9153"}), HasSubstr("is not ADDR:PORT"));
}

TEST_F(ConfigLoadTest, ControlSocketFromEachSource) {
  EXPECT_TRUE(load({}).config.control_socket.empty());  // off unless asked
  with_file("control_socket = \"/run/dotproxy/file.sock\"\n");
  EXPECT_EQ(load({}).config.control_socket, "/run/dotproxy/file.sock");
  env_["DOTPROXY_CONTROL_SOCKET"] = "/run/dotproxy/env.sock";
  EXPECT_EQ(load({}).config.control_socket, "/run/dotproxy/env.sock");
  EXPECT_EQ(load({"--control-socket", "/tmp/cli.sock"}).config.control_socket, "/tmp/cli.sock");
  EXPECT_THAT(load_error({"--control-socket", "/" + std::string(120, 'x')}),
              HasSubstr("is not a socket path of 1 to 107 bytes"));
}

std::vector<std::string> zone_strings(const Config& c) {
  std::vector<std::string> out;
  for (const auto& z : c.forward_zones) out.push_back(z.display());
  return out;
}

TEST_F(ConfigLoadTest, ForwardZonesFromEachSource) {
  EXPECT_TRUE(load({}).config.forward_zones.empty());
  const Config cli =
      load({"--forward-zone", "Cluster.Local. tcp 10.96.0.10 10.96.0.11@5353", "--forward-zone",
            "corp.example tls 10.1.0.1#dns.corp.example", "--forward-zone",
            "www.corp.example upstream", "--forward-zone", "in-addr.arpa udp [fd00::53]"})
          .config;
  EXPECT_THAT(zone_strings(cli),
              ElementsAre("cluster.local tcp 10.96.0.10@53 10.96.0.11@5353",
                          "corp.example tls 10.1.0.1@853#dns.corp.example",
                          "www.corp.example upstream", "in-addr.arpa udp [fd00::53]@53"));
  EXPECT_EQ(cli.forward_zones[0].transport, ZoneTransport::kTcp);
  EXPECT_TRUE(cli.forward_zones[0].cache);
  EXPECT_FALSE(cli.forward_zones[0].max_negative_ttl.has_value());
  EXPECT_EQ(cli.forward_zones[2].transport, ZoneTransport::kUpstream);
  EXPECT_EQ(cli.forward_zones[3].transport, ZoneTransport::kUdp);

  env_ = {{"DOTPROXY_FORWARD_ZONE", "cluster.local tcp 10.96.0.10, corp.example udp 10.0.0.53"}};
  EXPECT_THAT(zone_strings(load({}).config),
              ElementsAre("cluster.local tcp 10.96.0.10@53", "corp.example udp 10.0.0.53@53"));
  // The command line's list replaces the environment's.
  EXPECT_THAT(zone_strings(load({"--forward-zone", "lan udp 192.168.1.1"}).config),
              ElementsAre("lan udp 192.168.1.1@53"));
}

TEST_F(ConfigLoadTest, ForwardZoneTablesInTheFile) {
  const std::string pin = "Gr6fQWNQKXzCmfjB4Dsmn9a1OrIQbGb4hTLzDcpYhQg=";
  with_file(
      "[[forward_zone]]\n"
      "zone = \"cluster.local\"\n"
      "transport = \"tcp\"\n"
      "servers = [\"10.96.0.10\", \"10.96.0.11@5353\"]\n"
      "cache = false\n"
      "max_negative_ttl = \"5s\"\n"
      "\n"
      "[[forward_zone]]\n"
      "zone = \"corp.example\"\n"
      "transport = \"tls\"\n"
      "servers = [\"10.1.0.1\", \"10.1.0.2@8853\"]\n"
      "pin_sha256 = [\"" +
      pin +
      "\"]\n"
      "tls_min_version = \"1.3\"\n"
      "\n"
      "[[forward_zone]]\n"
      "zone = \"example.net\"\n"
      "transport = \"udp\"\n"
      "servers = [\"9.9.9.9\"]\n"
      "allow_public_plain = true\n"
      "\n"
      "[[forward_zone]]\n"
      "zone = \"www.corp.example\"\n"
      "transport = \"upstream\"\n");
  const Config c = load({}).config;
  EXPECT_THAT(zone_strings(c),
              ElementsAre("cluster.local tcp 10.96.0.10@53 10.96.0.11@5353",
                          "corp.example tls 10.1.0.1@853 10.1.0.2@8853",
                          "example.net udp 9.9.9.9@53", "www.corp.example upstream"));
  EXPECT_FALSE(c.forward_zones[0].cache);
  EXPECT_EQ(c.forward_zones[0].max_negative_ttl, std::chrono::seconds(5));
  for (const auto& server : c.forward_zones[1].servers) {
    EXPECT_EQ(server.pins.size(), 1u);
    EXPECT_EQ(server.tls_min_version, TlsVersion::kTls13);
  }
  EXPECT_TRUE(c.forward_zones[2].allow_public_plain);
  EXPECT_TRUE(c.forward_zones[1].cache);

  with_file("forward_zone = [\"lan udp 192.168.1.1\"]\n");
  EXPECT_THAT(zone_strings(load({}).config), ElementsAre("lan udp 192.168.1.1@53"));
}

TEST_F(ConfigLoadTest, ForwardZoneBadSpecsNameTheFlag) {
  const auto error = [this](const std::string& spec) {
    return load_error({"--forward-zone", spec});
  };
  EXPECT_EQ(error("bad..name tcp 10.0.0.1"),
            "--forward-zone: 'bad..name' is not a zone name (empty label)");
  EXPECT_EQ(error("sp@ce tcp 10.0.0.1"),
            "--forward-zone: 'sp@ce' is not a zone name (letters, digits, '-', '_' and '.' "
            "between labels)");
  EXPECT_THAT(error(". tls 1.1.1.1#one.one.one.one"),
              HasSubstr("--forward-zone: '.': the root cannot be a forward zone"));
  EXPECT_THAT(error("corp.example"),
              HasSubstr("--forward-zone: 'corp.example' is not ZONE TRANSPORT"));
  EXPECT_EQ(error("corp.example tcp"),
            "--forward-zone: zone 'corp.example': no servers (give ZONE tcp ADDR[@PORT]...)");
  EXPECT_EQ(error("corp.example doh 10.0.0.1"),
            "--forward-zone: zone 'corp.example': unknown transport 'doh' (expected tls, tcp, "
            "udp or upstream)");
  EXPECT_EQ(error("corp.example tls 10.0.0.1"),
            "--forward-zone: zone 'corp.example': tls server 10.0.0.1@853 needs #AUTH_NAME (or "
            "pin_sha256 in the file) to be authenticated");
  EXPECT_EQ(error("corp.example tcp 10.0.0.1#dns.corp.example"),
            "--forward-zone: zone 'corp.example': server 10.0.0.1@53#dns.corp.example: "
            "#AUTH_NAME is for tls; tcp is not authenticated");
  EXPECT_THAT(error("corp.example udp dns.corp.example"),
              HasSubstr("--forward-zone: zone 'corp.example': 'dns.corp.example': "
                        "'dns.corp.example' is not an IP address"));
  EXPECT_THAT(error("corp.example udp 8.8.8.8"),
              HasSubstr("--forward-zone: zone 'corp.example': server 8.8.8.8@53 is not in a "
                        "loopback, private, link-local or unique-local range"));
  EXPECT_THAT(
      error("corp.example upstream 10.0.0.1"),
      HasSubstr("--forward-zone: zone 'corp.example': transport upstream takes no servers"));
  EXPECT_EQ(load_error({"--forward-zone", "corp.example tcp 10.0.0.1", "--forward-zone",
                        "CORP.Example. udp 10.0.0.2"}),
            "--forward-zone: zone 'corp.example' is given twice (names compare without case and "
            "trailing dot)");
  env_ = {{"DOTPROXY_FORWARD_ZONE", "corp.example udp 8.8.8.8"}};
  EXPECT_THAT(load_error({}), HasSubstr("DOTPROXY_FORWARD_ZONE: zone 'corp.example': server"));
}

TEST_F(ConfigLoadTest, ForwardZoneAtOrUnderAlwaysLocalZonesIsRefused) {
  std::string loopback6 = "1";
  for (int i = 0; i < 31; ++i) loopback6 += ".0";
  loopback6 += ".ip6.arpa";
  for (const std::string& zone :
       {std::string("localhost"), std::string("foo.localhost"), std::string("invalid"),
        std::string("x.invalid"), std::string("127.in-addr.arpa"),
        std::string("1.0.0.127.in-addr.arpa"), loopback6}) {
    EXPECT_THAT(load_error({"--forward-zone", zone + " tcp 10.0.0.1"}),
                HasSubstr("--forward-zone: '" + zone + "' is at or under "))
        << zone;
  }
  // Above them is fine: those stay local all the same (zones/route_table.h).
  EXPECT_EQ(
      load({"--forward-zone", "in-addr.arpa tcp 10.96.0.10", "--forward-zone",
            "ip6.arpa tcp 10.96.0.10", "--forward-zone", "0.127.in-addr.arpa.example tcp 10.0.0.1"})
          .config.forward_zones.size(),
      3u);
  EXPECT_EQ(load({"--forward-zone", "localhost.example tcp 10.0.0.1"}).config.forward_zones.size(),
            1u);
}

TEST_F(ConfigLoadTest, PlainServersOnlyInLocalRanges) {
  for (const char* ok : {"127.0.0.2", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                         "100.64.0.1", "100.127.255.254", "169.254.20.10", "[::1]", "[fd00::53]",
                         "[fc00::1]", "[::ffff:10.0.0.1]"}) {
    // Not on port 53: [::1]:53 is a default listen address, refused as a loop (below).
    EXPECT_EQ(load({"--forward-zone", std::string("lan udp ") + ok + "@5300"})
                  .config.forward_zones.size(),
              1u)
        << ok;
  }
  for (const char* bad :
       {"8.8.8.8", "172.32.0.1", "172.15.0.1", "100.128.0.1", "100.63.0.1", "192.169.0.1",
        "11.0.0.1", "[2001:db8::1]", "[fec0::1]", "[::ffff:8.8.8.8]"}) {
    EXPECT_THAT(load_error({"--forward-zone", std::string("lan tcp ") + bad}),
                HasSubstr("is not in a loopback, private, link-local or unique-local range"))
        << bad;
  }
  // IPv6 link-local needs an interface (RFC 4007 §6) that a server address here cannot carry.
  for (const char* scoped : {"[fe80::1]", "[febf::1]"}) {
    for (const char* transport : {"udp", "tls"}) {
      EXPECT_THAT(load_error({"--forward-zone",
                              std::string("lan ") + transport + " " + scoped + "@5300#dns.lan"}),
                  HasSubstr("is IPv6 link-local, which needs an interface scope"))
          << scoped << " " << transport;
    }
  }
}

TEST_F(ConfigLoadTest, ForwardZoneServerMayNotBeOurOwnListenAddress) {
  EXPECT_EQ(load_error({"--listen", "127.0.0.1:53", "--forward-zone", "lan tcp 127.0.0.1"}),
            "forward_zone: zone 'lan': server 127.0.0.1@53 is dotproxy's own listen address "
            "127.0.0.1:53: its queries would come back to us");
  EXPECT_THAT(load_error({"--listen", "[::1]:5353", "--forward-zone", "lan udp [::1]@5353"}),
              HasSubstr("forward_zone: zone 'lan': server [::1]@5353"));
  // A wildcard listen address takes every address of this host on its port.
  EXPECT_THAT(load_error({"--listen", "0.0.0.0:5353", "--forward-zone", "lan tcp 127.0.0.5@5353"}),
              HasSubstr("own listen address 0.0.0.0:5353"));
  EXPECT_THAT(load_error({"--listen-tls", "127.0.0.1:853", "--tls-cert", "c", "--tls-key", "k",
                          "--forward-zone", "lan tls 127.0.0.1#dns.lan"}),
              HasSubstr("own listen address 127.0.0.1:853"));
  // Another port, another loopback address, another family: not us.
  EXPECT_EQ(load({"--listen", "127.0.0.1:53", "--forward-zone", "lan tcp 127.0.0.1@5353"})
                .config.forward_zones.size(),
            1u);
  EXPECT_EQ(load({"--listen", "127.0.0.1:53", "--forward-zone", "lan tcp 127.0.0.2"})
                .config.forward_zones.size(),
            1u);
  EXPECT_EQ(load({"--listen", "[::]:5353", "--forward-zone", "lan tcp 127.0.0.1@5353"})
                .config.forward_zones.size(),
            1u);  // IPV6_V6ONLY: :: takes no IPv4
  // 10.255.255.254 is (almost surely) no address of this host: the wildcard does not cover it.
  EXPECT_EQ(load({"--listen", "0.0.0.0:5353", "--forward-zone", "lan tcp 10.255.255.254@5353"})
                .config.forward_zones.size(),
            1u);
}

TEST_F(ConfigLoadTest, ForwardZoneFileErrorsGiveFileAndLine) {
  // The error with the file's path written "F", so that expectations can name it.
  const auto file_error = [this](const std::string& toml) {
    with_file(toml);
    std::string error = load_error({});
    if (error.starts_with(path_)) error.replace(0, path_.size(), "F");
    return error;
  };
  EXPECT_EQ(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"udp\"\n"
                       "servers = [\"8.8.8.8\"]\n"),
            "F:1: forward_zone: zone 'lan': server 8.8.8.8@53 is not in a loopback, "
            "private, link-local or unique-local range: plain udp to it would cross "
            "networks in clear (use tls, or allow_public_plain = true in the file)");
  EXPECT_EQ(file_error("[[forward_zone]]\nzone = \"a..b\"\n"),
            "F:2: forward_zone.zone: 'a..b' is not a zone name (empty label)");
  EXPECT_EQ(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"dot\"\n"),
            "F:3: forward_zone.transport: unknown transport 'dot'; expected \"tls\", "
            "\"tcp\", \"udp\" or \"upstream\"");
  EXPECT_EQ(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"udp\"\n"
                       "servers = [\"10.0.0.1\", \"printer.lan\"]\n"),
            "F:4: forward_zone.servers: 'printer.lan': 'printer.lan' is not an IP "
            "address; expected ADDR[@PORT][#AUTH_NAME]");
  EXPECT_EQ(file_error("[[forward_zone]]\ntransport = \"udp\"\n"),
            "F:1: forward_zone: missing 'zone'");
  EXPECT_THAT(file_error("[[forward_zone]]\nzone = \"lan\"\n"),
              HasSubstr(":1: forward_zone: zone 'lan': missing 'transport'"));
  EXPECT_EQ(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"tcp\"\n"
                       "servers = [\"10.0.0.1\"]\nsurprise = 1\n"),
            "F:5: unknown key 'forward_zone.surprise'");
  EXPECT_THAT(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"tcp\"\n"
                         "servers = [\"10.0.0.1\"]\npin_sha256 = "
                         "[\"Gr6fQWNQKXzCmfjB4Dsmn9a1OrIQbGb4hTLzDcpYhQg=\"]\n"),
              HasSubstr(":5: forward_zone: zone 'lan': pin_sha256 and tls_min_version are for "
                        "transport tls"));
  EXPECT_THAT(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"tcp\"\n"
                         "servers = [\"10.0.0.1\"]\ncache = \"no\"\n"),
              HasSubstr(":5: forward_zone.cache: expected true or false"));
  EXPECT_THAT(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"tcp\"\n"
                         "servers = [\"10.0.0.1\"]\nmax_negative_ttl = \"2d\"\n"),
              HasSubstr(":5: forward_zone.max_negative_ttl: '2d' is not from 0ms to 1d"));
  EXPECT_THAT(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"tls\"\n"
                         "servers = [\"10.0.0.1\"]\n"),
              HasSubstr(":1: forward_zone: zone 'lan': tls server 10.0.0.1@853 needs #AUTH_NAME"));
  EXPECT_THAT(file_error("[[forward_zone]]\nzone = \"lan\"\ntransport = \"udp\"\nservers = "
                         "[\"10.0.0.1\"]\n\n[[forward_zone]]\nzone = \"LAN.\"\ntransport = "
                         "\"tcp\"\nservers = [\"10.0.0.2\"]\n"),
              HasSubstr(":6: forward_zone: zone 'lan' is given twice"));
}

TEST_F(ConfigLoadTest, LocalDataFromEachSource) {
  EXPECT_TRUE(load({}).config.local_data.empty());
  // A comma inside RDATA stays in the one record on the command line.
  const Config cli =
      load({"--local-data", "printer.lan A 10.0.0.5", "--local-data", "t.lan 60 TXT \"a, b\""})
          .config;
  EXPECT_THAT(cli.local_data, ElementsAre("printer.lan A 10.0.0.5", "t.lan 60 TXT \"a, b\""));
  env_ = {{"DOTPROXY_LOCAL_DATA", "a.lan A 10.0.0.1, b.lan AAAA fd00::1"}};
  EXPECT_THAT(load({}).config.local_data, ElementsAre("a.lan A 10.0.0.1", "b.lan AAAA fd00::1"));
  env_.clear();
  with_file("local_data = [\"a.lan A 10.0.0.1\", \"lan MX 10 mail.lan.\"]\n");
  EXPECT_THAT(load({}).config.local_data, ElementsAre("a.lan A 10.0.0.1", "lan MX 10 mail.lan."));
}

TEST_F(ConfigLoadTest, LocalDataLdnsCannotReadIsAnError) {
  EXPECT_EQ(load_error({"--local-data", "printer.lan A 10.0.0.300"}),
            "--local-data: 'printer.lan A 10.0.0.300': Syntax error, could not parse the RR's "
            "rdata");
  EXPECT_EQ(load_error({"--local-data", "printer.lan CH A 10.0.0.1"}),
            "--local-data: 'printer.lan CH A 10.0.0.1': class CH: only IN");
  env_ = {{"DOTPROXY_LOCAL_DATA", "a.lan A"}};
  EXPECT_THAT(load_error({}), HasSubstr("DOTPROXY_LOCAL_DATA: 'a.lan A': "));
  env_.clear();
  with_file("local_data = [\n  \"a.lan A 10.0.0.1\",\n  \"b.lan AAAA 10.0.0.1\",\n]\n");
  EXPECT_THAT(load_error({}), HasSubstr(path_ + ":3: local_data: 'b.lan AAAA 10.0.0.1': "));
  with_file("");
  EXPECT_THAT(load_error({"--local-data", "a.lan A 10.0.0.1", "--local-data", "a.lan CNAME b."}),
              HasSubstr("--local-data 'a.lan CNAME b.': a.lan would have a CNAME and other data"));
}

TEST_F(ConfigLoadTest, HostsFilesFromEachSourceAndTheirErrors) {
  const std::string hosts = write_file("hosts", "# lab\n10.0.0.5 printer.lan printer\n");
  const std::string other = write_file("hosts2", "fd00::7 nas.lan\n");
  EXPECT_THAT(load({"--hosts", hosts, "--hosts", other}).config.hosts_files,
              ElementsAre(hosts, other));
  env_ = {{"DOTPROXY_HOSTS", hosts + "," + other}};
  EXPECT_THAT(load({}).config.hosts_files, ElementsAre(hosts, other));
  env_.clear();
  with_file("hosts = [\"" + hosts + "\"]\n");
  EXPECT_THAT(load({}).config.hosts_files, ElementsAre(hosts));
  with_file("");

  const std::string missing = dir_ + "/missing-hosts";
  EXPECT_EQ(load_error({"--hosts", missing}),
            "hosts: cannot read '" + missing + "': No such file or directory");
  const std::string bad = write_file("bad-hosts", "10.0.0.1 ok\n\n10.0.0.999 bad.lan\n");
  EXPECT_EQ(load_error({"--hosts", bad}), bad + ":3: '10.0.0.999' is not an IP address");
  const std::string nameless = write_file("nameless-hosts", "10.0.0.1\n");
  EXPECT_EQ(load_error({"--hosts", nameless}),
            nameless + ":1: '10.0.0.1' has no host name after it");
}

// The README's option table is this table: a new option or default cannot go undocumented.
TEST_F(ConfigLoadTest, ReadmeOptionTableMatchesTheCode) {
  std::ifstream readme(std::string(DOTPROXY_SOURCE_ROOT) + "/README.md");
  ASSERT_TRUE(readme) << "README.md not found under " << DOTPROXY_SOURCE_ROOT;
  std::stringstream text;
  text << readme.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr(options_markdown_table()))
      << "regenerate the README table from options_markdown_table()";
}

}  // namespace
}  // namespace dp::config

namespace dp::config {
namespace {

TEST_F(ConfigLoadTest, DnstapOptionsFromEachSourceAndBadValues) {
  const Config defaults = load({}).config;
  EXPECT_EQ(defaults.dnstap, "");                         // off
  EXPECT_EQ(defaults.dnstap_messages, DnstapMessages{});  // all four when on
  EXPECT_EQ(defaults.dnstap_identity, "");                // the host name

  Config c = load({"--dnstap", "file:/tmp/x.fstrm", "--dnstap-messages",
                   "client-query,forwarder-response", "--dnstap-identity", "resolver-1"})
                 .config;
  EXPECT_EQ(c.dnstap, "file:/tmp/x.fstrm");
  EXPECT_EQ(c.dnstap_messages, (DnstapMessages{true, false, false, true}));
  EXPECT_EQ(c.dnstap_identity, "resolver-1");

  env_ = {{"DOTPROXY_DNSTAP", "/run/dnstap.sock"}, {"DOTPROXY_DNSTAP_MESSAGES", "client-response"}};
  c = load({}).config;
  EXPECT_EQ(c.dnstap, "/run/dnstap.sock");
  EXPECT_EQ(c.dnstap_messages, (DnstapMessages{false, true, false, false}));
  env_.clear();

  with_file("dnstap = \"file:tap.fstrm\"\ndnstap_messages = \"all\"\n");
  c = load({}).config;
  EXPECT_EQ(c.dnstap, "file:tap.fstrm");
  EXPECT_EQ(c.dnstap_messages, DnstapMessages{});
  path_.clear();

  EXPECT_THAT(load_error({"--dnstap-messages", "client-query,queries"}),
              HasSubstr("--dnstap-messages: 'queries' is not a dnstap message type"));
  EXPECT_THAT(load_error({"--dnstap-messages", ""}), HasSubstr("'' is not a dnstap message type"));
  EXPECT_THAT(load_error({"--dnstap", "file:"}), HasSubstr("names no file"));
  EXPECT_THAT(load_error({"--dnstap", std::string(120, 's')}),
              HasSubstr("longer than a Unix socket path"));
  EXPECT_THAT(load_error({"--dnstap-identity", std::string(256, 'i')}),
              HasSubstr("is not 1 to 255 bytes"));
}

}  // namespace
}  // namespace dp::config
