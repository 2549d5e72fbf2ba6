// TcpClientConnection under a StreamTransform (TLS): a libevent filter bufferevent whose input
// filter feeds the client's ciphertext to the transform and hands its plaintext to the DNS
// framing, and whose output filter encrypts our replies. The framing code sees plaintext only.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "io/tcp_client_connection.h"

namespace dp::io {
namespace {
// Ciphertext the socket's buffer may hold before the filter stops encrypting: the rest waits
// as plaintext in our output, which update_reading() bounds (max_output_bytes).
constexpr std::size_t kWireHighWater = std::size_t{64} * 1024;
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;  // one TLS record's plaintext at most

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}
}  // namespace

struct FilterHooks {
  static bufferevent* socket_of(const TcpClientConnection& conn) {
    return bufferevent_get_underlying(conn.bev_.get());
  }

  // Sends what the transform left for the client (handshake messages, records, alerts).
  static void wire_flush(TcpClientConnection& conn) {
    std::vector<std::uint8_t>& out = conn.transform_->output();
    if (out.empty()) return;
    bufferevent_write(socket_of(conn), out.data(), out.size());
    out.clear();
  }

  static bufferevent_filter_result input(evbuffer* wire, evbuffer* plain, ev_ssize_t /*limit*/,
                                         bufferevent_flush_mode /*mode*/, void* self) noexcept {
    auto& conn = *static_cast<TcpClientConnection*>(self);
    const std::size_t size = evbuffer_get_length(wire);
    if (conn.transform_failed_ || conn.finished_) {
      evbuffer_drain(wire, size);
      return BEV_ERROR;
    }
    if (size > 0) {
      conn.transform_->feed({evbuffer_pullup(wire, static_cast<ev_ssize_t>(size)), size});
      evbuffer_drain(wire, size);
    }
    if (!conn.established_) {
      const StreamTransform::Handshake step = conn.transform_->handshake();
      wire_flush(conn);
      if (step == StreamTransform::Handshake::kFailed) {
        conn.filter_failed(true);  // the alert goes out first
        return BEV_ERROR;
      }
      if (step == StreamTransform::Handshake::kNeedMore) return BEV_NEED_MORE;
      conn.established_ = true;
      conn.handshake_deadline_.cancel();  // from here on the idle and read timeouts apply
    }
    bool produced = false;
    std::array<std::uint8_t, kReadChunk> buf;
    for (;;) {
      const auto got = conn.transform_->read(buf);
      if (!got) {
        wire_flush(conn);
        conn.filter_failed(false);  // a bad record: nothing after it can be trusted
        return BEV_ERROR;
      }
      if (*got == 0) break;
      evbuffer_add(plain, buf.data(), *got);
      produced = true;
    }
    wire_flush(conn);
    return produced ? BEV_OK : BEV_NEED_MORE;
  }

  static bufferevent_filter_result output(evbuffer* plain, evbuffer* /*wire*/, ev_ssize_t limit,
                                          bufferevent_flush_mode /*mode*/, void* self) noexcept {
    auto& conn = *static_cast<TcpClientConnection*>(self);
    if (!conn.established_ || conn.transform_failed_ || conn.finished_) return BEV_NEED_MORE;
    std::size_t size = evbuffer_get_length(plain);
    if (limit > 0) size = std::min(size, static_cast<std::size_t>(limit));
    if (size == 0) return BEV_NEED_MORE;
    const bool written =
        conn.transform_->write({evbuffer_pullup(plain, static_cast<ev_ssize_t>(size)), size});
    evbuffer_drain(plain, size);
    wire_flush(conn);
    if (!written) {
      conn.filter_failed(false);
      return BEV_ERROR;
    }
    return BEV_OK;
  }

  // The socket's output changed: once its ciphertext is all out, a closing connection goes.
  static void wire_drained(evbuffer* buffer, const evbuffer_cb_info* info, void* self) noexcept {
    auto& conn = *static_cast<TcpClientConnection*>(self);
    if (info->n_deleted == 0 || evbuffer_get_length(buffer) != 0) return;
    if (conn.closing_ && !conn.finished_ && conn.in_flight_ == 0 && conn.output_pending() == 0) {
      conn.finish();
    }
  }
};

void TcpClientConnection::filter_install(std::unique_ptr<StreamTransform> transform) {
  transform_ = std::move(transform);
  BuffereventPtr socket_owner = std::move(bev_);
  bufferevent* socket = socket_owner.get();
  // The filter owns the socket's bufferevent (BEV_OPT_CLOSE_ON_FREE) and takes its callbacks.
  bev_.reset(bufferevent_filter_new(socket, &FilterHooks::input, &FilterHooks::output,
                                    BEV_OPT_CLOSE_ON_FREE, nullptr, this));
  if (bev_ == nullptr) throw std::runtime_error("libevent: cannot create a filter bufferevent");
  (void)socket_owner.release();  // the filter frees it now
  bufferevent_setwatermark(socket, EV_WRITE, 0, kWireHighWater);
  // A client that stops reading leaves ciphertext stuck in the socket's buffer: its write
  // timeout closes it as the idle timeout would (its read side is the filter's business).
  const timeval idle = to_timeval(limits_.idle_timeout);
  bufferevent_set_timeouts(socket, nullptr, &idle);
  evbuffer_add_cb(bufferevent_get_output(socket), &FilterHooks::wire_drained, this);
  // A client that connects and never finishes the handshake holds a slot for this long only.
  handshake_deadline_.arm(limits_.read_timeout);
}

void TcpClientConnection::filter_failed(bool flush_alert) {
  transform_failed_ = true;
  handshake_deadline_.cancel();  // failed, not late: counted once, by the transform
  if (flush_alert) {
    close_after_flush();  // finish() once the alert has left (bounded by the write timeout)
  } else {
    finish();
  }
}

std::size_t TcpClientConnection::output_pending() const {
  std::size_t pending = evbuffer_get_length(bufferevent_get_output(bev_.get()));
  if (transform_ != nullptr) {
    pending += evbuffer_get_length(bufferevent_get_output(FilterHooks::socket_of(*this)));
  }
  return pending;
}

}  // namespace dp::io
