// The binary's front door: exit codes and one-line errors for bad configuration.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "integration/fixture.h"

namespace dp::testing {
namespace {

using std::chrono::seconds;

CaptureResult run_dotproxy(std::vector<std::string> args, seconds timeout = seconds(10)) {
  args.insert(args.begin(), dotproxy_binary());
  return run_capture(args, timeout);
}

TEST(IntegrationCommandLineTest, VersionAndHelp) {
  auto version = run_dotproxy({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("dotproxy ", 0), 0u) << version.out;
  auto help = run_dotproxy({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--upstream"), std::string::npos);
}

TEST(IntegrationCommandLineTest, BadValuesExitTwoWithOneLineNamingTheOption) {
  auto bad_listen = run_dotproxy({"--listen", "localhost:53"});
  EXPECT_EQ(bad_listen.exit_code, 2);
  EXPECT_NE(bad_listen.err.find("--listen"), std::string::npos) << bad_listen.err;
  EXPECT_EQ(std::count(bad_listen.err.begin(), bad_listen.err.end(), '\n'), 1) << bad_listen.err;

  auto bad_env =
      run_capture({"env", "DOTPROXY_UPSTREAM=1.1.1.1@99999", dotproxy_binary(), "--check-config"});
  EXPECT_EQ(bad_env.exit_code, 2);
  EXPECT_NE(bad_env.err.find("DOTPROXY_UPSTREAM"), std::string::npos) << bad_env.err;

  TempDir dir;
  const std::string file = dir.file("dotproxy.toml");
  std::ofstream(file) << "listen = [\"127.0.0.1:5353\"]\n\nupstream_timeout = \"soon\"\n";
  auto bad_file = run_dotproxy({"--config", file, "--check-config"});
  EXPECT_EQ(bad_file.exit_code, 2);
  EXPECT_NE(bad_file.err.find(file + ":3: upstream_timeout"), std::string::npos) << bad_file.err;
}

TEST(IntegrationCommandLineTest, CheckConfigAcceptsAGoodFileAndStartsNothing) {
  TempDir dir;
  const std::string file = dir.file("dotproxy.toml");
  std::ofstream(file) << "listen = [\"127.0.0.1:5353\", \"[::1]:5353\"]\n"
                         "[[upstream]]\naddress = \"9.9.9.9\"\nauth_name = \"dns.quad9.net\"\n";
  auto ok = run_dotproxy({"--config", file, "--check-config"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("9.9.9.9@853#dns.quad9.net"), std::string::npos) << ok.out;
}

TEST(IntegrationCommandLineTest, MissingCaFileAndBusyPortAreStartupErrors) {
  auto missing = run_dotproxy({"--ca-file", "/nonexistent/ca.pem", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/ca.pem"), std::string::npos) << missing.err;

  // Something else holds the port (SO_REUSEPORT is per user, so a plain socket blocks it).
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  const std::string busy = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  auto clash = run_dotproxy({"--listen", busy});
  close(fd);
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_NE(clash.err.find(busy), std::string::npos) << clash.err;
}

}  // namespace
}  // namespace dp::testing
