#include "upstream/pool.h"

#include <algorithm>
#include <string>

#include "common/log.h"
#include "dns/wire.h"

namespace dp::upstream {
namespace {
constexpr std::chrono::milliseconds kMaxHandshakeTimeout{2'000};  // TCP + TLS 1.2: 3 RTTs
using std::chrono::duration_cast;
using std::chrono::microseconds;
}  // namespace

const char* upstream_error_name(UpstreamError error) {
  switch (error) {
    case UpstreamError::kConnectFailed:
      return "connect_failed";
    case UpstreamError::kTlsHandshake:
      return "tls_handshake";
    case UpstreamError::kTlsVerify:
      return "tls_verify";
    case UpstreamError::kClosed:
      return "closed";
    case UpstreamError::kProtocol:
      return "protocol";
    case UpstreamError::kTimeout:
      return "timeout";
    case UpstreamError::kOverloaded:
      return "overloaded";
    case UpstreamError::kDown:
      return "down";
  }
  return "unknown";
}

PoolOptions PoolOptions::from_config(const config::Config& config) {
  PoolOptions options;
  options.connections_per_upstream = config.upstream_connections;
  options.max_in_flight_per_connection = config.max_queries_per_connection;
  options.max_pending = config.max_pending_queries;
  options.query_timeout = config.upstream_timeout;
  options.liveness_timeout = config.upstream_timeout;
  options.failover_on_servfail = config.servfail_failover;
  // Half the query's time at most for connect + handshake, so a query whose upstream cannot
  // be reached still has time to fail over to the next one.
  options.handshake_timeout =
      std::clamp(config.upstream_timeout / 2, std::chrono::milliseconds(1), kMaxHandshakeTimeout);
  return options;
}

Pool::Pool(io::EventLoop& loop, const TimeSource& clock,
           std::vector<config::UpstreamConfig> upstreams,
           std::shared_ptr<const tls::ClientCredentials> credentials, const PoolOptions& options,
           StreamFactory make_stream)
    : loop_(loop),
      clock_(clock),
      credentials_(std::move(credentials)),
      options_(options),
      make_stream_(std::move(make_stream)),
      timer_(loop, [this] { on_timer(); }) {
  for (auto& upstream : upstreams) {
    UpstreamSlot slot;
    slot.config = std::move(upstream);
    upstreams_.push_back(std::move(slot));
  }
}

Pool::~Pool() {
  // Shutdown: callers are going away too, so pending callbacks are dropped, not called.
  for (auto& slot : upstreams_) {
    for (auto& conn : slot.connections) conn->close();
  }
}

std::size_t Pool::open_connections() const {
  std::size_t n = 0;
  for (const auto& slot : upstreams_) n += slot.connections.size();
  return n;
}

void Pool::start() {
  const TimePoint now = clock_.now();
  for (std::size_t u = 0; u < upstreams_.size(); ++u) {
    while (upstreams_[u].connections.size() < options_.connections_per_upstream) {
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
  // What the last user left, except the buffers' room.
  request.attempts = 0;
  request.avoid_upstream = SIZE_MAX;
  request.copies.clear();
  request.hedged = false;
  request.fallback.clear();
  return request;
}

void Pool::resolve(std::span<const std::uint8_t> query, const dns::Question& question,
                   Callback done) {
  ++stats_.queries;
  if (requests_.size() >= options_.max_pending || upstreams_.empty()) {
    ++stats_.failures[static_cast<std::size_t>(UpstreamError::kOverloaded)];
    done(unexpected(UpstreamError::kOverloaded));
    return;
  }
  const TimePoint now = clock_.now();
  const std::uint64_t id = next_id_++;
  Request& request = request_add(id);
  request.wire.assign(query.begin(), query.end());
  request.question.qname_lower.assign(question.qname_lower);
  request.question.qtype = question.qtype;
  request.question.qclass = question.qclass;
  request.done = std::move(done);
  request.deadline = now + options_.query_timeout;
  deadlines_.emplace(now + options_.query_timeout, id);
  dispatch(id, now);
  arm_timer();
}

std::size_t Pool::choose_upstream(const Request& request, TimePoint now) {
  const bool can_avoid = upstreams_.size() > 1;
  auto usable = [&](std::size_t i) {
    return !(can_avoid && i == request.avoid_upstream) && upstreams_[i].down_until <= now;
  };
  // The healthy upstream with the lowest smoothed RTT; one not measured yet counts as
  // fastest, so every upstream gets measured.
  std::size_t best = SIZE_MAX;
  for (std::size_t i = 0; i < upstreams_.size(); ++i) {
    if (!usable(i)) continue;
    const auto rtt = upstreams_[i].rtt.measured() ? upstreams_[i].rtt.srtt() : microseconds(0);
    if (best == SIZE_MAX ||
        rtt < (upstreams_[best].rtt.measured() ? upstreams_[best].rtt.srtt() : microseconds(0)))
      best = i;
  }
  if (best != SIZE_MAX) {
    // Now and then another healthy upstream, so that a recovered or faster one is noticed.
    if (options_.probe_every > 0 && ++choices_ % options_.probe_every == 0) {
      // The others in turn, one probe each time.
      const std::size_t others = upstreams_.size() - 1;
      const std::size_t turn = choices_ / options_.probe_every;
      for (std::size_t k = 0; k < others; ++k) {
        const std::size_t i = (best + 1 + (turn + k) % others) % upstreams_.size();
        if (usable(i)) return i;
      }
    }
    return best;
  }
  // All in back-off: the one that recovers first (a probe may be under way on it).
  for (std::size_t i = 0; i < upstreams_.size(); ++i) {
    if (can_avoid && i == request.avoid_upstream) continue;
    if (best == SIZE_MAX || upstreams_[i].down_until < upstreams_[best].down_until) best = i;
  }
  return best;
}

DotConnection* Pool::pick_connection(std::size_t upstream, TimePoint now) {
  UpstreamSlot& slot = upstreams_[upstream];
  DotConnection* best = nullptr;
  for (const auto& conn : slot.connections) {
    if (!conn->has_capacity()) continue;
    if (best == nullptr || conn->in_flight() < best->in_flight()) best = conn.get();
  }
  if (best != nullptr) return best;
  // A new connection only when every open one is full, and not to an upstream in back-off.
  if (slot.connections.size() >= options_.connections_per_upstream || slot.down_until > now)
    return nullptr;
  return open_connection(upstream, now);
}

DotConnection* Pool::open_connection(std::size_t upstream, TimePoint now) {
  UpstreamSlot& slot = upstreams_[upstream];
  auto conn = std::make_unique<DotConnection>(upstream, slot.config, credentials_, make_stream_(),
                                              options_.max_in_flight_per_connection, stats_,
                                              static_cast<DotConnection::Listener&>(*this), clock_);
  conn->set_liveness_timeout(options_.liveness_timeout);
  conn->set_trust_generation(trust_generation_);
  DotConnection* raw = conn.get();
  slot.connections.push_back(std::move(conn));
  raw->start(now, options_.handshake_timeout, slot.resume_data);
  return raw;
}

bool Pool::send_copy(std::uint64_t id, std::size_t upstream, TimePoint now) {
  DotConnection* conn = pick_connection(upstream, now);
  if (conn == nullptr) return false;
  auto it = requests_.find(id);
  ++it->second.attempts;
  upstreams_[upstream].last_query = now;
  const std::uint16_t dns_id = conn->send(id, it->second.wire, it->second.question);
  // A write that fails inside send() (the TLS session's, or a stream that reports at once)
  // has failed the connection already, and its failure path has retried or finished this
  // request: no copy of it lives on that connection, which is on its way to being freed.
  if (conn->state() == ConnectionState::kClosed) return true;
  it = requests_.find(id);
  if (it == requests_.end()) return true;
  it->second.copies.push_back(Copy{conn, dns_id, upstream, now});
  // When this copy is late by the standard of the fastest healthy upstream, another upstream
  // is asked too; so a probe of a slow upstream costs no more than a normal query.
  if (!it->second.hedged && upstreams_.size() > 1) {
    microseconds delay = duration_cast<microseconds>(options_.hedge_max);
    for (const UpstreamSlot& slot : upstreams_) {
      if (slot.down_until > now) continue;
      delay = std::min(delay, slot.rtt.hedge_delay(options_.hedge_min, options_.hedge_max,
                                                   options_.hedge_unmeasured));
    }
    hedges_.emplace(now + delay, id);
  }
  return true;
}

void Pool::dispatch(std::uint64_t id, TimePoint now) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  const std::size_t upstream = choose_upstream(it->second, now);
  UpstreamSlot& slot = upstreams_[upstream];
  if (slot.down_until > now && slot.connections.empty()) {
    // Every usable upstream is in back-off: answer now rather than hold the client.
    finish(id, unexpected(UpstreamError::kDown));
    return;
  }
  if (!send_copy(id, upstream, now)) waiting_.push_back(id);
}

void Pool::hedge(std::uint64_t id, TimePoint now) {
  auto it = requests_.find(id);
  if (it == requests_.end() || it->second.hedged || it->second.copies.size() != 1) return;
  Request& request = it->second;
  request.hedged = true;
  // The next healthy upstream other than the slow one; none, or none with room: no hedge.
  const std::size_t slow = request.copies.front().upstream;
  for (std::size_t k = 1; k < upstreams_.size(); ++k) {
    const std::size_t i = (slow + k) % upstreams_.size();
    // Not one in back-off, nor the one that already failed or refused this query.
    if (upstreams_[i].down_until > now || i == request.avoid_upstream) continue;
    if (send_copy(id, i, now)) {
      ++stats_.hedges;
      return;
    }
  }
}

void Pool::drain_waiting(TimePoint now) {
  while (!waiting_.empty()) {
    const std::uint64_t id = waiting_.front();
    auto it = requests_.find(id);
    if (it == requests_.end() || !it->second.copies.empty()) {
      waiting_.pop_front();
      continue;
    }
    const std::size_t before = waiting_.size();
    waiting_.pop_front();
    dispatch(id, now);
    if (waiting_.size() == before) break;  // it went back to the queue: still no capacity
  }
  arm_timer();
}

void Pool::forget_copies(Request& request) {
  for (const Copy& copy : request.copies) copy.conn->forget(copy.dns_id);
  request.copies.clear();
}

void Pool::finish(std::uint64_t id, const UpstreamResult& result) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  forget_copies(it->second);
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
  std::vector<DotConnection*> conns;
  for (auto& slot : upstreams_) {
    for (auto& conn : slot.connections) conns.push_back(conn.get());
  }
  for (DotConnection* conn : conns) conn->on_deadline(now);  // may fail and remove it
  // Back-off over: probe the upstream in the background, so a recovered one is found (and
  // its connection warm) before a client query has to find out.
  for (std::size_t u = 0; u < upstreams_.size(); ++u) {
    UpstreamSlot& slot = upstreams_[u];
    if (slot.backoff.count() > 0 && slot.down_until <= now && slot.connections.empty()) {
      open_connection(u, now);
    }
  }
  while (!hedges_.empty() && hedges_.top().first <= now) {
    const std::uint64_t id = hedges_.top().second;
    hedges_.pop();
    hedge(id, now);
  }
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const std::uint64_t id = deadlines_.top().second;
    deadlines_.pop();
    finish(id, unexpected(UpstreamError::kTimeout));
  }
  arm_timer();
}

void Pool::arm_timer() {
  for (DeadlineQueue* queue : {&deadlines_, &hedges_}) {
    while (!queue->empty() && requests_.find(queue->top().second) == requests_.end()) {
      queue->pop();  // answered long ago
    }
  }
  TimePoint next = deadlines_.empty() ? TimePoint::max() : deadlines_.top().first;
  if (!hedges_.empty()) next = std::min(next, hedges_.top().first);
  for (const auto& slot : upstreams_) {
    for (const auto& conn : slot.connections) next = std::min(next, conn->deadline());
    if (slot.backoff.count() > 0 && slot.connections.empty()) {
      next = std::min(next, slot.down_until);  // the background probe
    }
  }
  if (next == timer_at_) return;
  timer_at_ = next;
  if (next == TimePoint::max()) {
    timer_.cancel();
    return;
  }
  timer_.arm(duration_cast<microseconds>(next - clock_.now()) + microseconds(1));
}

void Pool::remove_connection(DotConnection& conn) {
  auto& conns = upstreams_[conn.upstream_index()].connections;
  auto it =
      std::find_if(conns.begin(), conns.end(), [&](const auto& c) { return c.get() == &conn; });
  if (it == conns.end()) return;
  // Deferred deletion: we are inside one of its callbacks. Held here rather than in the
  // deferred call, so a pool destroyed before the loop turns still frees it.
  graveyard_.push_back(std::move(*it));
  conns.erase(it);
  if (graveyard_.size() == 1) {
    // A pool retired by a reload may be destroyed while the loop turns: check it is still there.
    loop_.defer([this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.lock()) graveyard_.clear();
    });
  }
}

