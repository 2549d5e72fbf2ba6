// The ByteStream seam: an outgoing, connected byte stream (TCP to an upstream in production,
// scripted steps or an in-memory pipe in tests). Upstream connections speak only to this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/socket_address.h"

namespace dp::io {

enum class StreamError {
  kConnectFailed,  // refused, unreachable, timed out
  kReset,          // error after connecting
  kEof,            // the peer closed its side
};

// Owned by one upstream connection; callbacks run on its worker's thread and may not destroy
// the stream (the owner defers that).
class ByteStream {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_stream_connected() = 0;
    virtual void on_stream_data(std::span<const std::uint8_t> bytes) = 0;
    // Asked for by write_soon(): the last moment to write what this loop turn gathered.
    virtual void on_stream_flush() {}
    // No callback follows this one.
    virtual void on_stream_closed(StreamError error, const std::string& detail) = 0;
  };

  virtual ~ByteStream() = default;
  // Starts connecting; the outcome arrives through the handler, never from inside this call.
  virtual void connect(const SocketAddress& to, Handler& handler) = 0;
  virtual void write(std::span<const std::uint8_t> bytes) = 0;
  virtual std::size_t write_pending() const = 0;  // bytes not yet taken by the kernel
  // The handler will have more to write before this loop turn's bytes leave: calls
  // on_stream_flush() then (a stream that sends at once calls it at once).
  virtual void write_soon() = 0;
  // The peer may hold bytes back until what it sent is acknowledged (Nagle's algorithm, RFC
  // 896, meeting our delayed ACK, RFC 1122 §4.2.3.2): acknowledge at the end of this loop turn
  // unless the turn's writes carry the ACK anyway. A stream without ACKs does nothing.
  virtual void acknowledge_soon() {}
  // Closes at once; no callback follows.
  virtual void close() = 0;
};

}  // namespace dp::io
