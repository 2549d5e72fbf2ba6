#include "io/tcp_client_connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <unistd.h>

#include <stdexcept>

namespace dp::io {
namespace {
timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}
}  // namespace

void bufferevent_free_fn(bufferevent* bev) noexcept { bufferevent_free(bev); }

TcpClientConnection::TcpClientConnection(EventLoop& loop, int fd, std::uint64_t id,
                                         const SocketAddress& peer, const TcpClientLimits& limits,
                                         Handler& handler,
                                         std::unique_ptr<StreamTransform> transform)
    : id_(id),
      peer_(peer),
      limits_(limits),
      handler_(handler),
      read_deadline_(loop, [this] { finish(); }),
      handshake_deadline_(loop, [this] {
        transform_failed_ = true;
        transform_->abandoned(true);
        finish();
      }) {
  bev_.reset(bufferevent_socket_new(loop.base(), fd, BEV_OPT_CLOSE_ON_FREE));
  if (bev_ == nullptr) {
    ::close(fd);
    throw std::runtime_error("libevent: cannot create a bufferevent");
  }
  if (transform != nullptr) filter_install(std::move(transform));
  bufferevent_setcb(bev_.get(), &TcpClientConnection::on_read, &TcpClientConnection::on_write,
                    &TcpClientConnection::on_event, this);
  const timeval idle = to_timeval(limits_.idle_timeout);
  bufferevent_set_timeouts(bev_.get(), &idle, &idle);
  bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
}

void TcpClientConnection::on_read(bufferevent* /*bev*/, void* self) noexcept {
  static_cast<TcpClientConnection*>(self)->read_messages();
}

void TcpClientConnection::on_write(bufferevent* /*bev*/, void* self) noexcept {
  auto* conn = static_cast<TcpClientConnection*>(self);
  // Called when the output has drained: a closing connection can go now.
  if (conn->closing_ && conn->in_flight_ == 0) {
    if (conn->output_pending() == 0) conn->finish();  // else once the ciphertext is out
    return;
  }
  conn->resume();
}

void TcpClientConnection::on_event(bufferevent* /*bev*/, short what, void* self) noexcept {
  auto* conn = static_cast<TcpClientConnection*>(self);
  if ((what & BEV_EVENT_TIMEOUT) != 0 && (what & BEV_EVENT_READING) != 0 && conn->in_flight_ > 0 &&
      !conn->closing_) {
    // Not idle: the client waits for answers still on their way. libevent disabled reading
    // on the timeout; turn it back on.
    conn->update_reading();
    return;
  }
  if ((what & BEV_EVENT_EOF) != 0 && conn->in_flight_ > 0) {
    // RFC 7766 §6.2.2 allows a client to half-close after its last query: answer it first.
    conn->closing_ = true;
    bufferevent_disable(conn->bev_.get(), EV_READ);
    return;
  }
  conn->finish();  // idle, error, reset, or EOF with nothing owed
}

void TcpClientConnection::read_messages() {
  if (reading_) return;  // a reply sent from inside the handler: the loop below goes on
  reading_ = true;
  evbuffer* input = bufferevent_get_input(bev_.get());
  // The output bound is checked per query, not per read: answers sent from inside the handler
  // (cache hits) would otherwise pile up for every query one read brought in.
  while (!closing_ && !finished_ && in_flight_ < limits_.max_in_flight && !output_full()) {
    const std::size_t available = evbuffer_get_length(input);
    if (available < 2) break;
    std::uint8_t prefix[2];
    evbuffer_copyout(input, prefix, 2);
    const std::size_t length = (std::size_t{prefix[0]} << 8) | prefix[1];
    if (length == 0) {  // not a DNS message; the stream cannot be trusted after it
      closing_ = true;
      break;
    }
    if (available < 2 + length) break;
    // Copied out before the handler runs, so nothing it does can touch the input buffer.
    message_.resize(length);
    evbuffer_drain(input, 2);
    evbuffer_remove(input, message_.data(), length);
    ++in_flight_;
    handler_.on_client_message(*this, message_);
  }
  reading_ = false;
  if (finished_) return;
  watch_partial_query();
  if (closing_ && in_flight_ == 0 && output_pending() == 0) {
    finish();
    return;
  }
  update_reading();
}

void TcpClientConnection::watch_partial_query() {
  // The idle timeout restarts with every byte; this one does not, so a client sending a
  // query one byte at a time cannot hold the connection (and its slot) for ever.
  evbuffer* input = bufferevent_get_input(bev_.get());
  const std::size_t available = evbuffer_get_length(input);
  bool partial = available > 0;
  if (available >= 2) {  // a whole query waiting for an in-flight slot is not slow input
    std::uint8_t prefix[2];
    evbuffer_copyout(input, prefix, 2);
    partial = available < 2 + ((std::size_t{prefix[0]} << 8) | prefix[1]);
  }
  if (partial && !read_deadline_.armed()) {
    read_deadline_.arm(limits_.read_timeout);
  } else if (!partial) {
    read_deadline_.cancel();
  }
}

void TcpClientConnection::update_reading() {
  if (finished_) return;
  if (closing_ || output_full() || in_flight_ >= limits_.max_in_flight) {
    bufferevent_disable(bev_.get(), EV_READ);
  } else {
    bufferevent_enable(bev_.get(), EV_READ);
  }
}

bool TcpClientConnection::output_full() const {
  return evbuffer_get_length(bufferevent_get_output(bev_.get())) > limits_.max_output_bytes;
}

void TcpClientConnection::resume() {
  update_reading();
  // on_read fires only for new bytes: queries that arrived while reading was paused are
  // already buffered and would wait for the next packet otherwise.
  if (!finished_ && !closing_ && in_flight_ < limits_.max_in_flight && !output_full() &&
      evbuffer_get_length(bufferevent_get_input(bev_.get())) >= 2) {
    read_messages();
  }
}

void TcpClientConnection::send(std::span<const std::uint8_t> reply) {
  if (in_flight_ > 0) --in_flight_;
  if (finished_) return;
  const std::uint8_t prefix[2] = {static_cast<std::uint8_t>(reply.size() >> 8),
                                  static_cast<std::uint8_t>(reply.size() & 0xff)};
  if (transform_ != nullptr) {
    // One write, so the filter makes one TLS record of prefix and message, not two.
    framed_.assign(prefix, prefix + 2);
    framed_.insert(framed_.end(), reply.begin(), reply.end());
    bufferevent_write(bev_.get(), framed_.data(), framed_.size());
  } else {
    bufferevent_write(bev_.get(), prefix, 2);
    bufferevent_write(bev_.get(), reply.data(), reply.size());
  }
  resume();
}

void TcpClientConnection::finish_without_reply() {
  if (in_flight_ > 0) --in_flight_;
  if (finished_) return;
  if (closing_ && in_flight_ == 0 && output_pending() == 0) {
    finish();
    return;
  }
  resume();
}

void TcpClientConnection::close_after_flush() {
  closing_ = true;
  bufferevent_disable(bev_.get(), EV_READ);
  if (in_flight_ == 0 && output_pending() == 0) finish();
}

void TcpClientConnection::finish() {
  if (finished_) return;
  finished_ = true;
  read_deadline_.cancel();
  handshake_deadline_.cancel();
  if (transform_ != nullptr && !established_ && !transform_failed_) transform_->abandoned(false);
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  handler_.on_client_closed(*this);
}

}  // namespace dp::io
