#include "io/udp_socket.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace dp::io {
namespace {
constexpr std::size_t kMaxDatagram = 65535;
constexpr int kReadsPerWakeup = 4;  // a server may repeat itself; then others get their turn

std::string errno_text(const char* step, int err) {
  return std::string(step) + ": " + std::strerror(err);
}

// Shared by every socket of the thread: a datagram is handed on before the next is read, so
// 64 KiB per thread serve all queries in flight, not 64 KiB each.
std::vector<std::uint8_t>& read_buffer() {
  thread_local std::vector<std::uint8_t> buffer(kMaxDatagram);
  return buffer;
}
}  // namespace

Result<std::unique_ptr<DatagramSocket>, std::string> UdpSocket::open(EventLoop& loop,
                                                                     const SocketAddress& to,
                                                                     Handler& handler) {
  const int fd = ::socket(to.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return unexpected(errno_text("socket", errno));
  std::unique_ptr<UdpSocket> socket(new UdpSocket(fd, handler));
  // No bind(): connect() binds port 0, and Linux picks ephemeral UDP ports at random.
  if (::connect(fd, to.sa(), to.length()) != 0) return unexpected(errno_text("connect", errno));
  socket->read_event_.reset(
      event_new(loop.base(), fd, EV_READ | EV_PERSIST, &UdpSocket::on_readable, socket.get()));
  if (!socket->read_event_ || event_add(socket->read_event_.get(), nullptr) != 0) {
    return unexpected(std::string("libevent: cannot watch a UDP socket"));
  }
  return std::unique_ptr<DatagramSocket>(std::move(socket));
}

UdpSocket::~UdpSocket() { close(); }

Result<void, std::string> UdpSocket::send(std::span<const std::uint8_t> bytes) {
  if (fd_ < 0) return unexpected(std::string("socket closed"));
  for (;;) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return {};
    if (errno != EINTR) return unexpected(errno_text("send", errno));
  }
}

SocketAddress UdpSocket::local_address() const {
  SocketAddress out;
  *out.length_ptr() = SocketAddress::capacity();
  if (fd_ < 0 || ::getsockname(fd_, out.sa(), out.length_ptr()) != 0) return {};
  return out;
}

void UdpSocket::close() {
  // The event stays allocated until the destructor: close() may run inside its callback.
  if (read_event_) event_del(read_event_.get());
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void UdpSocket::on_readable(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* socket = static_cast<UdpSocket*>(self);
  std::vector<std::uint8_t>& buffer = read_buffer();
  for (int round = 0; round < kReadsPerWakeup && socket->fd_ >= 0; ++round) {
    const ssize_t n = ::recv(socket->fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n >= 0) {
      socket->handler_->on_datagram(
          *socket, std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    // A connected UDP socket reports the ICMP errors its datagrams drew (ECONNREFUSED...).
    socket->handler_->on_datagram_error(*socket, errno_text("recv", errno));
  }
}

}  // namespace dp::io
