// The seam between a client connection and TLS: a sans-IO transform of its byte stream
// (ciphertext from the client in, plaintext for the DNS framing out, and back). io runs it
// inside a libevent filter and never sees GnuTLS; proxy implements it over tls::ServerSession.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace dp::io {

// Owned by one TcpClientConnection, called on its worker's thread from its filter callbacks.
class StreamTransform {
 public:
  enum class Handshake { kDone, kNeedMore, kFailed };

  virtual ~StreamTransform() = default;
  virtual void feed(std::span<const std::uint8_t> wire) = 0;  // bytes the client sent
  virtual void feed_eof() = 0;                                // the client closed its side
  // Advances the handshake; once kDone, plaintext flows both ways. kFailed is final.
  virtual Handshake handshake() = 0;
  // Plaintext into buf: its size, 0 when no whole record is buffered, nullopt when the peer
  // closed the session or it failed.
  virtual std::optional<std::size_t> read(std::span<std::uint8_t> buf) = 0;
  // Plaintext to send; false when the session failed.
  virtual bool write(std::span<const std::uint8_t> plaintext) = 0;
  // Bytes for the client (handshake, records, alerts); the connection sends and clears them.
  virtual std::vector<std::uint8_t>& output() = 0;
  // The connection gave up before the handshake was done (deadline, or the client left).
  virtual void abandoned(bool timed_out) = 0;
};

}  // namespace dp::io
