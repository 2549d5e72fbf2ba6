// dotproxy: argv/env/file → Config → Server; exit codes; signals.
// Exit codes: 0 clean stop, 1 start-up failure (bind, credentials), 2 bad configuration.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/privileges.h"
#include "common/sd_notify.h"
#include "config/load.h"
#include "control/client.h"
#include "control/commands.h"
#include "dotproxy_version.h"
#include "policy/blocklist.h"
#include "proxy/server.h"
#include "proxy/status_http.h"
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

// "cluster.local tcp 10.96.0.10@53; corp.example tls 10.8.0.53@853#dns.corp.example", or "none".
std::string forward_zone_list(const dp::config::Config& config) {
  std::string out;
  for (const auto& zone : config.forward_zones) {
    if (!out.empty()) out += "; ";
    out += zone.display();
  }
  return out.empty() ? "none" : out;
}

std::string address_list(const std::vector<dp::SocketAddress>& addresses) {
  std::string out;
  for (const auto& address : addresses) {
    if (!out.empty()) out += ',';
    out += address.to_string();
  }
  return out;
}

// The configured blocklist files as one list, and how long reading them took.
struct BlocklistLoad {
  std::shared_ptr<const dp::policy::Blocklist> list;  // null when none is configured
  std::chrono::milliseconds took{0};
};

// Reads the configured blocklist files, with a log line per file that had malformed lines
// (skipped). Throws std::runtime_error with one line when a file cannot be read.
BlocklistLoad blocklist_load(const dp::config::Config& config) {
  if (config.blocklist.empty()) return {};
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
  return {std::make_shared<const dp::policy::Blocklist>(std::move(list).value()), took};
}

// "blocklist loaded": written once the list is in use (on SIGHUP, once every worker has it),
// so whoever reads the log may send queries that meet it.
void blocklist_log_loaded(const dp::config::Config& config, const BlocklistLoad& loaded) {
  if (loaded.list == nullptr) return;
  DP_LOG(kInfo, "blocklist loaded", {"files", std::to_string(config.blocklist.size())},
         {"names", std::to_string(loaded.list->size())},
         {"memory_kib", std::to_string(loaded.list->memory_bytes() / 1024)},
         {"load_ms", std::to_string(loaded.took.count())},
         {"answer", dp::dns::blocked_answer_name(config.blocklist_answer)});
}

// The settings a reload cannot change in a running process, by name, where `now` differs.
std::string restart_needed(const dp::config::Config& running, const dp::config::Config& now) {
  std::string out;
  const auto differs = [&out](bool changed, const char* name) {
    if (changed) out += (out.empty() ? "" : ",") + std::string(name);
  };
  differs(running.listen != now.listen, "listen");
  differs(running.workers != now.workers, "workers");
  differs(running.cache_size != now.cache_size, "cache_size");
  differs(running.serve_stale != now.serve_stale, "serve_stale");
  differs(running.max_stale != now.max_stale, "max_stale");
  differs(running.prefetch != now.prefetch, "prefetch");
  differs(running.metrics_listen != now.metrics_listen, "metrics_listen");
  differs(running.user != now.user, "user");
  differs(running.query_log != now.query_log, "query_log");
  differs(running.dnstap != now.dnstap, "dnstap");
  differs(running.dnstap_messages != now.dnstap_messages, "dnstap_messages");
  differs(running.dnstap_identity != now.dnstap_identity, "dnstap_identity");
  differs(running.control_socket != now.control_socket, "control_socket");
  return out;
}

