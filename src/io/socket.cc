#include "io/socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace dp::io {
namespace {
constexpr int kListenBacklog = 1024;
constexpr int kUdpBufferBytes = 4 * 1024 * 1024;  // absorb bursts while the worker is busy

[[noreturn]] void fail(const SocketAddress& address, SocketKind kind, const char* step) {
  const int code = errno;
  throw SocketError(std::string("cannot ") + step + " " +
                        (kind == SocketKind::kUdp ? "UDP " : "TCP ") + address.to_string() + ": " +
                        std::strerror(code),
                    code);
}
// Port 0 only: the picked port must be nobody's for UDP. A bind with SO_REUSEPORT (ours) would
// succeed beside another program's SO_REUSEPORT socket of the same user and share its
// datagrams; a probe without it fails when anyone holds the port. Throws as the bind would.
void udp_port_free_check(const SocketAddress& address) {
  FdGuard probe(::socket(address.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) return;  // the real bind says what is wrong
  const int one = 1;
  if (address.family() == AF_INET6) {
    setsockopt(probe.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (::bind(probe.get(), address.sa(), address.length()) != 0 && errno == EADDRINUSE) {
    fail(address, SocketKind::kUdp, "bind");
  }
}

}  // namespace

FdGuard::~FdGuard() {
  if (fd_ >= 0) ::close(fd_);
}

int socket_bind(const SocketAddress& address, SocketKind kind) {
  const int type =
      (kind == SocketKind::kUdp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  FdGuard fd(::socket(address.family(), type, 0));
  if (fd.get() < 0) fail(address, kind, "create a socket for");
  const int one = 1;
  // Each worker binds its own socket on the same address; the kernel spreads the load.
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    fail(address, kind, "set socket options on");
  }
  if (address.family() == AF_INET6) {
    // [::]:53 must not swallow 0.0.0.0:53, which may be listed separately.
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (kind == SocketKind::kUdp) {
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &kUdpBufferBytes, sizeof kUdpBufferBytes);
  }
  if (::bind(fd.get(), address.sa(), address.length()) != 0) fail(address, kind, "bind");
  if (kind == SocketKind::kTcp && ::listen(fd.get(), kListenBacklog) != 0) {
    fail(address, kind, "listen on");
  }
  return fd.release();
}

SocketPair socket_pair_bind(SocketAddress& address) {
  const bool any_port = address.port() == 0;
  std::vector<FdGuard> turned_down;  // closed on return: held so the kernel picks another
  for (int pick = 1;; ++pick) {
    FdGuard tcp(socket_bind(address, SocketKind::kTcp));
    SocketAddress bound = address;
    if (any_port) bound.set_port(socket_local_address(tcp.get()).port());
    try {
      if (any_port) udp_port_free_check(bound);
      const int udp = socket_bind(bound, SocketKind::kUdp);
      address = bound;
      return SocketPair{udp, tcp.release()};
    } catch (const SocketError& error) {
      if (!any_port || error.code() != EADDRINUSE || pick == kPortPicks) throw;
      turned_down.emplace_back(tcp.release());
    }
  }
}

SocketAddress socket_local_address(int fd) {
  SocketAddress out;
  *out.length_ptr() = SocketAddress::capacity();
  if (getsockname(fd, out.sa(), out.length_ptr()) != 0) return {};
  return out;
}

}  // namespace dp::io
