#include "upstream/pool.h"

#include <algorithm>
#include <string>

#include "common/log.h"
#include "dns/wire.h"
#include "io/udp_socket.h"
#include "upstream/stream_connection.h"
#include "upstream/udp_connection.h"

namespace dp::upstream {
namespace {
using std::chrono::duration_cast;
using std::chrono::microseconds;

SelectionOptions selection_options(const PoolOptions& o) {
  return {o.backoff_initial, o.backoff_max,      o.hedge_min,
          o.hedge_max,       o.hedge_unmeasured, o.probe_every};
}
}  // namespace

Pool::Pool(io::EventLoop& loop, const TimeSource& clock, Transport transport,
           std::vector<ServerSpec> upstreams,
           std::shared_ptr<const tls::ClientCredentials> credentials, const PoolOptions& options,
           StreamFactory make_stream, DatagramFactory make_datagram)
    : loop_(loop),
      clock_(clock),
      transport_(transport),
      // No credentials, no TLS: a plain TCP connection must never be taken for a DoT one.
      credentials_(transport == Transport::kTls ? std::move(credentials) : nullptr),
      options_(options),
      connections_per_upstream_(transport == Transport::kUdp ? 1
                                                             : options.connections_per_upstream),
      make_stream_(std::move(make_stream)),
      make_datagram_(std::move(make_datagram)),
      upstreams_(std::move(upstreams)),
      selection_(upstreams_.size(), selection_options(options)),
      timer_(loop, [this] { on_timer(); }),
      removed_timer_(loop, [this] { removed_close_idle(); }) {
  DP_ASSERT(transport != Transport::kTls || credentials_ != nullptr);
  if (!make_datagram_) {
    make_datagram_ = [&loop](const SocketAddress& to, io::DatagramSocket::Handler& handler) {
      return io::UdpSocket::open(loop, to, handler);
    };
  }
}

Pool::~Pool() {
  // Shutdown: callers are going away too, so pending callbacks are dropped, not called.
  for (Connection* conn : upstreams_.connections()) conn->close();
}

void Pool::start() {
  const TimePoint now = clock_.now();
  for (const std::size_t u : upstreams_.order()) {
    while (upstreams_[u].connections.size() < connections_per_upstream_) {
      open_connection(u, now);
    }
  }
  arm_timer();
}

Pool::Request& Pool::request_add(std::uint64_t id) {
  if (spare_requests_.empty()) return requests_[id];
  Requests::node_type node = std::move(spare_requests_.back());
  spare_requests_.pop_back();
  node.key() = id;
  Request& request = requests_.insert(std::move(node)).position->second;
  request.reuse();
  return request;
}

void Pool::resolve(std::span<const std::uint8_t> query, const dns::Question& question,
                   Callback done) {
  ++stats_.queries;
  if (requests_.size() >= options_.max_pending || selection_.active() == 0) {
    ++stats_.failures[static_cast<std::size_t>(UpstreamError::kOverloaded)];
    done(unexpected(UpstreamError::kOverloaded));
    return;
  }
  const TimePoint now = clock_.now();
  const std::uint64_t id = next_id_++;
  Request& request = request_add(id);
  request.wire.assign(query.begin(), query.end());
  request.question = question;  // into the reused node's room
  request.done = std::move(done);
  request.deadline = now + options_.query_timeout;
  deadlines_.push(now + options_.query_timeout, id);
  dispatch(id, now);
  arm_timer();
}

Connection* Pool::pick_connection(std::size_t upstream, TimePoint now) {
  if (Connection* conn = upstreams_.connection_with_room(upstream)) return conn;
  // A new connection only when every open one is full, and not to an upstream in back-off.
  if (upstreams_[upstream].connections.size() >= connections_per_upstream_ ||
      !selection_.usable(upstream, now))
    return nullptr;
  return open_connection(upstream, now);
}

Connection* Pool::open_connection(std::size_t upstream, TimePoint now) {
  ServerSlot& slot = upstreams_[upstream];
  auto& listener = static_cast<Connection::Listener&>(*this);
  std::unique_ptr<Connection> conn;
  if (transport_ == Transport::kUdp) {
    conn = std::make_unique<UdpConnection>(upstream, slot.server, make_datagram_, make_stream_,
                                           options_.max_in_flight_per_connection, stats_, listener,
                                           clock_, loop_);
  } else {
    conn = std::make_unique<StreamConnection>(upstream, slot.server, credentials_, make_stream_(),
                                              options_.max_in_flight_per_connection, stats_,
                                              listener, clock_, loop_);
  }
  conn->set_liveness_timeout(options_.liveness_timeout);
  conn->set_trust_generation(trust_generation_);
  Connection* raw = conn.get();
  slot.connections.push_back(std::move(conn));
  raw->start(now, options_.handshake_timeout, slot.resume_data);
  return raw;
}

bool Pool::send_copy(Request& request, std::uint64_t id, std::size_t upstream, TimePoint now) {
  Connection* conn = pick_connection(upstream, now);
  if (conn == nullptr) return false;
  ++request.attempts;
  upstreams_[upstream].last_query = now;
  const std::uint16_t dns_id = conn->send(id, request.wire, request.question);
  request.copies.push_back(Copy{conn, dns_id, upstream, now});
  // A hedge needs another upstream, or UDP, where it resends to the same one (hedge()).
  if (!request.hedged && (selection_.active() > 1 || transport_ == Transport::kUdp))
    hedges_.push(now + selection_.hedge_delay(now), id);
  return true;
}

void Pool::dispatch(std::uint64_t id, TimePoint now) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  const std::size_t upstream = selection_.upstream_choose(it->second.avoid_upstream, now);
  if (!selection_.usable(upstream, now) && upstreams_[upstream].connections.empty()) {
    // Every usable upstream is in back-off: answer now rather than hold the client.
    finish(id, unexpected(UpstreamError::kDown));
    return;
  }
  if (!send_copy(it->second, id, upstream, now)) waiting_.push_back(id);
}

