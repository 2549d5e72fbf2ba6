#include "fakes/unbound_upstream.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "fakes/dot_test_client.h"

namespace dp::testing {
namespace {

constexpr int kStartAttempts = 5;  // a picked port can be taken meanwhile
constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kProbeTimeout = std::chrono::milliseconds(500);
constexpr auto kProbeInterval = std::chrono::milliseconds(20);

// @PORT@, @DIR@, @LOG@, @KEY@ and @PEM@ are filled in by config_text().
constexpr const char* kConfigTemplate = R"(server:
  interface: 127.0.0.1@@PORT@
  tls-port: @PORT@
  tls-service-key: "@KEY@"
  tls-service-pem: "@PEM@"
  do-daemonize: no
  chroot: ""
  username: ""
  use-syslog: no
  logfile: "@LOG@"
  log-time-ascii: yes
  verbosity: 1
  pidfile: ""
  directory: "@DIR@"
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  do-ip6: no
  # Without this a second Unbound could share the port and its bind would not fail.
  so-reuseport: no
  # No recursion: nothing outside the local zone, so no query leaves loopback.
  local-zone: "." refuse
  local-zone: "unbound.test." static
  local-data: "unbound.test. 3600 IN SOA ns.unbound.test. admin.unbound.test. 1 3600 600 86400 300"
  local-data: "www.unbound.test. 60 IN A 192.0.2.53"
remote-control:
  control-enable: no
)";

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
}

std::string config_text(const std::string& dir, const std::string& log_file, const TestPki& pki,
                        std::uint16_t port) {
  std::string text = kConfigTemplate;
  replace_all(text, "@PORT@", std::to_string(port));
  replace_all(text, "@DIR@", dir);
  replace_all(text, "@LOG@", log_file);
  replace_all(text, "@KEY@", pki.good.key_file);
  replace_all(text, "@PEM@", pki.good.cert_file);
  return text;
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
    process_ =
        std::make_unique<Process>(std::vector<std::string>{kBinary, "-d", "-c", config_file_});
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
  throw std::runtime_error("UnboundUpstream: no TLS service on 127.0.0.1:" + std::to_string(port_) +
                           "; log:\n" + tail);
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
