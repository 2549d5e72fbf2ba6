// A worker's TCP acceptor on one listen address.
#pragma once

#include <functional>

#include "common/socket_address.h"
#include "io/event_loop.h"

namespace dp::io {

// Owned by its worker; on_accept runs on the worker's thread with a connected, non-blocking fd
// that the callee now owns.
class TcpListener {
 public:
  using AcceptHandler = std::function<void(int fd, const SocketAddress& peer)>;

  // Takes ownership of fd (a listening socket from socket_bind).
  TcpListener(EventLoop& loop, int fd, AcceptHandler on_accept);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

 private:
  static void on_readable(int fd, short what, void* self) noexcept;

  int fd_;
  AcceptHandler on_accept_;
  EventPtr event_;
};

}  // namespace dp::io
