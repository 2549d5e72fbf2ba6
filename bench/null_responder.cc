// null_responder: the floor for scripts/bench-macro. Answers every DNS message by echoing it
// with QR set, over UDP (recvmmsg/sendmmsg, up to 64 per call) and over TCP (2-byte length
// framing, RFC 1035 §4.2.2) on the same port, in one thread. No parsing, no cache: what it costs
// per answer is the kernel's share, which no real server can go below.
//
//   null_responder [--address 127.0.0.1] [--port 0]   prints "listening ADDR:PORT" when ready
//
// Bounds: 1024 TCP connections, 64 KiB of unsent replies per connection (past that it stops
// reading from that client until the client reads). Benchmark-only; not part of dotproxy.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

constexpr int kBatch = 64;                    // datagrams per recvmmsg/sendmmsg
constexpr size_t kMaxDatagram = 4096;         // larger queries are truncated, still echoed
constexpr size_t kMaxConnections = 1024;      // TCP clients at once
constexpr size_t kMaxPendingOut = 64 * 1024;  // unsent replies per TCP client before pausing

volatile std::sig_atomic_t g_stop = 0;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "null_responder: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void flip_qr(uint8_t* msg, size_t len) {
  if (len > 2) msg[2] |= 0x80;  // byte 2 bit 7 is QR: a query becomes its own answer
}

// One TCP client: bytes read but not yet a whole frame, and replies not yet written.
struct TcpClient {
  std::vector<uint8_t> in;
  std::vector<uint8_t> out;
  size_t out_sent = 0;
  uint32_t events = EPOLLIN;  // what epoll waits for on this client now
};

class Responder {
 public:
  Responder(const char* address, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
      std::fprintf(stderr, "null_responder: bad address %s\n", address);
      std::exit(2);
    }
    // TCP first: with port 0 the kernel picks a port, and UDP then binds the same number.
    tcp_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (tcp_ < 0) die("socket tcp");
    int one = 1;
    setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(tcp_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("bind tcp");
    if (listen(tcp_, 1024) != 0) die("listen");
    socklen_t len = sizeof sa;
    getsockname(tcp_, reinterpret_cast<sockaddr*>(&sa), &len);
    udp_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (udp_ < 0) die("socket udp");
    int buf = 4 << 20;  // room for bursts from an unthrottled dnsperf
    setsockopt(udp_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(udp_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (bind(udp_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("bind udp");
    port_ = ntohs(sa.sin_port);

    ep_ = epoll_create1(0);
    if (ep_ < 0) die("epoll_create1");
    add(udp_, EPOLLIN);
    add(tcp_, EPOLLIN);
    for (int i = 0; i < kBatch; ++i) {
      iov_[i] = {bufs_[i].data(), kMaxDatagram};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }

  uint16_t port() const { return port_; }

  void run() {
    std::array<epoll_event, 64> events{};
    while (!g_stop) {
      int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 500);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == udp_) {
          serve_udp();
        } else if (fd == tcp_) {
          accept_all();
        } else {
          serve_tcp(fd, events[i].events);
        }
      }
    }
  }

 private:
  void add(int fd, uint32_t ev) {
    epoll_event e{};
    e.events = ev;
    e.data.fd = fd;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e) != 0) die("epoll_ctl add");
  }

  void modify(int fd, uint32_t ev) {
    epoll_event e{};
    e.events = ev;
    e.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &e);
  }

  // Drains the socket: every datagram read is sent straight back to where it came from.
  void serve_udp() {
    for (int rounds = 0; rounds < 64; ++rounds) {  // then let TCP clients have a turn
      for (int i = 0; i < kBatch; ++i) {
        msgs_[i].msg_hdr.msg_name = &peers_[i];
        msgs_[i].msg_hdr.msg_namelen = sizeof peers_[i];
        iov_[i].iov_len = kMaxDatagram;
      }
      int n = recvmmsg(udp_, msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;
      for (int i = 0; i < n; ++i) {
        flip_qr(bufs_[i].data(), msgs_[i].msg_len);
        iov_[i].iov_len = msgs_[i].msg_len;
      }
      for (int sent = 0; sent < n;) {
        int m = sendmmsg(udp_, msgs_.data() + sent, n - sent, 0);
        if (m <= 0) break;  // a full send buffer drops the rest, as a busy server would
        sent += m;
      }
      if (n < kBatch) return;
    }
  }

  void accept_all() {
    for (;;) {
      int fd = accept4(tcp_, nullptr, nullptr, SOCK_NONBLOCK);
      if (fd < 0) return;
      if (clients_.size() >= kMaxConnections) {
        close(fd);
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      clients_.emplace(fd, std::make_unique<TcpClient>());
      add(fd, EPOLLIN);
    }
  }

  void drop(int fd) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    clients_.erase(fd);
  }

  void serve_tcp(int fd, uint32_t ev) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    TcpClient& c = *it->second;
    if (ev & (EPOLLERR | EPOLLHUP)) return drop(fd);
    if ((ev & EPOLLIN) && c.out.size() - c.out_sent < kMaxPendingOut) {
      uint8_t buf[16384];
      for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0) return drop(fd);
        if (r < 0) {
          if (errno == EAGAIN || errno == EINTR) break;
          return drop(fd);
        }
        c.in.insert(c.in.end(), buf, buf + r);
        if (static_cast<size_t>(r) < sizeof buf) break;
      }
      // Every whole frame is echoed into the output buffer with QR set.
      size_t pos = 0;
      while (c.in.size() - pos >= 2) {
        size_t len = (size_t{c.in[pos]} << 8) | c.in[pos + 1];
        if (c.in.size() - pos - 2 < len) break;
        size_t at = c.out.size();
        c.out.insert(c.out.end(), c.in.begin() + pos, c.in.begin() + pos + 2 + len);
        flip_qr(c.out.data() + at + 2, len);
        pos += 2 + len;
      }
      c.in.erase(c.in.begin(), c.in.begin() + pos);
    }
    while (c.out_sent < c.out.size()) {
      ssize_t w = write(fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return drop(fd);
      }
      c.out_sent += w;
    }
    if (c.out_sent == c.out.size()) {
      c.out.clear();
      c.out_sent = 0;
    }
    uint32_t events = c.out.empty() ? 0u : uint32_t{EPOLLOUT};
    if (c.out.size() - c.out_sent < kMaxPendingOut) events |= EPOLLIN;
    if (events != c.events) {
      c.events = events;
      modify(fd, events);
    }
  }

  int udp_ = -1;
  int tcp_ = -1;
  int ep_ = -1;
  uint16_t port_ = 0;
  std::array<std::array<uint8_t, kMaxDatagram>, kBatch> bufs_{};
  std::array<iovec, kBatch> iov_{};
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<sockaddr_in, kBatch> peers_{};
  std::unordered_map<int, std::unique_ptr<TcpClient>> clients_;
};

}  // namespace

int main(int argc, char** argv) {
  const char* address = "127.0.0.1";
  long port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--address" && i + 1 < argc) {
      address = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: null_responder [--address 127.0.0.1] [--port 0]\n");
      return 2;
    }
  }
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "null_responder: bad port\n");
    return 2;
  }
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  auto responder = std::make_unique<Responder>(address, static_cast<uint16_t>(port));
  std::printf("listening %s:%u\n", address, static_cast<unsigned>(responder->port()));
  std::fflush(stdout);
  responder->run();
  return 0;
}
