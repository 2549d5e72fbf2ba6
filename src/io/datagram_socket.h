// The DatagramSocket seam: a UDP socket connected to one server, for one upstream query (a
// real loopback or network socket in production, scripted fakes in tests).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "common/socket_address.h"

namespace dp::io {

// Owned by one upstream UDP query; callbacks run on its worker's thread and may not destroy
// the socket (the owner closes it and defers the delete).
class DatagramSocket {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // One datagram from the address the socket is connected to: the kernel drops the others.
    virtual void on_datagram(DatagramSocket& socket, std::span<const std::uint8_t> bytes) = 0;
    // An error queued on the socket, such as an ICMP port unreachable (RFC 1122 §4.1.3.3).
    // The socket stays open.
    virtual void on_datagram_error(DatagramSocket& socket, const std::string& detail) = 0;
  };

  virtual ~DatagramSocket() = default;
  // One datagram to the connected address, now. Its text says why not; nothing calls back.
  [[nodiscard]] virtual Result<void, std::string> send(std::span<const std::uint8_t> bytes) = 0;
  // The address the kernel gave it (its port chosen at random, RFC 6056).
  virtual SocketAddress local_address() const = 0;
  // Closes at once; no callback follows.
  virtual void close() = 0;
};

}  // namespace dp::io