std::vector<UpstreamStatus> Pool::upstream_status() const {
  const TimePoint now = clock_.now();
  std::vector<UpstreamStatus> out;
  for (const UpstreamSlot& slot : upstreams_) {
    UpstreamStatus status;
    status.name = slot.config.display();
    status.open_connections = slot.connections.size();
    for (const auto& conn : slot.connections) status.in_flight += conn->in_flight();
    status.usable = slot.down_until <= now;
    status.latency = slot.latency;
    status.certificate_expiry = slot.certificate_expiry;
    out.push_back(std::move(status));
  }
  return out;
}

void Pool::on_connection_ready(DotConnection& conn) {
  UpstreamSlot& slot = upstreams_[conn.upstream_index()];
  // A resumed session may show no certificate: the last full handshake's expiry stands.
  if (const auto expiry = conn.certificate_expiry()) slot.certificate_expiry = expiry;
  slot.backoff = std::chrono::milliseconds(0);
  slot.down_until = TimePoint{};
  drain_waiting(clock_.now());
}

void Pool::copy_lost(std::uint64_t id, const DotConnection* conn, UpstreamError error, bool suspect,
                     TimePoint now) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  Request& request = it->second;
  std::size_t upstream = SIZE_MAX;
  std::erase_if(request.copies, [&](const Copy& copy) {
    if (copy.conn != conn) return false;
    upstream = copy.upstream;
    return true;
  });
  if (!request.copies.empty()) return;  // the other copy may still answer
  // Retried once (RFC 7766 §6.2.1: a closed connection loses nothing silently): on a new
  // connection if the old one had worked, else on another upstream when there is one.
  const bool retry =
      request.attempts < 2 && now < request.deadline && (!suspect || upstreams_.size() > 1);
  if (!retry) {
    finish(id, unexpected(error));
    return;
  }
  if (suspect) request.avoid_upstream = upstream;
  ++stats_.retries;
  dispatch(id, now);
}

