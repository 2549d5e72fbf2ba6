#include "io/tcp_listener.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace dp::io {
namespace {
constexpr int kMaxAcceptsPerWakeup = 32;
}

TcpListener::TcpListener(EventLoop& loop, int fd, AcceptHandler on_accept)
    : fd_(fd), on_accept_(std::move(on_accept)) {
  event_.reset(event_new(loop.base(), fd_, EV_READ | EV_PERSIST, &TcpListener::on_readable, this));
  if (!event_ || event_add(event_.get(), nullptr) != 0) {
    ::close(fd_);
    throw std::runtime_error("libevent: cannot watch a TCP socket");
  }
}

TcpListener::~TcpListener() {
  event_.reset();
  ::close(fd_);
}

void TcpListener::on_readable(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* listener = static_cast<TcpListener*>(self);
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    SocketAddress peer;
    *peer.length_ptr() = SocketAddress::capacity();
    const int fd =
        ::accept4(listener->fd_, peer.sa(), peer.length_ptr(), SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or EMFILE: the backlog keeps the rest for later
    listener->on_accept_(fd, peer);
  }
}

}  // namespace dp::io
