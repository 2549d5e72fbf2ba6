#include "io/udp_listener.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace dp::io {
namespace {
constexpr std::size_t kMaxDatagram = 65535;
constexpr int kMaxDatagramsPerWakeup = 64;  // let TCP and upstream events run in between
}  // namespace

UdpListener::UdpListener(EventLoop& loop, int fd, Handler handler)
    : fd_(fd), handler_(std::move(handler)), buffer_(kMaxDatagram) {
  event_.reset(event_new(loop.base(), fd_, EV_READ | EV_PERSIST, &UdpListener::on_readable, this));
  if (!event_ || event_add(event_.get(), nullptr) != 0) {
    ::close(fd_);
    throw std::runtime_error("libevent: cannot watch a UDP socket");
  }
}

UdpListener::~UdpListener() {
  event_.reset();
  ::close(fd_);
}

void UdpListener::on_readable(int /*fd*/, short /*what*/, void* self) noexcept {
  static_cast<UdpListener*>(self)->drain();
}

void UdpListener::drain() {
  for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
    SocketAddress from;
    *from.length_ptr() = SocketAddress::capacity();
    const ssize_t n = ::recvfrom(fd_, buffer_.data(), buffer_.size(), 0, from.sa(),
                                 from.length_ptr());
    if (n < 0) return;  // EAGAIN, or an ICMP error queued on the socket: nothing to read
    handler_(std::span<const std::uint8_t>(buffer_.data(), static_cast<std::size_t>(n)), from);
  }
}

void UdpListener::send(std::span<const std::uint8_t> message, const SocketAddress& to) {
  const ssize_t n = ::sendto(fd_, message.data(), message.size(), MSG_DONTWAIT, to.sa(),
                             to.length());
  if (n < 0) ++send_failures_;
}

void UdpListener::stop_reading() { event_del(event_.get()); }

}  // namespace dp::io
