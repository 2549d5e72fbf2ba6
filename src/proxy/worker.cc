#include "proxy/worker.h"

#include "io/tcp_stream.h"
#include "io/udp_socket.h"

namespace dp::proxy {
namespace {

QueryPolicy policy_of(const Settings& settings, policy::RateLimiter& rate_limiter,
                      std::shared_ptr<const policy::Blocklist> blocklist) {
  return QueryPolicy{settings.acl, rate_limiter.enabled() ? &rate_limiter : nullptr, settings.names,
                     std::move(blocklist), settings.blocklist_answer};
}

// Unix seconds, as RRSIG times count them.
std::uint32_t wall_seconds() {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::unique_ptr<DnssecValidator> validator_make(const Settings& settings,
                                                DnssecValidator::FetchRoute route) {
  // Made even when --dnssec is off (no anchors then): a reload may turn validation on.
  auto chain = settings.dnssec_chain != nullptr ? settings.dnssec_chain
                                                : std::make_shared<const dnssec::ChainConfig>();
  return std::make_unique<DnssecValidator>(std::move(chain), settings.key_cache_bytes,
                                           std::move(route), wall_seconds);
}

std::vector<RoutePoolSpec> pool_specs(const Settings& settings) {
  std::vector<RoutePoolSpec> out;
  for (const RouteSettings& route : settings.routes) out.push_back(route.pool);
  return out;
}

}  // namespace

Worker::Worker(std::size_t index, const Settings& settings,
               const std::vector<ListenSockets>& sockets,
               const std::shared_ptr<const tls::ClientCredentials>& credentials,
               cache::Cache* cache, std::shared_ptr<const policy::Blocklist> blocklist,
               QueryLogWriter* query_log, TlsListenSockets tls, const DnstapOutput& dnstap)
    : index_(index),
      dnstap_(index, dnstap, stats_),
      rate_limiter_(settings.rate_limit),
      pools_(
          loop_, clock_, [this] { return std::make_unique<io::TcpStream>(loop_); },
          [this](const SocketAddress& server, io::DatagramSocket::Handler& handler) {
            return io::UdpSocket::open(loop_, server, handler);
          },
          pool_specs(settings), credentials),
      validator_(validator_make(
          settings,
          [this](std::string_view name) -> upstream::Upstream& { return fetch_route(name); })),
      resolver_(loop_, pools_.route(0), *this, stats_, cache, settings.resolve, clock_),
      handler_(resolver_, *this, stats_, policy_of(settings, rate_limiter_, std::move(blocklist)),
               &clock_),
      tcp_clients_(
          loop_, clock_, settings.tcp,
          [this](std::span<const std::uint8_t> message, const ClientRef& client) {
            query_receive(message, client);
          },
          tls_stats_, std::move(tls.credentials), settings.handshake_limit) {
  if (query_log != nullptr) {
    query_log_ = std::make_unique<QueryLogBatch>(
        loop_, [query_log](std::string chunk) { return query_log->submit(std::move(chunk)); },
        stats_.query_log_dropped);
  }
  dnssec_mode_ = settings.dnssec_mode;
  routes_apply(settings);
  resolver_.set_dnstap(dnstap_.tap());
  resolver_.set_validator(validator_.get());
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    dnstap_.listener_add(sockets[i].udp_fd);
    udp_.push_back(std::make_unique<io::UdpListener>(
        loop_, sockets[i].udp_fd,
        [this, i](std::span<const std::uint8_t> message, const SocketAddress& from) {
          query_receive(message, ClientRef{Transport::kUdp, i, from, 0});
        }));
    tcp_.push_back(std::make_unique<io::TcpListener>(
        loop_, sockets[i].tcp_fd,
        [this](int fd, const SocketAddress& peer) { tcp_clients_.accept(fd, peer); }));
  }
  for (const int fd : tls.fds) {
    tls_.push_back(std::make_unique<io::TcpListener>(
        loop_, fd,
        [this](int fd, const SocketAddress& peer) { tcp_clients_.accept_tls(fd, peer); }));
  }
}

Worker::~Worker() {
  stop();
  join();
  if (query_log_ != nullptr) query_log_->flush();  // the loop is gone: its last lines still go
}

void Worker::start() {
  pools_.start();  // before the thread: the first queries find warm connections
  if (dnssec_mode_ != DnssecMode::kOff) loop_.post([this] { validator_->prime(); });
  thread_ = std::thread([this] { loop_.run(); });
}

void Worker::stop() { loop_.stop(); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

std::future<void> Worker::reload(std::shared_ptr<const tls::ClientCredentials> credentials,
                                 std::shared_ptr<const Settings> settings) {
  auto applied = std::make_shared<std::promise<void>>();
  std::future<void> done = applied->get_future();
  loop_.post([this, applied, credentials = std::move(credentials), settings = std::move(settings)] {
    const Settings& s = *settings;
    pools_.reload(credentials, pool_specs(s));
    tcp_clients_.reload(s.tcp);
    rate_limiter_ = policy::RateLimiter(s.rate_limit);  // buckets start full again
    handler_.update_guard(s.acl, rate_limiter_.enabled() ? &rate_limiter_ : nullptr, s.names);
    routes_apply(s);
    resolver_.set_options(s.resolve);
    dnssec_mode_ = s.dnssec_mode;
    if (s.dnssec_chain != nullptr) validator_->set_config(s.dnssec_chain);
    applied->set_value();
  });
  return done;
}

std::future<void> Worker::update_blocklist(std::shared_ptr<const policy::Blocklist> blocklist,
                                           dns::BlockedAnswer answer) {
  auto applied = std::make_shared<std::promise<void>>();
  std::future<void> done = applied->get_future();
  loop_.post([this, applied, blocklist = std::move(blocklist), answer]() mutable {
    handler_.update_blocklist(std::move(blocklist), answer);
    applied->set_value();
  });
  return done;
}

std::future<std::size_t> Worker::dnssec_keys_forget(std::string name, bool subtree) {
  auto removed = std::make_shared<std::promise<std::size_t>>();
  std::future<std::size_t> out = removed->get_future();
  loop_.post([this, removed, name = std::move(name), subtree] {
    removed->set_value(validator_ != nullptr ? validator_->keys_forget(name, subtree) : 0);
  });
  return out;
}

void Worker::drain(TimePoint deadline) {
  loop_.post([this, deadline] {
    for (auto& udp : udp_) udp->stop_reading();
    tcp_.clear();  // closes the listening sockets: new connections are refused
    drain_timer_ = std::make_unique<io::Timer>(loop_, [this, deadline] {
      const bool quiet =
          resolver_.flights() == 0 && pools_.pending() == 0 && !tcp_clients_.replies_owed();
      if (quiet || clock_.now() >= deadline) {
        loop_.stop();
        return;
      }
      drain_timer_->arm(std::chrono::milliseconds(20));
    });
    drain_timer_->arm(std::chrono::microseconds(0));
  });
}

std::future<WorkerSnapshot> Worker::snapshot() {
  auto taken = std::make_shared<std::promise<WorkerSnapshot>>();
  std::future<WorkerSnapshot> out = taken->get_future();
  loop_.post([this, taken] {
    WorkerSnapshot s;
    s.queries = stats_;
    s.tls = tls_stats_;
    s.pool = pools_.stats();
    s.routes = pools_.status();
    s.tcp_clients = tcp_clients_.size();
    s.tcp_clients_refused = tcp_clients_.refused();
    s.flights = resolver_.flights();
    s.upstream_pending = pools_.pending();
    if (validator_ != nullptr) validator_->snapshot_fill(s, dnssec_mode_);
    taken->set_value(std::move(s));
  });
  return out;
}

void Worker::routes_apply(const Settings& settings) {
  std::vector<ZoneRoute> zones;
  std::vector<std::string> names{"upstream"};
  for (std::size_t slot = 1; slot < settings.routes.size(); ++slot) {
    const RouteSettings& route = settings.routes[slot];
    ZoneRoute& zone = zones.emplace_back();
    zone.log_slot = static_cast<std::uint16_t>(slot);
    if (route.pool.servers.empty()) {  // transport upstream: the table never routes to it
      zone.target = RouteTarget{&pools_.route(0), settings.routes[0].rules};
      names.push_back("upstream");
      continue;
    }
    zone.target = RouteTarget{&pools_.route(slot), route.rules};
    for (const auto& server : route.pool.servers) zone.servers.push_back(server.address);
    names.push_back(route.pool.name);
  }
  handler_.set_zone_routes(std::move(zones));
  resolver_.set_default_rules(settings.routes[0].rules);
  if (query_log_ != nullptr) query_log_->set_route_names(std::move(names));
}

upstream::Upstream& Worker::fetch_route(std::string_view name) {
  const RouteTarget& target = handler_.fetch_target(name, resolver_.default_route());
  return fetch_tap_.through(*target.upstream, target.rules.transport);
}

void Worker::query_receive(std::span<const std::uint8_t> message, const ClientRef& client) {
  if (!dnstap_.on()) {
    handler_.handle(message, client);
    return;
  }
  handler_.handle(message, dnstap_.query_log(message, client));
}

void Worker::reply_send(const ClientRef& client, std::span<const std::uint8_t> reply) {
  if (query_log_ != nullptr) query_log_->add(client, reply);
  if (dnstap_.on()) dnstap_.reply_log(client, reply);
  if (client.transport == Transport::kTcp) {
    tcp_clients_.reply_send(client.tcp_conn, reply);
  } else if (!reply.empty()) {
    udp_[client.listener]->send(reply, client.peer);
  }
}

}  // namespace dp::proxy
