// One client's TCP connection: framed queries in, framed replies out (RFC 7766). Replies go
// out in completion order (RFC 7766 §6.2.1.1), so a slow query never holds up a fast one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/c_ptr.h"
#include "common/socket_address.h"
#include "io/event_loop.h"
#include "io/stream_transform.h"

struct bufferevent;

namespace dp::io {

void bufferevent_free_fn(bufferevent* bev) noexcept;
using BuffereventPtr = CPtr<bufferevent, bufferevent_free_fn>;

struct TcpClientLimits {
  std::chrono::milliseconds idle_timeout{10'000};  // no query and nothing in flight: close
  std::size_t max_in_flight = 128;            // stop reading beyond this many unanswered queries
  std::size_t max_output_bytes = 256 * 1024;  // a client that does not read: stop reading
  std::chrono::milliseconds read_timeout{5'000};  // first byte of a query to its last: slowloris
};

// Owned by its worker (looked up by id() when a reply arrives, so a reply for a closed
// connection is simply dropped). Callbacks run on the worker's thread.
class TcpClientConnection {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // One whole query. The handler answers it later with send() or finish_without_reply().
    virtual void on_client_message(TcpClientConnection& conn,
                                   std::span<const std::uint8_t> message) = 0;
    // The connection is finished (peer closed, idle, error); the handler destroys it, later.
    virtual void on_client_closed(TcpClientConnection& conn) = 0;
  };

  // Takes ownership of fd. With a transform (TLS), the same framing and limits run over its
  // plaintext, and the handshake must be done within limits.read_timeout.
  TcpClientConnection(EventLoop& loop, int fd, std::uint64_t id, const SocketAddress& peer,
                      const TcpClientLimits& limits, Handler& handler,
                      std::unique_ptr<StreamTransform> transform = nullptr);
  TcpClientConnection(const TcpClientConnection&) = delete;
  TcpClientConnection& operator=(const TcpClientConnection&) = delete;

  std::uint64_t id() const { return id_; }
  const SocketAddress& peer() const { return peer_; }
  std::size_t in_flight() const { return in_flight_; }

  // Answers one query received through on_client_message.
  void send(std::span<const std::uint8_t> reply);
  // A query that gets no reply (dropped input) still frees its in-flight slot.
  void finish_without_reply();
  // Closes after what is queued has been written (bounded by the idle timeout).
  void close_after_flush();

 private:
  static void on_read(bufferevent* bev, void* self) noexcept;
  static void on_write(bufferevent* bev, void* self) noexcept;
  static void on_event(bufferevent* bev, short what, void* self) noexcept;
  void read_messages();
  void update_reading();
  void resume();  // reading on again, and queries already buffered handled
  void finish();
  void watch_partial_query();  // arms or cancels read_deadline_
  // Our output is over limits_.max_output_bytes: no query is taken until it has drained.
  bool output_full() const;
  // Bytes not yet taken by the kernel: our output and, under a transform, its ciphertext.
  std::size_t output_pending() const;
  // The transform: a libevent filter over the socket's bufferevent (tcp_client_filter.cc).
  friend struct FilterHooks;
  void filter_install(std::unique_ptr<StreamTransform> transform);
  void filter_failed(bool flush_alert);

  std::uint64_t id_;
  SocketAddress peer_;
  TcpClientLimits limits_;
  Handler& handler_;
  std::vector<std::uint8_t> message_;  // the query being handled, reused
  std::size_t in_flight_ = 0;
  bool reading_ = false;                        // inside read_messages(): no re-entry
  bool closing_ = false;                        // no more reads; close once the output is flushed
  bool finished_ = false;                       // on_client_closed already called
  Timer read_deadline_;                         // armed while a query is partly received
  std::unique_ptr<StreamTransform> transform_;  // null: plain TCP
  bool established_ = false;          // the transform's handshake is done: plaintext flows
  bool transform_failed_ = false;     // handshake failed, timed out, or a bad record
  Timer handshake_deadline_;          // armed from accept until the handshake is done
  std::vector<std::uint8_t> framed_;  // a reply with its prefix, one record under TLS; reused
  // Closes fd when freed. Declared last, so it goes first: its filter callbacks use the
  // transform and the timers above.
  BuffereventPtr bev_;
};

}  // namespace dp::io