void Pool::hedge(std::uint64_t id, TimePoint now) {
  auto it = requests_.find(id);
  if (it == requests_.end() || it->second.hedged || it->second.copies.size() != 1) return;
  Request& request = it->second;
  request.hedged = true;
  // None, or none with room: no hedge.
  const std::size_t slow = request.copies.front().upstream;
  for (const std::size_t upstream : selection_.hedge_targets(slow, request.avoid_upstream, now)) {
    if (!send_copy(request, id, upstream, now)) continue;
    ++stats_.hedges;
    return;
  }
  // UDP has no connection to tell a lost datagram from a slow server: with no other server to
  // ask, the same one is asked again, from a new socket under a new ID (RFC 1035 §4.2.1
  // retransmission), so one lost packet costs a hedge delay, not the query's deadline.
  if (transport_ == Transport::kUdp && !selection_.removed(slow) &&
      send_copy(request, id, slow, now)) {
    ++stats_.hedges;
  }
}

void Pool::drain_waiting(TimePoint now) {
  while (!waiting_.empty()) {
    const std::uint64_t id = waiting_.front();
    waiting_.pop_front();
    auto it = requests_.find(id);
    if (it == requests_.end() || !it->second.copies.empty()) continue;  // stale
    const std::size_t before = waiting_.size();
    dispatch(id, now);
    if (waiting_.size() > before) break;  // it went back to the queue: still no capacity
  }
  arm_timer();
}

void Pool::finish(std::uint64_t id, const UpstreamResult& result) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  for (const Copy& copy : it->second.copies) {
    copy.conn->forget(copy.dns_id);
    if (selection_.removed(copy.upstream)) removed_timer_.arm_now();  // it may be idle now
  }
  it->second.copies.clear();
  Requests::node_type node = requests_.extract(it);
  Callback done = std::move(node.mapped().done);
  std::vector<std::uint8_t> fallback;
  if (!result) fallback.swap(node.mapped().fallback);  // rare: a SERVFAIL kept for later
  spare_requests_.push_back(std::move(node));          // before done(), which may resolve again
  if (!result && !fallback.empty()) {
    // Nothing better came: the upstream's own SERVFAIL/REFUSED is more honest than ours.
    ++stats_.answers;
    done(UpstreamResult(std::span<const std::uint8_t>(fallback)));
    return;
  }
  if (result) {
    ++stats_.answers;
  } else {
    ++stats_.failures[static_cast<std::size_t>(result.error())];
  }
  done(result);
}