void Pool::on_connection_answer(DotConnection& conn, std::uint64_t request_id,
                                std::span<const std::uint8_t> answer) {
  const TimePoint now = clock_.now();
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  Request& request = it->second;
  const std::size_t upstream = conn.upstream_index();
  UpstreamSlot& slot = upstreams_[upstream];
  for (const Copy& copy : request.copies) {
    // The copy that lost the race took at least this long: without that sample an upstream
    // that never answers would never be measured, and stay "fastest".
    upstreams_[copy.upstream].rtt.add(duration_cast<microseconds>(now - copy.sent_at));
    if (copy.conn == &conn) slot.latency.observe(duration_cast<microseconds>(now - copy.sent_at));
  }
  slot.backoff = std::chrono::milliseconds(0);  // it answers: healthy
  const dns::Rcode rcode = dns::wire_get_rcode(answer);
  if (options_.failover_on_servfail && upstreams_.size() > 1 &&
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

void Pool::on_connection_failed(DotConnection& conn, const ConnectionFailure& failure,
                                const std::vector<std::uint64_t>& orphans) {
  const TimePoint now = clock_.now();
  const std::size_t upstream = conn.upstream_index();
  UpstreamSlot& slot = upstreams_[upstream];
  const std::string name = slot.config.display();
  // Connect, TLS and authentication failures, and a connection that stopped answering, make
  // the upstream itself suspect; a close of a working connection does not.
  // A connection opened under the trust a reload replaced says nothing about the upstream.
  const bool suspect = (!failure.was_ready || failure.error == UpstreamError::kTimeout) &&
                       conn.trust_generation() == trust_generation_;
  if (suspect) {
    // Back off, doubling up to a cap so that recovery needs no restart.
    slot.backoff = std::clamp(slot.backoff * 2, options_.backoff_initial, options_.backoff_max);
    slot.down_until = now + slot.backoff;
    slot.last_error = failure.error;
    DP_LOG(kWarn, "upstream connection failed", {"upstream", name},
           {"error", upstream_error_name(failure.error)}, {"detail", failure.detail},
           {"retry_in_ms", std::to_string(slot.backoff.count())});
  } else if (!orphans.empty()) {
    DP_LOG(kInfo, "upstream connection lost", {"upstream", name},
           {"error", upstream_error_name(failure.error)}, {"detail", failure.detail},
           {"in_flight", std::to_string(orphans.size())});
  } else {
    DP_LOG(kDebug, "idle upstream connection closed", {"upstream", name},
           {"detail", failure.detail});
  }
  remove_connection(conn);
  // Kept warm: a server closing an idle connection is not a failure, and with recent traffic
  // the replacement opens now, not when the next query arrives.
  if (!suspect && orphans.empty() && now - slot.last_query < options_.warm_window &&
      slot.down_until <= now && slot.connections.size() < options_.connections_per_upstream) {
    open_connection(upstream, now);
  }
  for (const std::uint64_t id : orphans) copy_lost(id, &conn, failure.error, suspect, now);
  drain_waiting(now);
}

void Pool::update_trust(std::shared_ptr<const tls::ClientCredentials> credentials,
                        const std::vector<config::UpstreamConfig>& upstreams) {
  credentials_ = std::move(credentials);
  ++trust_generation_;
  for (UpstreamSlot& slot : upstreams_) {
    for (const config::UpstreamConfig& fresh : upstreams) {
      if (fresh.address == slot.config.address && fresh.auth_name == slot.config.auth_name) {
        slot.config.pins = fresh.pins;
        slot.config.tls_min_version = fresh.tls_min_version;
      }
    }
    slot.resume_data.clear();
    slot.backoff = std::chrono::milliseconds(0);
    slot.down_until = TimePoint{};
  }
  arm_timer();
}

void Pool::on_connection_session(DotConnection& conn, std::vector<std::uint8_t> data) {
  // RFC 8446 §4.6.1 tickets are for one use at best; the newest one is the one to offer.
  upstreams_[conn.upstream_index()].resume_data = std::move(data);
}

}  // namespace dp::upstream
