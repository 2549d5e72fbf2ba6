#include "proxy/server.h"

#include <unistd.h>

#include <array>
#include <future>
#include <thread>

#include "common/log.h"
#include "dnssec/trust_anchor.h"
#include "dotproxy_version.h"
#include "io/socket.h"
#include "proxy/settings.h"

namespace dp::proxy {
namespace {

// One line per forward zone: where it goes and which built-in local zones it took over.
void zones_log(const Settings& settings) {
  for (std::size_t slot = 1; slot < settings.routes.size(); ++slot) {
    const RouteSettings& route = settings.routes[slot];
    std::string taken;
    for (const auto& zone : route.taken_over) taken += (taken.empty() ? "" : ",") + zone;
    DP_LOG(kInfo, "forward zone", {"zone", route.display},
           {"took_over_local_zones", taken.empty() ? "none" : taken});
  }
}

// What validates, from which anchors, and what does not (issue #16).
void dnssec_log(const config::Config& config, const Settings& settings) {
  if (settings.dnssec_chain == nullptr) {
    DP_LOG(kInfo, "dnssec", {"mode", "off"});
    return;
  }
  std::string insecure;
  for (const auto& domain : config.insecure_domains)
    insecure += (insecure.empty() ? "" : ",") + domain;
  DP_LOG(kInfo, "dnssec",
         {"mode", settings.dnssec_mode == DnssecMode::kValidate ? "validate" : "permissive"},
         {"trust_anchors", dnssec::trust_anchors_describe(settings.dnssec_chain->anchors)},
         {"from", config.trust_anchor_file.empty() ? "built in" : config.trust_anchor_file},
         {"insecure_domains", insecure.empty() ? "none" : insecure});
}

// The frames' identity: the configured one, else the host name (what an NSID answer would
// say, as dnstap suggests).
std::string dnstap_identity(const config::Config& config) {
  if (!config.dnstap_identity.empty()) return config.dnstap_identity;
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) return "dotproxy";
  return host.data();
}

dnstap::MessageMask dnstap_types(const config::DnstapMessages& m) {
  dnstap::MessageMask out = 0;
  if (m.client_query) out |= dnstap::message_bit(dnstap::MessageType::kClientQuery);
  if (m.client_response) out |= dnstap::message_bit(dnstap::MessageType::kClientResponse);
  if (m.forwarder_query) out |= dnstap::message_bit(dnstap::MessageType::kForwarderQuery);
  if (m.forwarder_response) out |= dnstap::message_bit(dnstap::MessageType::kForwarderResponse);
  return out;
}

}  // namespace

Server::Server(const config::Config& config,
               const std::shared_ptr<const tls::ClientCredentials>& credentials,
               const std::shared_ptr<const policy::Blocklist>& blocklist, QueryLogWriter* query_log,
               const std::shared_ptr<const tls::ServerCredentials>& tls_credentials)
    : listen_(config.listen) {
  if (tls_credentials != nullptr) listen_tls_ = config.listen_tls;
  if (config.cache_size > 0) cache_ = std::make_unique<cache::Cache>(cache_options_build(config));
  const Settings settings = settings_build(config, &route_tags_);
  zones_log(settings);
  dnssec_log(config, settings);
  route_zones_set(settings);
  unsigned count = config.workers;
  if (count == 0) count = std::max(1U, std::thread::hardware_concurrency());
  DnstapOutput dnstap;
  if (!config.dnstap.empty()) {
    dnstap_ = dnstap::Writer::open(dnstap::destination_parse(config.dnstap),
                                   dnstap::WriterOptions{.queues = count});
    dnstap = DnstapOutput{dnstap_.get(), dnstap_types(config.dnstap_messages),
                          dnstap::Source{dnstap_identity(config), "dotproxy " DOTPROXY_VERSION}};
    DP_LOG(kInfo, "dnstap", {"output", config.dnstap}, {"identity", dnstap.source.identity});
  }
  std::vector<int> opened;  // closed again if a later bind fails: nothing half-started
  try {
    for (unsigned w = 0; w < count; ++w) {
      std::vector<ListenSockets> sockets;
      for (SocketAddress& address : listen_) {
        // Port 0: the first worker's pair gets one port for both transports, and every other
        // worker then binds that same port (address now holds it).
        const io::SocketPair pair = io::socket_pair_bind(address);
        opened.push_back(pair.tcp_fd);
        opened.push_back(pair.udp_fd);
        sockets.push_back(ListenSockets{pair.udp_fd, pair.tcp_fd});
      }
      TlsListenSockets tls{{}, tls_credentials};
      for (SocketAddress& address : listen_tls_) {  // TCP only: DoT has no UDP (RFC 7858 §3.1)
        const int fd = io::socket_bind(address, io::SocketKind::kTcp);
        opened.push_back(fd);
        if (address.port() == 0) address.set_port(io::socket_local_address(fd).port());
        tls.fds.push_back(fd);
      }
      opened.clear();  // the worker owns them now
      workers_.push_back(std::make_unique<Worker>(w, settings, sockets, credentials, cache_.get(),
                                                  blocklist, query_log, std::move(tls), dnstap));
    }
  } catch (...) {
    for (int fd : opened) ::close(fd);
    throw;
  }
}