void Pool::on_timer() {
  timer_at_ = TimePoint::max();
  const TimePoint now = clock_.now();
  // Connections first: one that failed its handshake hands its queries to the next upstream
  // while they still have time left.
  for (Connection* conn : upstreams_.connections()) {
    if (auto failure = conn->on_deadline(now)) on_connection_failed(*conn, *failure);
  }
  // Back-off over: probe the upstream in the background, so a recovered one is found (and
  // its connection warm) before a client query has to find out.
  for (std::size_t u = 0; u < upstreams_.size(); ++u) {
    if (selection_.probe_due(u, now) && upstreams_[u].connections.empty()) open_connection(u, now);
  }
  for (std::uint64_t id = 0; hedges_.due_pop(now, id);) hedge(id, now);
  for (std::uint64_t id = 0; deadlines_.due_pop(now, id);) {
    finish(id, unexpected(UpstreamError::kTimeout));
  }
  arm_timer();
}

void Pool::arm_timer() {
  const auto live = [this](std::uint64_t id) { return requests_.contains(id); };  // not finished
  const TimePoint next =
      std::min({deadlines_.next(live), hedges_.next(live), upstreams_.deadline_next(selection_)});
  if (next == timer_at_) return;
  timer_at_ = next;
  if (next == TimePoint::max()) {
    timer_.cancel();
    return;
  }
  timer_.arm(duration_cast<microseconds>(next - clock_.now()) + microseconds(1));
}

void Pool::remove_connection(Connection& conn) {
  // We may be inside one of its callbacks: the loop frees it once that has returned.
  if (auto owned = upstreams_.connection_take(conn)) loop_.defer_delete(std::move(owned));
}

void Pool::on_connection_ready(Connection& conn) {
  ServerSlot& slot = upstreams_[conn.upstream_index()];
  // A resumed session may show no certificate: the last full handshake's expiry stands.
  if (const auto expiry = conn.certificate_expiry()) slot.certificate_expiry = expiry;
  selection_.backoff_end(conn.upstream_index());
  drain_waiting(clock_.now());
}

void Pool::copy_lost(std::uint64_t id, const Connection* conn, UpstreamError error, bool suspect,
                     TimePoint now) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  Request& request = it->second;
  std::size_t upstream = Selection::kNone;
  for (const Copy& copy : request.copies) {
    if (copy.conn == conn) upstream = copy.upstream;
  }
  std::erase_if(request.copies, [&](const Copy& copy) { return copy.conn == conn; });
  if (!request.copies.empty()) return;  // the other copy may still answer
  // Retried once (RFC 7766 §6.2.1: a closed connection loses nothing silently): on a new
  // connection if the old one had worked, else on another upstream when there is one.
  const bool retry =
      request.attempts < 2 && now < request.deadline && (!suspect || selection_.active() > 1);
  if (!retry) {
    finish(id, unexpected(error));
    return;
  }
  if (suspect) request.avoid_upstream = upstream;
  ++stats_.retries;
  dispatch(id, now);
}

