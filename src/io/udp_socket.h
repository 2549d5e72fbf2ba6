// DatagramSocket over a connected, non-blocking UDP socket on the worker's libevent loop. One
// per upstream query: bound to port 0 when it connects, so the kernel gives each query its own
// random source port (RFC 5452 §9.2), and connected, so only the server's datagrams arrive.
#pragma once

#include <memory>
#include <string>

#include "io/datagram_socket.h"
#include "io/event_loop.h"

namespace dp::io {

// Owned by its query (upstream::UdpConnection); callbacks run on the loop's thread.
class UdpSocket final : public DatagramSocket {
 public:
  // A socket connected to `to` and watched for datagrams, or why not (the system's words).
  [[nodiscard]] static Result<std::unique_ptr<DatagramSocket>, std::string> open(
      EventLoop& loop, const SocketAddress& to, Handler& handler);
  ~UdpSocket() override;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  [[nodiscard]] Result<void, std::string> send(std::span<const std::uint8_t> bytes) override;
  SocketAddress local_address() const override;
  void close() override;

 private:
  UdpSocket(int fd, Handler& handler) : fd_(fd), handler_(&handler) {}
  static void on_readable(int fd, short what, void* self) noexcept;

  int fd_;
  Handler* handler_;
  EventPtr read_event_;
};

}  // namespace dp::io