Server::~Server() {
  stop();
  wait();
}

void Server::start() {
  for (auto& worker : workers_) worker->start();
}

void Server::stop() {
  for (auto& worker : workers_) worker->stop();
}

void Server::reload(const std::shared_ptr<const tls::ClientCredentials>& credentials,
                    const std::shared_ptr<const config::Config>& config) {
  const auto settings = std::make_shared<const Settings>(settings_build(*config, &route_tags_));
  zones_log(*settings);
  route_zones_set(*settings);
  std::vector<std::future<void>> applied;
  for (auto& worker : workers_) applied.push_back(worker->reload(credentials, settings));
  // Back only when every worker has it, so the caller's "reloaded" log line is true.
  for (auto& done : applied) done.wait();
}

void Server::update_blocklist(const std::shared_ptr<const policy::Blocklist>& blocklist,
                              dns::BlockedAnswer answer) {
  std::vector<std::future<void>> applied;
  for (auto& worker : workers_) applied.push_back(worker->update_blocklist(blocklist, answer));
  for (auto& done : applied) done.wait();
}

std::vector<WorkerSnapshot> Server::snapshot(std::chrono::milliseconds timeout) {
  std::vector<std::future<WorkerSnapshot>> pending;
  for (auto& worker : workers_) pending.push_back(worker->snapshot());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<WorkerSnapshot> out;
  for (auto& taken : pending) {
    if (taken.wait_until(deadline) == std::future_status::ready) out.push_back(taken.get());
  }
  return out;
}

std::size_t Server::dnssec_keys_forget(const std::string& name, bool subtree,
                                       std::chrono::milliseconds timeout) {
  std::vector<std::future<std::size_t>> pending;
  for (auto& worker : workers_) pending.push_back(worker->dnssec_keys_forget(name, subtree));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t removed = 0;
  for (auto& count : pending) {
    if (count.wait_until(deadline) != std::future_status::ready) continue;
    try {
      removed += count.get();
    } catch (const std::future_error&) {  // a worker that stopped dropped the task unrun
    }
  }
  return removed;
}

void Server::route_zones_set(const Settings& settings) {
  std::map<std::uint16_t, std::string> zones;
  for (std::size_t slot = 1; slot < settings.routes.size(); ++slot) {
    const RouteSettings& route = settings.routes[slot];
    if (!route.pool.servers.empty()) zones[route.rules.cache_tag] = route.pool.name;
  }
  std::lock_guard lock(route_zones_mutex_);
  route_zones_ = std::move(zones);
}

std::map<std::uint16_t, std::string> Server::route_zones() const {
  std::lock_guard lock(route_zones_mutex_);
  return route_zones_;
}

void Server::drain(std::chrono::milliseconds timeout) {
  const TimePoint deadline = Clock::now() + timeout;
  for (auto& worker : workers_) worker->drain(deadline);
}

void Server::wait() {
  for (auto& worker : workers_) worker->join();
}

}  // namespace dp::proxy