void Pool::on_connection_answer(Connection& conn, std::uint64_t request_id,
                                std::span<const std::uint8_t> answer) {
  const TimePoint now = clock_.now();
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  Request& request = it->second;
  const std::size_t upstream = conn.upstream_index();
  for (const Copy& copy : request.copies) {
    // The copy that lost the race took at least this long: without that sample an upstream
    // that never answers would never be measured, and stay "fastest".
    const auto took = duration_cast<microseconds>(now - copy.sent_at);
    selection_.rtt_add(copy.upstream, took);
    if (copy.conn == &conn) upstreams_[upstream].latency.observe(took);
  }
  selection_.backoff_reset(upstream);  // it answers: healthy
  const dns::Rcode rcode = dns::wire_get_rcode(answer);
  if (options_.failover_on_servfail && selection_.active() > 1 &&
      (rcode == dns::Rcode::kServFail || rcode == dns::Rcode::kRefused)) {
    // This upstream cannot or will not answer this name; another may. Its answer is kept in
    // case nothing better comes. NXDOMAIN is an answer and is never retried.
    request.fallback.assign(answer.begin(), answer.end());
    ++stats_.rcode_retries;
    copy_lost(request_id, &conn, UpstreamError::kClosed, /*suspect=*/true, now);
  } else {
    finish(request_id, answer);
  }
  drain_waiting(now);
}

void Pool::on_connection_lost(Connection& conn, std::uint64_t request_id, UpstreamError error) {
  // One query lost, the connection up (UDP: no socket, or its TCP retry failed): like a
  // working connection closing under it, retried once.
  const TimePoint now = clock_.now();
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  // Its retry goes elsewhere when it can, but the server is not backed off: other queries
  // to it fare well (a truncated answer's TCP retry failing says little of its UDP).
  if (selection_.active() > 1) it->second.avoid_upstream = conn.upstream_index();
  copy_lost(request_id, &conn, error, /*suspect=*/false, now);
  drain_waiting(now);
}

void Pool::on_connection_failed(Connection& conn, const ConnectionFailure& failure) {
  const TimePoint now = clock_.now();
  const std::size_t upstream = conn.upstream_index();
  ServerSlot& slot = upstreams_[upstream];
  // Connect, TLS and authentication failures, and a connection that stopped answering, make
  // the upstream itself suspect; a close of a working connection does not.
  // A connection opened under the trust a reload replaced says nothing about the upstream.
  const bool suspect = (!failure.was_ready || failure.error == UpstreamError::kTimeout) &&
                       conn.trust_generation() == trust_generation_;
  std::optional<std::chrono::milliseconds> backoff;
  if (suspect) backoff = selection_.backoff_start(upstream, now);
  upstreams_.failure_report(upstream, failure, backoff, now);
  remove_connection(conn);
  // Kept warm: a server closing an idle connection is not a failure, and with recent traffic
  // the replacement opens now, not when the next query arrives.
  if (!suspect && failure.orphans.empty() && now - slot.last_query < options_.warm_window &&
      selection_.usable(upstream, now) && slot.connections.size() < connections_per_upstream_) {
    open_connection(upstream, now);
  }
  for (const std::uint64_t id : failure.orphans) copy_lost(id, &conn, failure.error, suspect, now);
  drain_waiting(now);
}

void Pool::update_trust(std::shared_ptr<const tls::ClientCredentials> credentials,
                        const std::vector<ServerSpec>& upstreams) {
  if (transport_ == Transport::kTls) credentials_ = std::move(credentials);
  ++trust_generation_;
  upstreams_.trust_update(upstreams);
  selection_.backoff_clear_all();
  arm_timer();
}

bool Pool::servers_update(std::shared_ptr<const tls::ClientCredentials> credentials,
                          const std::vector<ServerSpec>& upstreams) {
  const auto fresh = upstreams_.servers_update(upstreams, selection_, kMaxRemovedSlots);
  if (!fresh) return false;
  update_trust(std::move(credentials), upstreams);
  removed_close_idle();
  const TimePoint now = clock_.now();
  for (const std::size_t u : *fresh) {
    while (upstreams_[u].connections.size() < connections_per_upstream_) open_connection(u, now);
  }
  arm_timer();
  return true;
}

void Pool::removed_close_idle() {
  for (Connection* conn : upstreams_.removed_idle(selection_)) {
    conn->close();
    remove_connection(*conn);
  }
}

void Pool::on_connection_session(Connection& conn, std::vector<std::uint8_t> data) {
  // RFC 8446 §4.6.1 tickets are for one use at best; the newest one is the one to offer.
  upstreams_[conn.upstream_index()].resume_data = std::move(data);
}

}  // namespace dp::upstream
