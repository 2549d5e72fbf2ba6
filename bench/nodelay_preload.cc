// LD_PRELOAD shim for scripts/bench-macro's upstream (Unbound): sets TCP_NODELAY on every
// socket it accepts. Unbound 1.17 leaves Nagle's algorithm on for its DoT clients, so with
// queries pipelined on one connection at a moderate rate an answer waits for the client's
// (delayed) ACK of the previous one: latency that is the upstream's, ~1/rate, not the
// forwarder's. Most public DoT servers send without delay; so does the upstream with this.
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

void set_nodelay(int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails on non-TCP: fine
}

}  // namespace

extern "C" int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  using Fn = int (*)(int, sockaddr*, socklen_t*, int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "accept4"));
  int s = real(fd, addr, len, flags);
  if (s >= 0) set_nodelay(s);
  return s;
}

extern "C" int accept(int fd, sockaddr* addr, socklen_t* len) {
  using Fn = int (*)(int, sockaddr*, socklen_t*);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "accept"));
  int s = real(fd, addr, len);
  if (s >= 0) set_nodelay(s);
  return s;
}
