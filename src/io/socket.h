// Listening sockets for the workers: bound with SO_REUSEPORT so every worker has its own.
#pragma once

#include <stdexcept>
#include <string>

#include "common/socket_address.h"

namespace dp::io {

enum class SocketKind { kUdp, kTcp };

// One line naming the step, the address and errno's text; code() is that errno.
class SocketError : public std::runtime_error {
 public:
  SocketError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// A non-blocking, close-on-exec socket bound to `address` (port 0: the kernel picks; read it
// back with socket_local_address). TCP sockets are listening. Throws SocketError.
int socket_bind(const SocketAddress& address, SocketKind kind);

// A UDP and a listening TCP socket on one port. Port 0: the kernel picks a free TCP port and
// UDP takes the same number; when another program holds that number for UDP (SO_REUSEPORT or
// not: sharing would split the datagrams), a fresh pick, up to kPortPicks (the TCP sockets turned
// down stay open until the end, so that none is picked twice). `address` gets the port bound.
// Throws SocketError.
struct SocketPair {
  int udp_fd = -1;
  int tcp_fd = -1;
};
inline constexpr int kPortPicks = 16;
SocketPair socket_pair_bind(SocketAddress& address);

SocketAddress socket_local_address(int fd);

// Closes fd on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard();
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  FdGuard(FdGuard&& other) noexcept : fd_(other.release()) {}
  FdGuard& operator=(FdGuard&&) = delete;
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
