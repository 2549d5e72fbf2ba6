// Plain DNS over UDP to one server (RFC 1035 §4.2.1): each query from its own connected socket
// (random source port) under a random ID; an answer counts only from the server's address,
// with that ID and the question asked (RFC 5452 §9). TC=1 sends the query again over TCP.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "dns/message.h"
#include "io/byte_stream.h"
#include "io/datagram_socket.h"
#include "io/event_loop.h"
#include "upstream/connection.h"
#include "upstream/pool_stats.h"
#include "upstream/server_spec.h"
#include "upstream/stream_connection.h"

namespace dp::upstream {

// Owned by the pool: one per server, in the server's slot; the worker's thread only. Ready
// from start(): UDP has nothing to set up. Holds at most max_in_flight queries, so at most
// that many sockets (each closed the moment its query is answered or forgotten) and one TCP
// connection for truncated answers, opened when the first comes. The Connection contract:
// nothing reaches the listener from inside the owner's calls (a query lost in send() is
// reported from the loop), and the destructor touches neither listener nor stats.
class UdpConnection final : public Connection, private Connection::Listener {
 public:
  UdpConnection(std::size_t upstream_index, const ServerSpec& target, DatagramFactory make_datagram,
                StreamFactory make_stream, std::size_t max_in_flight, PoolStats& stats,
                Connection::Listener& listener, const TimeSource& clock, io::EventLoop& loop);
  ~UdpConnection() override;
  UdpConnection(const UdpConnection&) = delete;
  UdpConnection& operator=(const UdpConnection&) = delete;

  // Nothing to connect: remembers the handshake timeout for the TCP retries' connections.
  void start(TimePoint now, std::chrono::milliseconds handshake_timeout,
             std::vector<std::uint8_t> resume_data = {}) override;
  // A socket that cannot be opened or written loses the query: reported from the loop
  // (Listener::on_connection_lost).
  std::uint16_t send(std::uint64_t request_id, std::span<const std::uint8_t> query,
                     const dns::Question& question) override;
  void forget(std::uint16_t id) override;
  void close() override;

  // The liveness deadline while queries are in flight, or the TCP retry connection's.
  TimePoint deadline() const override;
  [[nodiscard]] std::optional<ConnectionFailure> on_deadline(TimePoint now) override;

  bool has_capacity() const override;
  std::size_t in_flight() const override { return queries_.size(); }
  ConnectionState state() const override { return state_; }
  // Sockets open now (one per query sent over UDP and not yet answered or forgotten).
  std::size_t open_sockets() const;

 private:
  // One query: its socket while it is over UDP, its ID on the TCP connection after TC=1. The
  // handler of its socket; freed by the loop (EventLoop::defer_delete), as it may be inside
  // its socket's callback when it is done.
  struct Query final : io::DatagramSocket::Handler {
    Query(UdpConnection& owner, std::uint16_t id) : owner(owner), id(id) {}
    void on_datagram(io::DatagramSocket& /*socket*/, std::span<const std::uint8_t> bytes) override {
      owner.datagram_in(*this, bytes);
    }
    void on_datagram_error(io::DatagramSocket& /*socket*/, const std::string& detail) override {
      owner.datagram_error(detail);
    }

    UdpConnection& owner;
    std::uint16_t id;
    std::uint64_t request_id = 0;
    dns::Question question;
    std::vector<std::uint8_t> wire;  // as sent (our ID): sent again over TCP after TC=1
    std::unique_ptr<io::DatagramSocket> socket;
    std::optional<std::uint16_t> tcp_id;  // on the TCP connection
  };
  using Queries = std::unordered_map<std::uint16_t, std::unique_ptr<Query>>;

  std::uint16_t unused_id();
  // Closes the query's socket at once; the loop frees the query and the socket.
  void query_erase(Queries::iterator it);
  // The query is lost without taking the connection down: reported from the loop.
  void lose(Queries::iterator it, UpstreamError error);
  void report_lost();
  void retry_over_tcp(Queries::iterator it);
  void tcp_drop();
  ConnectionFailure close_failed(UpstreamError error, std::string detail);

  // From a query's socket (the loop).
  void datagram_in(Query& query, std::span<const std::uint8_t> bytes);
  void datagram_error(const std::string& detail);

  // Connection::Listener, for the TCP retry connection (request id = our UDP ID)
  void on_connection_ready(Connection& conn) override;
  void on_connection_answer(Connection& conn, std::uint64_t request_id,
                            std::span<const std::uint8_t> answer) override;
  void on_connection_failed(Connection& conn, const ConnectionFailure& failure) override;

  ServerSpec target_;
  DatagramFactory make_datagram_;
  StreamFactory make_stream_;
  std::size_t max_in_flight_;
  PoolStats& stats_;
  Connection::Listener& listener_;
  const TimeSource& clock_;
  io::EventLoop& loop_;

  ConnectionState state_ = ConnectionState::kConnecting;
  std::chrono::milliseconds handshake_timeout_{1'500};
  Queries queries_;
  TimePoint pending_since_ = TimePoint::max();  // when queries_ last became non-empty
  TimePoint last_answer_{};
  std::unique_ptr<StreamConnection> tcp_;  // for TC=1 answers; opened on the first
  // Lost queries not reported yet, what lost them and the ID they went under (not given to
  // another query before the pool hears: its forget() of the lost one must not hit a new one);
  // reported by report_timer_.
  struct Lost {
    std::uint64_t request_id;
    UpstreamError error;
    std::uint16_t id;
  };
  std::vector<Lost> lost_;
  io::Timer report_timer_;  // freed (cancelled) with us
  std::mt19937 rng_;
};

}  // namespace dp::upstream
