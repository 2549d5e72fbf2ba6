#include "io/tcp_stream.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstring>

namespace dp::io {
namespace {
constexpr std::size_t kReadChunk = 16 * 1024 + 512;  // one TLS record and its overhead
}

TcpStream::TcpStream(EventLoop& loop) : loop_(loop), read_buffer_(kReadChunk) {}

TcpStream::~TcpStream() { close(); }

void TcpStream::connect(const SocketAddress& to, Handler& handler) {
  handler_ = &handler;
  bev_ = bufferevent_socket_new(loop_.base(), -1, BEV_OPT_CLOSE_ON_FREE);
  if (bev_ == nullptr) {
    // Reported from the loop, never from inside connect(): the caller is mid-setup.
    loop_.defer([this] { fail(StreamError::kConnectFailed, "cannot create a socket"); });
    return;
  }
  bufferevent_setcb(bev_, &TcpStream::on_read, nullptr, &TcpStream::on_event, this);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  if (bufferevent_socket_connect(bev_, to.sa(), static_cast<int>(to.length())) != 0) {
    const std::string why = std::strerror(errno);
    loop_.defer([this, why] { fail(StreamError::kConnectFailed, why); });
  }
}

void TcpStream::write(std::span<const std::uint8_t> bytes) {
  if (bev_ != nullptr) bufferevent_write(bev_, bytes.data(), bytes.size());
}

std::size_t TcpStream::write_pending() const {
  return bev_ != nullptr ? evbuffer_get_length(bufferevent_get_output(bev_)) : 0;
}

void TcpStream::close() {
  if (bev_ != nullptr) {
    bufferevent_free(bev_);
    bev_ = nullptr;
  }
  handler_ = nullptr;
}

void TcpStream::fail(StreamError error, const std::string& detail) {
  Handler* handler = handler_;
  close();
  if (handler != nullptr) handler->on_stream_closed(error, detail);
}

void TcpStream::on_read(bufferevent* bev, void* self) noexcept {
  auto* stream = static_cast<TcpStream*>(self);
  evbuffer* input = bufferevent_get_input(bev);
  while (stream->handler_ != nullptr && evbuffer_get_length(input) > 0) {
    const int n = evbuffer_remove(input, stream->read_buffer_.data(), stream->read_buffer_.size());
    if (n <= 0) break;
    stream->handler_->on_stream_data(
        std::span<const std::uint8_t>(stream->read_buffer_.data(), static_cast<std::size_t>(n)));
  }
}

void TcpStream::on_event(bufferevent* bev, short what, void* self) noexcept {
  auto* stream = static_cast<TcpStream*>(self);
  if ((what & BEV_EVENT_CONNECTED) != 0) {
    stream->connected_ = true;
    const int one = 1;  // queries are small and latency-bound
    setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (stream->handler_ != nullptr) stream->handler_->on_stream_connected();
    return;
  }
  if ((what & BEV_EVENT_EOF) != 0) {
    stream->fail(StreamError::kEof, "connection closed by peer");
    return;
  }
  const int err = EVUTIL_SOCKET_ERROR();
  const std::string detail = err != 0 ? std::strerror(err) : "socket error";
  stream->fail(stream->connected_ ? StreamError::kReset : StreamError::kConnectFailed, detail);
}

}  // namespace dp::io