// SIGHUP (and the control channel's reload): re-reads the configuration and applies what a
// running process can take: upstreams and forward zones (servers that stay keep their
// connections; new pool settings get a new pool for new queries, the old one finishing its
// own), local data and hosts files, TLS trust (CA file, pins, minimum version), ACL, rate
// limit, local zones, TCP limits, TTL settings, log level and format, and the blocklist files.
// A configuration that does not load is rejected with a log line and the running one stays;
// settings that need a restart are named in a warning. The outcome says so in one line. The
// caller serializes calls (reload_mutex in main).
dp::control::ReloadOutcome reload(dp::proxy::Server& server, dp::config::Config& running, int argc,
                                  char** argv) {
  dp::control::ReloadOutcome outcome;
  try {
    const auto invocation = dp::config::config_load(argc, argv, dp::config::env_from_process());
    const auto& config = invocation.config;
    auto credentials = dp::tls::ClientCredentials::create(config.ca_file);
    server.reload(credentials, std::make_shared<const dp::config::Config>(config));
    dp::log::set_level(config.log_level);
    dp::log::set_format(config.log_format);
    DP_LOG(kInfo, "reloaded configuration",
           {"ca", config.ca_file.empty() ? "system" : config.ca_file},
           {"upstreams", upstream_list(config)}, {"forward_zones", forward_zone_list(config)},
           {"log_level", dp::log::level_name(config.log_level)});
    outcome.ok = true;
    outcome.message = "reloaded: upstreams " + upstream_list(config) + ", forward zones " +
                      forward_zone_list(config);
    if (const std::string fixed = restart_needed(running, config); !fixed.empty()) {
      DP_LOG(kWarn, "changed settings take effect only after a restart", {"settings", fixed});
      outcome.message += "; take effect only after a restart: " + fixed;
    }
    running = config;
    try {  // its own verdict: a list that fails to load keeps the old one, trust still applies
      const BlocklistLoad loaded = blocklist_load(config);
      server.update_blocklist(loaded.list, config.blocklist_answer);  // back once all have it
      blocklist_log_loaded(config, loaded);
    } catch (const std::exception& e) {
      DP_LOG(kError, "blocklist reload rejected, the old list stays", {"error", e.what()});
      outcome.message += std::string("; blocklist rejected, the old list stays: ") + e.what();
    }
  } catch (const std::exception& e) {
    DP_LOG(kError, "reload rejected, the running configuration stays", {"error", e.what()});
    outcome.ok = false;
    outcome.message = e.what();
  }
  return outcome;
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
  // The control channel's client: before the configuration, which it does not need.
  if (argc >= 2 && std::string_view(argv[1]) == "ctl") {
    const char* env_socket = std::getenv("DOTPROXY_CONTROL_SOCKET");
    return dp::control::ctl_run(std::vector<std::string>(argv + 2, argv + argc),
                                env_socket != nullptr ? env_socket : "", stdout, stderr);
  }
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
  dp::log::set_format(config.log_format);

  std::shared_ptr<const dp::policy::Blocklist> blocklist;
  try {
    const BlocklistLoad loaded = blocklist_load(config);
    blocklist = loaded.list;
    blocklist_log_loaded(config, loaded);
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
    std::printf("configuration OK: listen %s, upstreams %s\n", address_list(config.listen).c_str(),
                upstream_list(config).c_str());
    return 0;
  }

  const sigset_t signals = block_signals();  // before any thread exists, so all inherit it
  std::unique_ptr<dp::proxy::QueryLogWriter> query_log;  // outlives the server's workers
  std::unique_ptr<dp::proxy::Server> server;
  try {
    if (!config.query_log.empty()) {
      query_log = std::make_unique<dp::proxy::QueryLogWriter>(config.query_log);
    }
    server = std::make_unique<dp::proxy::Server>(config, credentials, blocklist, query_log.get(),
                                                 tls_server);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dotproxy: %s\n", e.what());
    return 1;
  }
  std::unique_ptr<dp::io::HttpServer> status;
  dp::config::Config running = config;  // what a reload compares a re-read file with
  std::mutex reload_mutex;              // SIGHUP and the control channel's reload, one at a time
  const auto reload_serialized = [&]() {
    std::lock_guard lock(reload_mutex);
    dp::sd_notify_send("RELOADING=1");
    if (query_log) query_log->reopen();  // after logrotate moved it
    dp::control::ReloadOutcome outcome = reload(*server, running, argc, argv);
    dp::sd_notify_send("READY=1");
    return outcome;
  };
  dp::control::ControlContext control_context;  // outlives the control server
  control_context.server = server.get();
  control_context.reload = reload_serialized;
  control_context.version = DOTPROXY_VERSION;
  std::unique_ptr<dp::io::UnixLineServer> control;
  try {
    if (config.metrics_listen)
      status = dp::proxy::status_http_create(*config.metrics_listen, *server);
    if (!config.control_socket.empty()) {
      // Made as root when started so: owned by the user the process becomes, so that it (and
      // only it, mode 0600) may connect after the drop.
      auto owner = static_cast<uid_t>(-1);
      auto group = static_cast<gid_t>(-1);
      if (!config.user.empty() && ::geteuid() == 0) {
        const dp::UserIds ids = dp::user_ids_find(config.user);
        owner = ids.uid;
        group = ids.gid;
      }
      control =
          dp::control::control_server_create(config.control_socket, owner, group, control_context);
    }
    // Every socket is bound: root is no longer needed. Before any thread starts, so that all
    // of them run as the user.
    if (!config.user.empty()) dp::privileges_drop(config.user);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dotproxy: %s\n", e.what());
    return 1;
  }
  server->start();
  if (status) status->start();
  control_context.started = std::chrono::steady_clock::now();
  if (control) control->start();
  DP_LOG(
      kInfo, "dotproxy started", {"version", DOTPROXY_VERSION},
      {"listen", address_list(server->listen_addresses())},
      {"listen_tls", server->tls_listen_addresses().empty()
                         ? std::string("off")
                         : address_list(server->tls_listen_addresses())},
      {"metrics", status ? status->address().to_string() : "off"},
      {"control", control ? control->path() : "off"},
      {"user", config.user.empty() ? "unchanged" : config.user},
      {"upstreams", upstream_list(config)}, {"forward_zones", forward_zone_list(config)},
      {"workers", std::to_string(server->worker_count())},
      {"ca", config.ca_file.empty() ? "system" : config.ca_file},
      {"acl", dp::policy::Acl(config.acl).describe()},
      {"rate_limit", config.rate_limit.queries_per_second > 0
                         ? std::to_string(static_cast<long>(config.rate_limit.queries_per_second))
                         : "off"});
  dp::sd_notify_send("READY=1");

  for (;;) {
    int signo = 0;
    if (sigwait(&signals, &signo) != 0) continue;
    if (signo == SIGHUP) {
      (void)reload_serialized();  // its outcome is logged
      continue;
    }
    DP_LOG(kInfo, "stopping", {"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"},
           {"drain_timeout", std::to_string(config.drain_timeout.count()) + "ms"});
    break;
  }
  dp::sd_notify_send("STOPPING=1");
  control.reset();  // no command during the drain; the socket file goes
  // Stop taking queries, answer those in flight (bounded), then stop.
  const auto drain_started = std::chrono::steady_clock::now();
  server->drain(config.drain_timeout);
  server->wait();
  if (status) status->stop();
  DP_LOG(kInfo, "stopped",
         {"drained_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - drain_started)
                                           .count())});
  return 0;
}
