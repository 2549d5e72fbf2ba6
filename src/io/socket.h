// Listening sockets for the workers: bound with SO_REUSEPORT so every worker has its own.
#pragma once

#include "common/socket_address.h"

namespace dp::io {

enum class SocketKind { kUdp, kTcp };

// A non-blocking, close-on-exec socket bound to `address` (port 0: the kernel picks; read it
// back with socket_local_address). TCP sockets are listening. Throws std::runtime_error with
// one line naming the address and errno's text on failure.
int socket_bind(const SocketAddress& address, SocketKind kind);

SocketAddress socket_local_address(int fd);

// Closes fd on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard();
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace dp::io
