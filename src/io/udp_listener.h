// A worker's UDP socket on one listen address: receives queries, sends replies.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/socket_address.h"
#include "io/event_loop.h"

namespace dp::io {

// Owned by its worker; the handler runs on the worker's thread, once per datagram.
class UdpListener {
 public:
  using Handler = std::function<void(std::span<const std::uint8_t>, const SocketAddress& from)>;

  // Takes ownership of fd (from socket_bind).
  UdpListener(EventLoop& loop, int fd, Handler handler);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Best effort, as UDP is: a full socket buffer drops the reply (counted).
  void send(std::span<const std::uint8_t> message, const SocketAddress& to);
  std::uint64_t send_failures() const { return send_failures_; }
  // Drain on shutdown: no more datagrams are read; replies can still be sent.
  void stop_reading();

 private:
  static void on_readable(int fd, short what, void* self) noexcept;
  void drain();

  int fd_;
  Handler handler_;
  EventPtr event_;
  std::vector<std::uint8_t> buffer_;  // reused for every datagram
  std::uint64_t send_failures_ = 0;
};

}  // namespace dp::io
