// dotproxy: argv/env/file → Config → Server; exit codes; signals.
// Exit codes: 0 clean stop, 1 start-up failure (bind, credentials), 2 bad configuration.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/log.h"
#include "config/load.h"
#include "dotproxy_version.h"
#include "policy/blocklist.h"
#include "proxy/server.h"
#include "tls/credentials.h"
#include "tls/server_credentials.h"

namespace {

std::string upstream_list(const dp::config::Config& config) {
  std::string out;
  for (const auto& upstream : config.upstreams) {
    if (!out.empty()) out += ',';
    out += upstream.display();
  }
  return out;
}

std::string address_list(const std::vector<dp::SocketAddress>& addresses) {
  std::string out;
  for (const auto& address : addresses) {
    if (!out.empty()) out += ',';
    out += address.to_string();
  }
  return out;
}

// The configured blocklist files as one list (null when none), with a log line per file that
// had malformed lines (skipped) and one for the whole load. Throws std::runtime_error with one
// line when a file cannot be read.
std::shared_ptr<const dp::policy::Blocklist> blocklist_load(const dp::config::Config& config) {
  if (config.blocklist.empty()) return nullptr;
  const auto started = std::chrono::steady_clock::now();
  auto list = dp::policy::Blocklist::load(config.blocklist);
  if (!list) throw std::runtime_error("blocklist: " + list.error());
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  for (const auto& file : list->reports()) {
    if (file.bad_lines == 0) continue;
    DP_LOG(kWarn, "blocklist: malformed lines skipped", {"file", file.source},
           {"lines", std::to_string(file.bad_lines)},
           {"first_line", std::to_string(file.first_bad_line)});
  }
  DP_LOG(kInfo, "blocklist loaded", {"files", std::to_string(config.blocklist.size())},
         {"names", std::to_string(list->size())},
         {"memory_kib", std::to_string(list->memory_bytes() / 1024)},
         {"load_ms", std::to_string(took.count())},
         {"answer", dp::dns::blocked_answer_name(config.blocklist_answer)});
  return std::make_shared<const dp::policy::Blocklist>(std::move(list).value());
}

// SIGHUP: re-reads the configuration and applies its TLS trust (CA file, upstream pins and
// minimum TLS version), so a rotated certificate or key needs no restart, and the blocklist
// files. A configuration that does not load is rejected with a log line and the running one
// stays.
void reload_trust(dp::proxy::Server& server, int argc, char** argv) {
  try {
    const auto invocation = dp::config::config_load(argc, argv, dp::config::env_from_process());
    const auto& config = invocation.config;
    auto credentials = dp::tls::ClientCredentials::create(config.ca_file);
    server.update_trust(credentials, config.upstreams);
    DP_LOG(kInfo, "reloaded TLS trust", {"ca", config.ca_file.empty() ? "system" : config.ca_file},
           {"upstreams", upstream_list(config)});
    try {  // its own verdict: a list that fails to load keeps the old one, trust still applies
      server.update_blocklist(blocklist_load(config), config.blocklist_answer);
    } catch (const std::exception& e) {
      DP_LOG(kError, "blocklist reload rejected, the old list stays", {"error", e.what()});
    }
  } catch (const std::exception& e) {
    DP_LOG(kError, "reload rejected, the running configuration stays", {"error", e.what()});
  }
}

// Signals are taken synchronously by the main thread; workers never see them.
sigset_t block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that went away is an error code, not a death
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  dp::config::Invocation invocation;
  try {
    invocation = dp::config::config_load(argc, argv, dp::config::env_from_process());
  } catch (const dp::config::ConfigError& e) {
    std::fprintf(stderr, "dotproxy: %s\n", e.what());
    return 2;
  }
  using Action = dp::config::Invocation::Action;
  if (invocation.action == Action::kExit) {
    std::fputs(invocation.output.c_str(), stdout);
    return invocation.exit_code;
  }
  const dp::config::Config& config = invocation.config;
  dp::log::set_level(config.log_level);

  std::shared_ptr<const dp::policy::Blocklist> blocklist;
  try {
    blocklist = blocklist_load(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dotproxy: %s\n", e.what());
    return 2;  // a list that cannot be read is a bad configuration
  }
  std::shared_ptr<const dp::tls::ClientCredentials> credentials;
  try {
    credentials = dp::tls::ClientCredentials::create(config.ca_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dotproxy: %s\n", e.what());
    return invocation.action == Action::kCheckConfig ? 2 : 1;
  }
  std::shared_ptr<const dp::tls::ServerCredentials> tls_server;
  if (!config.listen_tls.empty()) {
    try {  // the DoT listener's certificate, key and client CA: a bad one is a bad config
      tls_server = dp::tls::ServerCredentials::create(
          {config.tls_cert_file, config.tls_key_file, config.tls_client_ca_file});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dotproxy: %s\n", e.what());
      return 2;
    }
  }
  if (invocation.action == Action::kCheckConfig) {
    std::printf("configuration OK: listen %s, upstreams %s\n",
                address_list(config.listen).c_str(), upstream_list(config).c_str());
    return 0;
  }

  const sigset_t signals = block_signals();  // before any thread exists, so all inherit it
  std::unique_ptr<dp::proxy::Server> server;
  try {
    server = std::make_unique<dp::proxy::Server>(config, credentials, blocklist, tls_server);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dotproxy: %s\n", e.what());
    return 1;
  }
  server->start();
  DP_LOG(kInfo, "dotproxy started", {"version", DOTPROXY_VERSION},
         {"listen", address_list(server->listen_addresses())},
         {"listen_tls", server->tls_listen_addresses().empty()
                            ? std::string("off")
                            : address_list(server->tls_listen_addresses())},
         {"upstreams", upstream_list(config)},
         {"workers", std::to_string(server->worker_count())},
         {"ca", config.ca_file.empty() ? "system" : config.ca_file},
         {"acl", dp::policy::Acl(config.acl).describe()},
         {"rate_limit", config.rate_limit.queries_per_second > 0
                            ? std::to_string(static_cast<long>(config.rate_limit.queries_per_second))
                            : "off"});

  for (;;) {
    int signo = 0;
    if (sigwait(&signals, &signo) != 0) continue;
    if (signo == SIGHUP) {
      reload_trust(*server, argc, argv);
      continue;
    }
    DP_LOG(kInfo, "stopping", {"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"});
    break;
  }
  server->stop();
  server->wait();
  DP_LOG(kInfo, "stopped");
  return 0;
}
