// What the pool sees of one way to a server: the pipelined stream (DoT or plain TCP) or the
// UDP connection. Both keep their queries by DNS ID and answer through the same listener.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "dns/message.h"
#include "io/byte_stream.h"
#include "io/datagram_socket.h"
#include "upstream/upstream.h"

namespace dp::upstream {

// Connecting → Handshaking → Ready → Closed. Queries sent before Ready wait in the
// connection and go out the moment it is Ready. Plain TCP skips Handshaking; UDP is Ready at
// once.
enum class ConnectionState {
  kConnecting,   // TCP connect in progress
  kHandshaking,  // TLS handshake in progress; nothing sent in clear, ever
  kReady,        // queries flow
  kClosed,       // failed or closed; the owner destroys it (EventLoop::defer_delete)
};

// Makes the byte stream for a new stream connection (TCP in production, fakes in tests).
using StreamFactory = std::function<std::unique_ptr<io::ByteStream>()>;
// Makes the connected socket for one UDP query (io::UdpSocket in production, fakes in tests),
// or says why it cannot.
using DatagramFactory = std::function<Result<std::unique_ptr<io::DatagramSocket>, std::string>(
    const SocketAddress& to, io::DatagramSocket::Handler& handler)>;

struct ConnectionFailure {
  UpstreamError error;
  std::string detail;                  // for the log line: GnuTLS's or the socket's words
  bool was_ready;                      // false: the upstream itself is suspect (connect/TLS/auth)
  std::vector<std::uint64_t> orphans;  // request ids that were in flight on it
};

// The one virtual interface of this module, and why: a pool runs one transport, but a pool
// of either kind must do the same things with its connections (RTT choice, hedging, retry,
// back-off, deadlines), and the TLS/TCP stream and the UDP connection share nothing else. One
// indirect call per query is nothing next to a system call; two copies of the pool would be.
//
// Owned by the pool (in its slot for the server), used on the worker's thread only. Never
// calls its listener from inside a call the owner made (send(), start(), forget(),
// on_deadline()): what fails there is reported from the loop once that call has returned,
// or returned. Its destructor touches neither the listener nor the stats, so the loop may
// free it after its pool is gone.
class Connection {
 public:
  // Called from the loop's callbacks, never from inside the owner's calls.
  class Listener {
   public:
    virtual ~Listener() = default;
    // Connected (and TLS done): the server is reachable.
    virtual void on_connection_ready(Connection& conn) = 0;
    // An answer that matched its pending query by ID and question.
    virtual void on_connection_answer(Connection& conn, std::uint64_t request_id,
                                      std::span<const std::uint8_t> answer) = 0;
    // One query is lost while the connection stays up (UDP: its socket could not be made or
    // written, or its TCP retry after TC=1 failed); the request may be retried.
    virtual void on_connection_lost(Connection& /*conn*/, std::uint64_t /*request_id*/,
                                    UpstreamError /*error*/) {}
    // The connection is closed; failure.orphans were in flight on it. Called once, last.
    virtual void on_connection_failed(Connection& conn, const ConnectionFailure& failure) = 0;
    // The server gave us something to resume a later TLS session with (a TLS 1.3 ticket or
    // the TLS 1.2 session). Called at most once per connection.
    virtual void on_connection_session(Connection& /*conn*/, std::vector<std::uint8_t> /*data*/) {}
  };

  explicit Connection(std::size_t upstream_index) : upstream_index_(upstream_index) {}
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts connecting; it must be Ready by now + handshake_timeout. resume_data from an
  // earlier TLS session to the same server resumes it (one round trip); others ignore it.
  virtual void start(TimePoint now, std::chrono::milliseconds handshake_timeout,
                     std::vector<std::uint8_t> resume_data) = 0;
  // With queries in flight and no answer for this long, the server is taken for dead
  // (black-holed): the connection fails with kTimeout. Measured from the later of the oldest
  // unanswered query and the last answer, so a stream of new queries cannot push it back.
  void set_liveness_timeout(std::chrono::milliseconds timeout) { liveness_timeout_ = timeout; }

  // Sends one query (ID replaced by a random unused one) or holds it until Ready. Returns
  // the ID it goes under. Precondition: has_capacity().
  virtual std::uint16_t send(std::uint64_t request_id, std::span<const std::uint8_t> query,
                             const dns::Question& question) = 0;
  // The request gave up (deadline, or another copy won): its ID is free again and a late
  // answer is discarded.
  virtual void forget(std::uint16_t id) = 0;
  // Closes without a callback (the pool is going away).
  virtual void close() = 0;

  // What the connection waits for next; TimePoint::max() when nothing.
  virtual TimePoint deadline() const = 0;
  // Closes the connection if deadline() has passed, and returns what failed; the listener
  // hears nothing of it.
  [[nodiscard]] virtual std::optional<ConnectionFailure> on_deadline(TimePoint now) = 0;

  virtual bool has_capacity() const = 0;
  virtual std::size_t in_flight() const = 0;
  virtual ConnectionState state() const = 0;
  // The server certificate's expiry (Unix seconds), once a TLS handshake is done.
  virtual std::optional<std::int64_t> certificate_expiry() const { return std::nullopt; }

  std::size_t upstream_index() const { return upstream_index_; }
  // The pool's trust generation (CA, pins) this connection was opened under.
  std::uint64_t trust_generation() const { return trust_generation_; }
  void set_trust_generation(std::uint64_t generation) { trust_generation_ = generation; }

 protected:
  std::chrono::milliseconds liveness_timeout_{3'000};

 private:
  std::size_t upstream_index_;
  std::uint64_t trust_generation_ = 0;
};

}  // namespace dp::upstream
