#include "io/tcp_stream.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/check.h"

namespace dp::io {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024 + 512;  // one TLS record and its overhead
constexpr int kReadsPerWakeup = 4;                   // then other sockets get their turn

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

TcpStream::TcpStream(EventLoop& loop)
    : loop_(loop),
      connect_failure_event_(event_new(loop.base(), -1, 0, &on_connect_failure, this)),
      read_buffer_(kReadChunk) {}

TcpStream::~TcpStream() { close(); }

void TcpStream::connect(const SocketAddress& to, Handler& handler) {
  close();
  handler_ = &handler;
  // Reported from the loop, never from inside connect(): the caller is mid-setup. By an event
  // of the stream's own, so that close() or the destructor takes the report back with it.
  // Without that event (event_new found no memory) nothing is reported: the owner's deadline
  // (StreamConnection's handshake timeout) ends the attempt.
  const auto fail_later = [this](std::string why) {
    connect_failure_ = std::move(why);
    if (!DP_BUG(connect_failure_event_ == nullptr)) {
      event_active(connect_failure_event_.get(), EV_TIMEOUT, 0);
    }
  };
  fd_ = ::socket(to.sa()->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    fail_later("cannot create a socket: " + errno_text(errno));
    return;
  }
  const int one = 1;  // queries are small and latency-bound
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  read_event_.reset(event_new(loop_.base(), fd_, EV_READ | EV_PERSIST, &on_readable, this));
  write_event_.reset(event_new(loop_.base(), fd_, EV_WRITE | EV_PERSIST, &on_writable, this));
  flush_event_.reset(event_new(loop_.base(), -1, 0, &on_flush, this));
  ack_event_.reset(event_new(loop_.base(), -1, 0, &on_ack_due, this));
  if (ack_event_) event_priority_set(ack_event_.get(), EventLoop::kIdlePriority);
  if (!read_event_ || !write_event_ || !flush_event_ || !ack_event_) {
    fail_later("cannot create the socket's events");
    return;
  }
  if (::connect(fd_, to.sa(), static_cast<socklen_t>(to.length())) != 0 && errno != EINPROGRESS) {
    fail_later(errno_text(errno));
    return;
  }
  // Done or not (loopback may finish at once), the outcome is read when it is writable.
  watch_writable(true);
}

void TcpStream::on_connect_failure(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* stream = static_cast<TcpStream*>(self);
  stream->fail(StreamError::kConnectFailed, std::string(stream->connect_failure_));
}

void TcpStream::on_connect_result() {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    fail(StreamError::kConnectFailed, errno_text(err));
    return;
  }
  connected_ = true;
  watch_writable(false);
  event_add(read_event_.get(), nullptr);
  handler_->on_stream_connected();
  if (fd_ >= 0 && write_pending() > 0) schedule_flush();  // written before it was connected
}

void TcpStream::write(std::span<const std::uint8_t> bytes) {
  if (fd_ < 0 || bytes.empty()) return;
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  out_.insert(out_.end(), bytes.begin(), bytes.end());
  if (connected_ && !watching_writable_) schedule_flush();
}

void TcpStream::write_soon() {
  if (fd_ < 0 || !connected_) return;
  flush_hook_ = true;
  schedule_flush();
}

void TcpStream::acknowledge_soon() {
  if (fd_ < 0 || !connected_ || ack_wanted_) return;
  ack_wanted_ = true;
  // Not at this turn's end but when the loop runs out of work: busy, it soon sends queries
  // that carry the ACK, and a forced ACK per read cost 10-25 % of the miss rate on a Nagle
  // upstream (its answers coalesce into fewer, larger segments while it waits for ACKs).
  event_active(ack_event_.get(), EV_TIMEOUT, 0);
}

void TcpStream::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  event_active(flush_event_.get(), EV_TIMEOUT, 0);
}

void TcpStream::flush() {
  while (out_sent_ < out_.size()) {
    const ssize_t n =
        ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_sent_ += static_cast<std::size_t>(n);
      ack_wanted_ = false;  // this segment carries the ACK
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Keep what is left at the front, so a slow peer does not make the buffer creep.
      out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_sent_));
      out_sent_ = 0;
      watch_writable(true);
      return;
    }
    fail(StreamError::kReset, errno_text(errno));
    return;
  }
  out_.clear();
  out_sent_ = 0;
  watch_writable(false);
}

void TcpStream::watch_writable(bool on) {
  if (on == watching_writable_) return;
  watching_writable_ = on;
  if (on) {
    event_add(write_event_.get(), nullptr);
  } else {
    event_del(write_event_.get());
  }
}

void TcpStream::on_flush(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* stream = static_cast<TcpStream*>(self);
  if (stream->flush_hook_ && stream->handler_ != nullptr) {
    stream->flush_hook_ = false;
    stream->handler_->on_stream_flush();  // its writes join this flush, not another one
  }
  stream->flush_scheduled_ = false;
  if (stream->fd_ >= 0 && stream->connected_ && !stream->watching_writable_) stream->flush();
}

void TcpStream::on_ack_due(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* stream = static_cast<TcpStream*>(self);
  if (!std::exchange(stream->ack_wanted_, false) || stream->fd_ < 0) return;
  // Nothing was sent since acknowledge_soon(): the kernel would hold the ACK for data to ride
  // on, up to 40 ms; TCP_QUICKACK sends it now.
  const int one = 1;
  ::setsockopt(stream->fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  ++stream->acks_forced_;
}

void TcpStream::on_writable(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* stream = static_cast<TcpStream*>(self);
  if (stream->fd_ < 0) return;
  if (!stream->connected_) {
    stream->on_connect_result();
    return;
  }
  stream->watching_writable_ = true;  // flush() turns it off once everything is sent
  stream->flush();
}

void TcpStream::on_readable(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* stream = static_cast<TcpStream*>(self);
  for (int round = 0; round < kReadsPerWakeup && stream->fd_ >= 0; ++round) {
    const ssize_t n =
        ::recv(stream->fd_, stream->read_buffer_.data(), stream->read_buffer_.size(), MSG_DONTWAIT);
    if (n > 0) {
      stream->handler_->on_stream_data(
          std::span<const std::uint8_t>(stream->read_buffer_.data(), static_cast<std::size_t>(n)));
      if (static_cast<std::size_t>(n) < stream->read_buffer_.size()) return;  // drained
      continue;
    }
    if (n == 0) {
      stream->fail(StreamError::kEof, "connection closed by peer");
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      stream->fail(StreamError::kReset, errno_text(errno));
    return;
  }
}

void TcpStream::close() {
  // The events stay allocated until the destructor: close() may run inside their callbacks.
  for (EventPtr* ev :
       {&read_event_, &write_event_, &flush_event_, &ack_event_, &connect_failure_event_}) {
    if (*ev) event_del(ev->get());
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  handler_ = nullptr;
  connected_ = false;
  flush_scheduled_ = false;
  flush_hook_ = false;
  ack_wanted_ = false;
  watching_writable_ = false;
  out_.clear();
  out_sent_ = 0;
  connect_failure_.clear();
}

void TcpStream::fail(StreamError error, const std::string& detail) {
  Handler* handler = handler_;
  close();
  if (handler != nullptr) handler->on_stream_closed(error, detail);
}

}  // namespace dp::io
