#include "io/udp_listener.h"

#include <event2/event.h>
#include <unistd.h>

#include <stdexcept>

namespace dp::io {
namespace {
// A UDP query may be as large as a datagram. The buffer is not cleared: pages that no
// datagram reached are never touched, so they cost address space, not memory.
constexpr std::size_t kMaxDatagram = 65535;
constexpr int kBatchesPerWakeup = 2;  // let TCP and upstream events run in between
}  // namespace

UdpListener::UdpListener(EventLoop& loop, int fd, Handler handler)
    : fd_(fd),
      handler_(std::move(handler)),
      in_bytes_(std::make_unique_for_overwrite<std::uint8_t[]>(kBatch * kMaxDatagram)) {
  for (std::size_t i = 0; i < kBatch; ++i) {
    in_iov_[i] = iovec{in_bytes_.get() + i * kMaxDatagram, kMaxDatagram};
  }
  event_.reset(event_new(loop.base(), fd_, EV_READ | EV_PERSIST, &UdpListener::on_readable, this));
  flush_event_.reset(event_new(loop.base(), -1, 0, &UdpListener::on_flush, this));
  if (!event_ || !flush_event_ || event_add(event_.get(), nullptr) != 0) {
    ::close(fd_);
    throw std::runtime_error("libevent: cannot watch a UDP socket");
  }
}

UdpListener::~UdpListener() {
  flush();  // the last answers of a drain still leave
  event_.reset();
  flush_event_.reset();
  ::close(fd_);
}

void UdpListener::on_readable(int /*fd*/, short /*what*/, void* self) noexcept {
  static_cast<UdpListener*>(self)->drain();
}

void UdpListener::on_flush(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* listener = static_cast<UdpListener*>(self);
  listener->flush_pending_ = false;
  listener->flush();
}

void UdpListener::drain() {
  for (int round = 0; round < kBatchesPerWakeup; ++round) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      msghdr& h = in_headers_[i].msg_hdr;
      h = msghdr{};
      h.msg_name = in_from_[i].sa();
      h.msg_namelen = SocketAddress::capacity();
      h.msg_iov = &in_iov_[i];
      h.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd_, in_headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;  // EAGAIN, or an ICMP error queued on the socket: nothing to read
    batching_ = true;
    for (int i = 0; i < n; ++i) {
      *in_from_[i].length_ptr() = in_headers_[i].msg_hdr.msg_namelen;
      handler_(
          std::span<const std::uint8_t>(in_bytes_.get() + i * kMaxDatagram, in_headers_[i].msg_len),
          in_from_[i]);
    }
    batching_ = false;
    flush();
    if (static_cast<std::size_t>(n) < kBatch) return;  // the socket is empty
  }
}

void UdpListener::send(std::span<const std::uint8_t> message, const SocketAddress& to) {
  if (!batching_ && !flush_pending_) {
    flush_pending_ = true;
    event_active(flush_event_.get(), EV_TIMEOUT, 0);
  }
  if (out_count_ == kBatch) flush();  // a full batch leaves at once
  OutSlot& slot = out_[out_count_++];
  slot.bytes.assign(message.begin(), message.end());  // capacity is kept: no allocation
  slot.to = to;
}

void UdpListener::flush() {
  for (std::size_t i = 0; i < out_count_; ++i) {
    out_iov_[i] = iovec{out_[i].bytes.data(), out_[i].bytes.size()};
    msghdr& h = out_headers_[i].msg_hdr;
    h = msghdr{};
    h.msg_name = const_cast<sockaddr*>(out_[i].to.sa());  // NOLINT: sendmmsg does not write it
    h.msg_namelen = out_[i].to.length();
    h.msg_iov = &out_iov_[i];
    h.msg_iovlen = 1;
  }
  std::size_t sent = 0;
  while (sent < out_count_) {
    const int n = ::sendmmsg(fd_, out_headers_.data() + sent,
                             static_cast<unsigned>(out_count_ - sent), MSG_DONTWAIT);
    if (n <= 0) {
      ++send_failures_;  // this one reply is lost (full buffer, unreachable): try the rest
      ++sent;
    } else {
      sent += static_cast<std::size_t>(n);
    }
  }
  out_count_ = 0;
}

void UdpListener::stop_reading() { event_del(event_.get()); }

}  // namespace dp::io
