#include "fakes/unbound_upstream.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "fakes/dot_test_client.h"

namespace dp::testing {
namespace {

constexpr int kStartAttempts = 5;                  // a picked port can be taken meanwhile
constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kProbeTimeout = std::chrono::milliseconds(500);
constexpr auto kProbeInterval = std::chrono::milliseconds(20);

std::string config_text(const std::string& dir, const std::string& log_file, const TestPki& pki,
                        std::uint16_t port) {
  const std::string p = std::to_string(port);
  return "server:\n"
         "  interface: 127.0.0.1@" + p + "\n"
         "  tls-port: " + p + "\n"
         "  tls-service-key: \"" + pki.good.key_file + "\"\n"
         "  tls-service-pem: \"" + pki.good.cert_file + "\"\n"
         "  do-daemonize: no\n"
         "  chroot: \"\"\n"
         "  username: \"\"\n"
         "  use-syslog: no\n"
         "  logfile: \"" + log_file + "\"\n"
         "  log-time-ascii: yes\n"
         "  verbosity: 1\n"
         "  pidfile: \"\"\n"
         "  directory: \"" + dir + "\"\n"
         "  module-config: \"iterator\"\n"
         "  access-control: 127.0.0.0/8 allow\n"
         "  num-threads: 1\n"
         "  do-ip6: no\n"
         // Without this a second Unbound could share the port and the bind would not fail.
         "  so-reuseport: no\n"
         // No recursion: nothing outside the local zone, so no traffic leaves loopback.
         "  local-zone: \".\" refuse\n"
         "  local-zone: \"unbound.test.\" static\n"
         "  local-data: \"unbound.test. 3600 IN SOA ns.unbound.test. admin.unbound.test. "
         "1 3600 600 86400 300\"\n"
         "  local-data: \"www.unbound.test. 60 IN A 192.0.2.53\"\n"
         "remote-control:\n"
         "  control-enable: no\n";
}

}  // namespace

bool UnboundUpstream::available() { return access(kBinary, X_OK) == 0; }

UnboundUpstream::UnboundUpstream(const TestPki& pki)
    : dir_("dotproxy-unbound"),
      config_file_(dir_.file("unbound.conf")),
      log_file_(dir_.file("unbound.log")) {
  if (!available()) {
    throw std::runtime_error(std::string("UnboundUpstream: ") + kBinary +
                             " not found: install the unbound package (scripts/ does)");
  }
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    port_ = free_port_udp_tcp();
    {
      std::ofstream conf(config_file_, std::ios::trunc);
      conf << config_text(dir_.path(), log_file_, pki, port_);
      if (!conf) throw std::runtime_error("UnboundUpstream: cannot write " + config_file_);
    }
    process_ = std::make_unique<Process>(std::vector<std::string>{kBinary, "-d", "-c",
                                                                  config_file_});
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (process_->running() && std::chrono::steady_clock::now() < deadline) {
      if (dot_handshake_ok(address_, port_, kProbeTimeout)) return;
      std::this_thread::sleep_for(kProbeInterval);
    }
    const bool exited = !process_->running();
    process_->terminate(std::chrono::seconds(2));
    if (!exited) break;  // running but not answering TLS: another port will not help
  }
  const std::string tail = log();
  process_.reset();
  throw std::runtime_error("UnboundUpstream: no TLS service on 127.0.0.1:" +
                           std::to_string(port_) + "; log:\n" + tail);
}

UnboundUpstream::~UnboundUpstream() {
  if (process_) process_->terminate(std::chrono::seconds(5));
}

std::string UnboundUpstream::log() const {
  std::string text = read_file_text(log_file_);
  if (process_) text += process_->stderr_text();
  return text;
}

}  // namespace dp::testing
