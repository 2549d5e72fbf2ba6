#include "upstream/udp_connection.h"

#include <algorithm>

#include "common/log.h"
#include "dns/answer_check.h"
#include "dns/wire.h"

namespace dp::upstream {

UdpConnection::UdpConnection(std::size_t upstream_index, const ServerSpec& target,
                             DatagramFactory make_datagram, StreamFactory make_stream,
                             std::size_t max_in_flight, PoolStats& stats,
                             Connection::Listener& listener, const TimeSource& clock,
                             io::EventLoop& loop)
    : Connection(upstream_index),
      target_(target),
      make_datagram_(std::move(make_datagram)),
      make_stream_(std::move(make_stream)),
      max_in_flight_(std::min<std::size_t>(max_in_flight, 65535)),
      stats_(stats),
      listener_(listener),
      clock_(clock),
      loop_(loop),
      report_timer_(loop, [this] { report_lost(); }),
      rng_(std::random_device{}()) {}

// Nothing of the pool's (stats_, listener_): it may be gone already.
UdpConnection::~UdpConnection() { close(); }

void UdpConnection::start(TimePoint /*now*/, std::chrono::milliseconds handshake_timeout,
                          std::vector<std::uint8_t> /*resume_data*/) {
  handshake_timeout_ = handshake_timeout;
  state_ = ConnectionState::kReady;
}

bool UdpConnection::has_capacity() const {
  return state_ != ConnectionState::kClosed && queries_.size() < max_in_flight_;
}

std::size_t UdpConnection::open_sockets() const {
  std::size_t n = 0;
  for (const auto& [id, query] : queries_) n += query->socket != nullptr ? 1 : 0;
  return n;
}

std::uint16_t UdpConnection::unused_id() {
  // RFC 5452 §9.2: the ID as random as the port, and never one still waiting.
  for (;;) {
    const auto id = static_cast<std::uint16_t>(rng_());
    const bool lost_unreported =
        std::any_of(lost_.begin(), lost_.end(), [id](const Lost& lost) { return lost.id == id; });
    if (!queries_.contains(id) && !lost_unreported) return id;
  }
}

std::uint16_t UdpConnection::send(std::uint64_t request_id, std::span<const std::uint8_t> query,
                                  const dns::Question& question) {
  DP_ASSERT(has_capacity());
  // The pool's resend of a query whose TC=1 answer already took it to TCP joins that retry: a
  // second datagram would only bring a second TC=1 and a second TCP query.
  for (const auto& [existing, q] : queries_) {
    if (q->request_id == request_id && q->tcp_id) return existing;
  }
  const std::uint16_t id = unused_id();
  if (queries_.empty()) pending_since_ = clock_.now();
  auto it = queries_.emplace(id, std::make_unique<Query>(*this, id)).first;
  Query& q = *it->second;
  q.request_id = request_id;
  q.question = question;
  q.wire.assign(query.begin(), query.end());
  if (q.wire.size() >= dns::kHeaderSize) dns::wire_set_id(q.wire, id);
  // A socket of its own: the kernel gives it a random port (RFC 5452 §9.2) and, connected,
  // drops datagrams from any address but the server's.
  auto socket = make_datagram_(target_.address, q);
  if (!socket) {
    ++stats_.udp_errors;
    DP_LOG(kWarn, "upstream UDP socket failed", {"upstream", target_.display()},
           {"detail", socket.error()});
    lose(it, UpstreamError::kConnectFailed);
    return id;
  }
  q.socket = std::move(*socket);
  if (auto sent = q.socket->send(q.wire); !sent) {
    ++stats_.udp_errors;
    DP_LOG(kDebug, "upstream UDP send failed", {"upstream", target_.display()},
           {"detail", sent.error()});
    lose(it, UpstreamError::kConnectFailed);
    return id;
  }
  ++stats_.udp_queries;
  return id;
}

void UdpConnection::query_erase(Queries::iterator it) {
  Query& q = *it->second;
  if (q.socket) q.socket->close();  // at once: sockets are bounded by the queries in flight
  loop_.defer_delete(std::move(it->second));
  queries_.erase(it);
  if (queries_.empty()) pending_since_ = TimePoint::max();
}

void UdpConnection::forget(std::uint16_t id) {
  auto it = queries_.find(id);
  if (it == queries_.end()) return;
  if (it->second->tcp_id && tcp_) tcp_->forget(*it->second->tcp_id);
  query_erase(it);
}

void UdpConnection::lose(Queries::iterator it, UpstreamError error) {
  lost_.push_back(Lost{it->second->request_id, error, it->first});
  query_erase(it);
  report_timer_.arm_now();  // the owner may be mid-call: it hears of it from the loop
}

void UdpConnection::report_lost() {
  std::vector<Lost> lost;
  lost.swap(lost_);
  for (const Lost& query : lost) listener_.on_connection_lost(*this, query.request_id, query.error);
}

void UdpConnection::tcp_drop() {
  if (!tcp_) return;
  tcp_->close();
  loop_.defer_delete(std::move(tcp_));  // we may be inside one of its callbacks
}

void UdpConnection::close() {
  if (state_ == ConnectionState::kClosed && queries_.empty() && !tcp_) return;
  state_ = ConnectionState::kClosed;
  while (!queries_.empty()) query_erase(queries_.begin());
  tcp_drop();
  lost_.clear();
  report_timer_.cancel();
}

TimePoint UdpConnection::deadline() const {
  TimePoint next = TimePoint::max();
  if (state_ == ConnectionState::kClosed) return next;
  if (!queries_.empty()) next = std::max(pending_since_, last_answer_) + liveness_timeout_;
  if (tcp_) next = std::min(next, tcp_->deadline());
  return next;
}

std::optional<ConnectionFailure> UdpConnection::on_deadline(TimePoint now) {
  if (state_ == ConnectionState::kClosed) return std::nullopt;
  if (tcp_) {
    if (auto failure = tcp_->on_deadline(now)) {
      for (const std::uint64_t udp_id : failure->orphans) {
        auto it = queries_.find(static_cast<std::uint16_t>(udp_id));
        if (it != queries_.end()) lose(it, failure->error);
      }
      tcp_drop();
    }
  }
  if (queries_.empty() || now < std::max(pending_since_, last_answer_) + liveness_timeout_) {
    return std::nullopt;
  }
  return close_failed(UpstreamError::kTimeout,
                      "no answer for " + std::to_string(liveness_timeout_.count()) + " ms with " +
                          std::to_string(queries_.size()) + " queries in flight");
}

ConnectionFailure UdpConnection::close_failed(UpstreamError error, std::string detail) {
  // Over UDP nothing is "established": a server that is silent or unreachable is suspect.
  ConnectionFailure failure{error, std::move(detail), /*was_ready=*/false, {}};
  failure.orphans.reserve(queries_.size() + lost_.size());
  for (const auto& [id, query] : queries_) failure.orphans.push_back(query->request_id);
  for (const Lost& query : lost_) failure.orphans.push_back(query.request_id);
  close();
  return failure;
}

void UdpConnection::datagram_in(Query& query, std::span<const std::uint8_t> bytes) {
  auto it = queries_.find(query.id);
  if (it == queries_.end() || it->second.get() != &query) return;  // closed with its query
  // RFC 5452 §9.1: the server's address (the connected socket saw to that), our ID, and the
  // question we asked; anything else is discarded and we keep listening.
  if (bytes.size() < dns::kHeaderSize || dns::wire_get_id(bytes) != query.id) {
    ++stats_.udp_mismatched;
    return;
  }
  const bool truncated = (bytes[dns::wire::kFlags1] & dns::wire::kTcBit) != 0;
  const auto checked = dns::answer_check(bytes, query.question);
  // A truncated answer may leave the question out; the TCP answer is checked in full.
  const bool no_question = bytes[dns::wire::kQdCount] == 0 && bytes[dns::wire::kQdCount + 1] == 0;
  if (!checked &&
      !(truncated && no_question && (bytes[dns::wire::kFlags1] & dns::wire::kQrBit) != 0)) {
    ++stats_.udp_mismatched;
    DP_LOG(kDebug, "upstream answer discarded", {"upstream", target_.display()},
           {"reason", dns::answer_error_name(checked.error())});
    return;
  }
  if (truncated) {
    // RFC 7766 §5 / RFC 1035 §4.2.1: TC=1 means the whole answer is there over TCP.
    ++stats_.udp_truncated;
    retry_over_tcp(it);
    return;
  }
  const std::uint64_t request_id = query.request_id;
  query_erase(it);
  last_answer_ = clock_.now();
  listener_.on_connection_answer(*this, request_id, bytes);  // the buffer outlives the call
}

void UdpConnection::datagram_error(const std::string& detail) {
  if (state_ == ConnectionState::kClosed) return;
  // An ICMP error for a query: the server's port or host cannot be reached. From the loop
  // (a socket callback), so the listener hears of it now.
  ++stats_.udp_errors;
  const ConnectionFailure failure = close_failed(UpstreamError::kConnectFailed, detail);
  listener_.on_connection_failed(*this, failure);
}

void UdpConnection::retry_over_tcp(Queries::iterator it) {
  Query& q = *it->second;
  if (q.socket) {
    q.socket->close();
    loop_.defer_delete(std::move(q.socket));  // we are inside its callback
  }
  if (!tcp_) {
    auto& listener = static_cast<Connection::Listener&>(*this);
    tcp_ = std::make_unique<StreamConnection>(upstream_index(), target_, nullptr, make_stream_(),
                                              max_in_flight_, stats_, listener, clock_, loop_);
    tcp_->set_liveness_timeout(liveness_timeout_);
    tcp_->start(clock_.now(), handshake_timeout_);
  }
  if (!tcp_->has_capacity()) {
    lose(it, UpstreamError::kOverloaded);
    return;
  }
  q.tcp_id = tcp_->send(it->first, q.wire, q.question);
}

void UdpConnection::on_connection_ready(Connection& /*conn*/) {}

void UdpConnection::on_connection_answer(Connection& /*conn*/, std::uint64_t request_id,
                                         std::span<const std::uint8_t> answer) {
  auto it = queries_.find(static_cast<std::uint16_t>(request_id));
  if (it == queries_.end()) return;
  const std::uint64_t outer = it->second->request_id;
  query_erase(it);
  last_answer_ = clock_.now();
  listener_.on_connection_answer(*this, outer, answer);
}

void UdpConnection::on_connection_failed(Connection& /*conn*/, const ConnectionFailure& failure) {
  DP_LOG(kDebug, "upstream TCP retry connection closed", {"upstream", target_.display()},
         {"error", upstream_error_name(failure.error)}, {"detail", failure.detail});
  for (const std::uint64_t udp_id : failure.orphans) {
    auto it = queries_.find(static_cast<std::uint16_t>(udp_id));
    if (it != queries_.end()) lose(it, failure.error);
  }
  tcp_drop();
}

}  // namespace dp::upstream
