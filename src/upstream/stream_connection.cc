#include "upstream/stream_connection.h"

#include "common/check.h"
#include "common/log.h"
#include "dns/answer_check.h"
#include "dns/wire.h"

namespace dp::upstream {
namespace {
constexpr std::size_t kPlainChunk = std::size_t{16} * 1024;  // one TLS record's worth of plaintext
// At most this many queries left in flight after a read: ACK it when the loop goes idle (see
// read_answers()). More in flight means a busy connection whose next queries carry the ACK
// soon, and the upstream's Nagle-coalesced answers save both sides work (bench, stock
// Unbound: with forced ACKs up to 16 in flight the miss rate fell 12 %, up to 4 it held).
constexpr std::size_t kEagerAckInFlight = 4;
}  // namespace

StreamConnection::StreamConnection(std::size_t upstream_index, const ServerSpec& target,
                                   std::shared_ptr<const tls::ClientCredentials> credentials,
                                   std::unique_ptr<io::ByteStream> stream,
                                   std::size_t max_in_flight, PoolStats& stats, Listener& listener,
                                   const TimeSource& clock, io::EventLoop& loop)
    : Connection(upstream_index),
      target_(target),
      credentials_(std::move(credentials)),
      stream_(std::move(stream)),
      stats_(stats),
      listener_(listener),
      clock_(clock),
      report_timer_(loop, [this] { report_failure(); }),
      pending_(max_in_flight),
      plain_(credentials_ != nullptr ? kPlainChunk : 0),
      rng_(std::random_device{}()) {}

// Nothing of the pool's (stats_, listener_): it may be gone already.
StreamConnection::~StreamConnection() { close(); }

void StreamConnection::start(TimePoint now, std::chrono::milliseconds handshake_timeout,
                             std::vector<std::uint8_t> resume_data) {
  handshake_deadline_ = now + handshake_timeout;
  resume_data_ = std::move(resume_data);
  last_used_ = now;
  ++stats_.connections_opened;
  in_owner_call_ = true;  // connect() promises no report from inside it; one would wait
  stream_->connect(target_.address, *this);
  in_owner_call_ = false;
}

bool StreamConnection::has_capacity() const {
  return state_ != ConnectionState::kClosed && !pending_.full();
}

std::uint16_t StreamConnection::unused_id() {
  // RFC 7766 §6.2.1.1 / RFC 5452: IDs unpredictable and unique among pending queries.
  for (;;) {
    const auto id = static_cast<std::uint16_t>(rng_());
    if (!pending_.contains(id)) return id;
  }
}

std::uint16_t StreamConnection::send(std::uint64_t request_id, std::span<const std::uint8_t> query,
                                     const dns::Question& question) {
  DP_ASSERT(has_capacity());
  const bool outer = in_owner_call_;  // restored on return; send() may nest in our callbacks
  in_owner_call_ = true;
  const std::uint16_t id = unused_id();
  const TimePoint now = clock_.now();
  if (pending_.empty()) pending_since_ = now;
  last_used_ = now;
  PendingTable::Entry& pending = pending_.insert(id);
  pending.request_id = request_id;
  pending.question.qname_lower.assign(question.qname_lower);  // in the slot's own room
  pending.question.qtype = question.qtype;
  pending.question.qclass = question.qclass;
  frame_.clear();
  dns::frame_append(frame_, query);
  dns::wire_set_id(std::span<std::uint8_t>(frame_).subspan(2), id);
  if (state_ == ConnectionState::kReady) {
    write_plaintext(frame_);
  } else {
    held_.insert(held_.end(), frame_.begin(), frame_.end());  // never in clear: after TLS
  }
  in_owner_call_ = outer;
  return id;
}

void StreamConnection::forget(std::uint16_t id) {
  pending_.erase(id);
  if (pending_.empty()) pending_since_ = TimePoint::max();
}

void StreamConnection::close() {
  if (state_ == ConnectionState::kClosed) return;
  state_ = ConnectionState::kClosed;
  stream_->close();
  out_.clear();
  pending_.clear();
}

TimePoint StreamConnection::deadline() const {
  switch (state_) {
    case ConnectionState::kConnecting:
    case ConnectionState::kHandshaking:
      return handshake_deadline_;
    case ConnectionState::kClosed:
      return TimePoint::max();
    case ConnectionState::kReady:
      break;
  }
  if (!pending_.empty()) return std::max(pending_since_, last_answer_) + liveness_timeout_;
  if (keepalive_announced_) {
    // RFC 7828 §3.2.2: the client closes before the server's timeout, not after it.
    return last_used_ + server_idle_timeout_ * 9 / 10;
  }
  return TimePoint::max();
}

std::optional<ConnectionFailure> StreamConnection::on_deadline(TimePoint now) {
  if (now < deadline()) return std::nullopt;
  switch (state_) {
    case ConnectionState::kConnecting:
      return close_failed(UpstreamError::kConnectFailed, "connect timed out");
    case ConnectionState::kHandshaking:
      return close_failed(UpstreamError::kTlsHandshake, "handshake timed out");
    case ConnectionState::kClosed:
      return std::nullopt;
    case ConnectionState::kReady:
      break;
  }
  if (!pending_.empty()) {
    return close_failed(UpstreamError::kTimeout,
                        "no answer for " + std::to_string(liveness_timeout_.count()) + " ms with " +
                            std::to_string(pending_.size()) + " queries in flight");
  }
  return close_failed(UpstreamError::kClosed, "idle: closed before the server's keepalive timeout");
}

std::optional<std::int64_t> StreamConnection::certificate_expiry() const {
  return session_ != nullptr ? session_->peer_certificate_expiry() : std::nullopt;
}

void StreamConnection::report_session() {
  if (session_reported_ || !session_) return;
  auto data = session_->session_data();
  if (data.empty()) return;
  session_reported_ = true;
  listener_.on_connection_session(*this, std::move(data));
}

void StreamConnection::on_stream_connected() {
  if (state_ != ConnectionState::kConnecting) return;
  if (!tls()) {
    // RFC 7766: plain DNS over TCP flows as soon as the connection is up.
    become_ready();
    return;
  }
  tls::SessionOptions options{target_.auth_name, target_.address.ip_string()};
  options.resume_data = std::move(resume_data_);
  options.pins = target_.pins;
  options.min_version = target_.tls_min_version;
  auto session = tls::ClientSession::create(credentials_, options);
  if (!session) {
    fail(UpstreamError::kTlsHandshake, session.error().detail);
    return;
  }
  session_ = std::move(*session);
  state_ = ConnectionState::kHandshaking;
  advance_handshake();
}

void StreamConnection::advance_handshake() {
  auto step = session_->handshake();
  flush_ciphertext();  // ClientHello, Finished, or an alert
  if (!step) {
    fail(step.error().kind == tls::TlsErrorKind::kVerify ? UpstreamError::kTlsVerify
                                                         : UpstreamError::kTlsHandshake,
         step.error().detail);
    return;
  }
  if (*step == tls::IoState::kNeedRead) return;
  ++stats_.handshakes;
  if (session_->resumed()) ++stats_.handshakes_resumed;
  DP_LOG(kDebug, "upstream connected", {"upstream", target_.display()},
         {"tls", session_->protocol_name()}, {"resumed", session_->resumed() ? "yes" : "no"});
  report_session();  // TLS 1.2 sessions are resumable now; 1.3 tickets come with the data
  become_ready();
}

void StreamConnection::become_ready() {
  state_ = ConnectionState::kReady;
  handshake_deadline_ = TimePoint::max();
  if (!tls()) DP_LOG(kDebug, "upstream connected", {"upstream", target_.display()}, {"tls", "no"});
  if (!held_.empty()) {
    std::vector<std::uint8_t> held;
    held.swap(held_);
    write_plaintext(held);  // all queries held during the handshake, in one go
  }
  if (state_ != ConnectionState::kReady) return;
  listener_.on_connection_ready(*this);
  if (state_ == ConnectionState::kReady && tls()) read_answers();  // data may follow the handshake
}

void StreamConnection::on_stream_data(std::span<const std::uint8_t> bytes) {
  if (!tls()) {
    read_plain(bytes);
    return;
  }
  if (state_ == ConnectionState::kClosed || !session_) return;
  session_->feed(bytes);
  if (state_ == ConnectionState::kHandshaking) {
    advance_handshake();
    return;
  }
  read_answers();
}

void StreamConnection::read_answers() {
  while (state_ == ConnectionState::kReady) {
    auto n = session_->read(plain_);
    flush_ciphertext();  // TLS 1.3 key updates and the like
    if (!n) {
      const bool closed = n.error().kind == tls::TlsErrorKind::kClosed;
      fail(closed ? UpstreamError::kClosed : UpstreamError::kProtocol, n.error().detail);
      return;
    }
    if (*n == 0) {
      ack_maybe();
      return;
    }
    report_session();
    answers_.feed(std::span<const std::uint8_t>(plain_.data(), *n));
    answers_take();
  }
}

void StreamConnection::read_plain(std::span<const std::uint8_t> bytes) {
  if (state_ != ConnectionState::kReady) return;
  answers_.feed(bytes);
  answers_take();
  if (state_ == ConnectionState::kReady) ack_maybe();
}

void StreamConnection::answers_take() {
  while (state_ == ConnectionState::kReady) {
    auto message = answers_.next();
    if (!message) break;
    handle_answer(*message);
  }
}

void StreamConnection::ack_maybe() {
  // Queries still in flight: the upstream may hold their answers until it hears we got
  // these (Nagle, RFC 896; stock Unbound holds them up to our 40 ms delayed ACK).
  if (!pending_.empty() && pending_.size() <= kEagerAckInFlight) stream_->acknowledge_soon();
}

void StreamConnection::handle_answer(std::span<const std::uint8_t> message) {
  if (message.size() < dns::kHeaderSize) {
    // A zero or tiny frame cannot be matched to anything: the stream is broken.
    fail(UpstreamError::kProtocol, "answer shorter than a DNS header");
    return;
  }
  const std::uint16_t id = dns::wire_get_id(message);
  const PendingTable::Entry* pending = pending_.find(id);
  if (pending == nullptr) {
    ++stats_.answers_unknown_id;
    return;
  }
  if (auto checked = dns::answer_check(message, pending->question); !checked) {
    // RFC 7858 §3.3: match by ID and question; a mismatch is never delivered or cached.
    ++stats_.answers_mismatched;
    DP_LOG(kDebug, "upstream answer discarded", {"upstream", target_.display()},
           {"reason", dns::answer_error_name(checked.error())});
    return;
  }
  const std::uint64_t request_id = pending->request_id;
  pending_.erase(id);
  const TimePoint now = clock_.now();
  last_answer_ = now;
  last_used_ = now;
  if (pending_.empty()) pending_since_ = TimePoint::max();
  if (auto keepalive = dns::answer_keepalive(message)) {
    // RFC 7828 §3.2.2: adopt the server's idle timeout; 0 asks us to close once idle.
    keepalive_announced_ = true;
    server_idle_timeout_ = *keepalive;
  }
  listener_.on_connection_answer(*this, request_id, message);
}

void StreamConnection::write_plaintext(std::span<const std::uint8_t> bytes) {
  if (!tls()) {
    if (!corked_) {
      corked_ = true;
      stream_->write_soon();  // may call on_stream_flush() at once
    }
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    if (!corked_) on_stream_flush();  // a stream that sends at once: these leave now
    return;
  }
  if (!corked_) {
    session_->cork();
    corked_ = true;
    stream_->write_soon();  // may call on_stream_flush() at once
  }
  auto written = session_->write(bytes);
  if (!written) {
    fail(UpstreamError::kProtocol, written.error().detail);
    return;
  }
  // A stream that sends at once has uncorked already: this record leaves now.
  if (!corked_) flush_ciphertext();
}

void StreamConnection::on_stream_flush() {
  if (!tls()) {
    corked_ = false;
    if (out_.empty() || state_ == ConnectionState::kClosed) return;
    stream_->write(out_);
    out_.clear();
    return;
  }
  if (!corked_ || !session_ || state_ == ConnectionState::kClosed) return;
  corked_ = false;
  auto sent = session_->uncork();
  if (!sent) {
    fail(UpstreamError::kProtocol, sent.error().detail);
    return;
  }
  flush_ciphertext();
}

void StreamConnection::flush_ciphertext() {
  if (!session_ || session_->output().empty() || state_ == ConnectionState::kClosed) return;
  stream_->write(session_->output());
  session_->output().clear();
}

void StreamConnection::on_stream_closed(io::StreamError error, const std::string& detail) {
  if (state_ == ConnectionState::kClosed) return;
  if (session_) session_->feed_eof();
  switch (error) {
    case io::StreamError::kConnectFailed:
      fail(UpstreamError::kConnectFailed, detail);
      return;
    case io::StreamError::kEof:
      if (state_ == ConnectionState::kReady) {
        if (tls()) read_answers();  // answers that arrived with the FIN are still good
        if (state_ == ConnectionState::kClosed) return;
        fail(UpstreamError::kClosed, detail);
      } else if (!tls()) {
        fail(UpstreamError::kConnectFailed, "connection closed before it was up");
      } else {
        // GnuTLS words it best (and adds what a tls_min_version may have caused).
        if (state_ == ConnectionState::kHandshaking) advance_handshake();
        fail(UpstreamError::kTlsHandshake, "connection closed during the TLS handshake");
      }
      return;
    case io::StreamError::kReset:
      fail(state_ == ConnectionState::kReady ? UpstreamError::kClosed
           : tls()                           ? UpstreamError::kTlsHandshake
                                             : UpstreamError::kConnectFailed,
           detail);
      return;
  }
}

void StreamConnection::fail(UpstreamError error, std::string detail) {
  if (state_ == ConnectionState::kClosed) return;
  failure_ = close_failed(error, std::move(detail));
  if (in_owner_call_) {
    report_timer_.arm_now();  // the owner is mid-call: it hears of it once the call is over
    return;
  }
  report_failure();
}

ConnectionFailure StreamConnection::close_failed(UpstreamError error, std::string detail) {
  ConnectionFailure failure{error, std::move(detail), state_ == ConnectionState::kReady, {}};
  state_ = ConnectionState::kClosed;
  stream_->close();
  out_.clear();
  failure.orphans.reserve(pending_.size());
  pending_.for_each(
      [&](const PendingTable::Entry& pending) { failure.orphans.push_back(pending.request_id); });
  pending_.clear();
  return failure;
}

void StreamConnection::report_failure() {
  if (!failure_) return;
  const ConnectionFailure failure = std::move(*failure_);
  failure_.reset();
  listener_.on_connection_failed(*this, failure);
}

}  // namespace dp::upstream
