// A worker's pool of upstream servers on one transport (DoT, plain TCP or UDP): for the
// stream transports a few persistent connections per upstream, queries spread over them
// pipelined; for UDP one connection per upstream, a socket per query; the fastest healthy upstream
// chosen by measured RTT (others probed now and then), a slow answer hedged on the next upstream, a
// query retried once when its connection dies or its upstream answers SERVFAIL/REFUSED, and a hard
// deadline.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "io/byte_stream.h"
#include "io/event_loop.h"
#include "tls/credentials.h"
#include "upstream/connection.h"
#include "upstream/deadline_queue.h"
#include "upstream/pool_stats.h"
#include "upstream/selection.h"
#include "upstream/server_slots.h"
#include "upstream/server_spec.h"
#include "upstream/transport.h"
#include "upstream/upstream.h"

namespace dp::upstream {

struct PoolOptions {
  std::size_t connections_per_upstream = 2;        // UDP: always one (it has a socket per query)
  std::size_t max_in_flight_per_connection = 256;  // UDP: sockets open at once per upstream
  std::size_t max_pending = 8192;                  // in flight + waiting, all upstreams
  std::chrono::milliseconds query_timeout{3'000};  // from resolve() to SERVFAIL
  std::chrono::milliseconds handshake_timeout{1'500};  // connect (+ TLS); < query_timeout
  std::chrono::milliseconds backoff_initial{500};      // after a connect/TLS failure
  std::chrono::milliseconds backoff_max{30'000};       // never longer: recovery needs no restart
  // Queries in flight and no answer for this long: the connection is taken for black-holed.
  std::chrono::milliseconds liveness_timeout{3'000};
  // A connection closed while idle is re-opened at once if the upstream had a query this
  // recently, so the next query does not pay a handshake.
  std::chrono::milliseconds warm_window{60'000};
  // Hedging: a query unanswered after its upstream's srtt + 4 rttvar (within these bounds) is
  // also sent to the next healthy upstream; the first answer wins.
  std::chrono::milliseconds hedge_min{10};
  std::chrono::milliseconds hedge_max{1'000};
  std::chrono::milliseconds hedge_unmeasured{300};  // an upstream with no RTT sample yet
  std::size_t probe_every = 64;  // one query in this many goes to a healthy non-fastest upstream
  bool failover_on_servfail = true;  // SERVFAIL/REFUSED answers are retried on another upstream

  friend bool operator==(const PoolOptions&, const PoolOptions&) = default;
};

// Owned by one worker; everything runs on that worker's thread. May be destroyed while its
// loop turns once pending() is 0 (a reload retires a pool so): what the loop still holds of
// it (failed connections, EventLoop::defer_delete) touches nothing of the pool's.
class Pool final : public Upstream, private Connection::Listener {
 public:
  // credentials: for Transport::kTls; null for kTcp and kUdp (ignored there). make_stream
  // makes the TCP streams (kTls, kTcp, and kUdp's retries after TC=1); make_datagram the
  // UDP sockets (kUdp only; empty: io::UdpSocket on `loop`).
  Pool(io::EventLoop& loop, const TimeSource& clock, Transport transport,
       std::vector<ServerSpec> upstreams, std::shared_ptr<const tls::ClientCredentials> credentials,
       const PoolOptions& options, StreamFactory make_stream, DatagramFactory make_datagram = {});
  ~Pool() override;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Opens connections_per_upstream connections to every upstream, so the first queries pay
  // no handshake. Optional: without it, connections open on demand.
  void start();

  void resolve(std::span<const std::uint8_t> query, const dns::Question& question,
               Callback done) override;

  // New trust after a reload (kTls; the others only clear back-off): the CA store, and each
  // upstream's pins and minimum TLS version (matched by address and auth name). New connections use
  // it; open ones were verified already and stay until they close. Back-off is cleared so a failing
  // upstream is retried at once, and session tickets are dropped so the next handshake is verified
  // in full.
  void update_trust(std::shared_ptr<const tls::ClientCredentials> credentials,
                    const std::vector<ServerSpec>& upstreams);

  // A reload that changes the server list but not the options: the list changes in place,
  // so a server that stays keeps its connections, RTT and back-off. A new server gets a slot
  // of its own (its connections opened now, warm); a removed one takes no new query and its
  // connections close as soon as their queries are answered. Then update_trust(). False, and
  // nothing changed, when the pool would hold more than kMaxRemovedSlots removed servers
  // (their slots stay, so that the indices of queries in flight never move): the caller
  // makes a new pool instead.
  bool servers_update(std::shared_ptr<const tls::ClientCredentials> credentials,
                      const std::vector<ServerSpec>& upstreams);
  static constexpr std::size_t kMaxRemovedSlots = 16;

  Transport transport() const { return transport_; }
  const PoolStats& stats() const { return stats_; }
  std::vector<UpstreamStatus> upstream_status() const {
    return upstreams_.status(selection_, transport_, clock_.now());
  }
  std::size_t open_connections() const { return upstreams_.open_connections(); }
  std::size_t pending() const { return requests_.size(); }

  // What the timer does: expires queries and handshakes due by clock.now(). Tests drive
  // deadlines with a FakeClock and call this instead of waiting for the real timer.
  void on_deadline() { on_timer(); }

 private:
  // One copy of a query on one connection. A query has at most two: the first send (or its
  // retry) and a hedge.
  struct Copy {
    Connection* conn = nullptr;
    std::uint16_t dns_id = 0;
    std::size_t upstream = 0;
    TimePoint sent_at{};
  };
  // Reused: a finished request's node, buffers and all, serves a later one (spare_requests_).
  struct Request {
    std::vector<std::uint8_t> wire;
    dns::Question question;
    Callback done;
    TimePoint deadline;
    int attempts = 0;                               // sends so far, hedges included
    std::size_t avoid_upstream = Selection::kNone;  // the upstream that just failed it
    std::vector<Copy> copies;                       // in flight; empty: waiting for capacity
    bool hedged = false;
    std::vector<std::uint8_t> fallback;  // a SERVFAIL/REFUSED answer, if nothing better comes

    // Clears what the last user left, except the buffers' room.
    void reuse() {
      attempts = 0;
      avoid_upstream = Selection::kNone;
      copies.clear();
      hedged = false;
      fallback.clear();
    }
  };
  void dispatch(std::uint64_t id, TimePoint now);
  // Sends a copy of the request to `upstream`; false when no connection has room. Calls
  // nothing back: a connection that fails inside send() reports it from the loop.
  bool send_copy(Request& request, std::uint64_t id, std::size_t upstream, TimePoint now);
  void hedge(std::uint64_t id, TimePoint now);
  // A copy is gone (its connection failed, or its upstream refused): retry, wait for the
  // other copy, or fail with `error`.
  void copy_lost(std::uint64_t id, const Connection* conn, UpstreamError error, bool suspect,
                 TimePoint now);
  Connection* pick_connection(std::size_t upstream, TimePoint now);
  Connection* open_connection(std::size_t upstream, TimePoint now);
  void drain_waiting(TimePoint now);
  void finish(std::uint64_t id, const UpstreamResult& result);
  Request& request_add(std::uint64_t id);
  void on_timer();
  void arm_timer();
  void remove_connection(Connection& conn);
  // Closes the idle connections of removed servers (a timer's job: never from inside a
  // connection's callback).
  void removed_close_idle();

  // Connection::Listener
  void on_connection_ready(Connection& conn) override;
  void on_connection_answer(Connection& conn, std::uint64_t request_id,
                            std::span<const std::uint8_t> answer) override;
  void on_connection_lost(Connection& conn, std::uint64_t request_id, UpstreamError error) override;
  void on_connection_failed(Connection& conn, const ConnectionFailure& failure) override;
  void on_connection_session(Connection& conn, std::vector<std::uint8_t> data) override;

  io::EventLoop& loop_;
  const TimeSource& clock_;
  Transport transport_;
  std::shared_ptr<const tls::ClientCredentials> credentials_;  // null unless kTls
  PoolOptions options_;
  std::size_t connections_per_upstream_;  // options_'s, but 1 for UDP
  StreamFactory make_stream_;
  DatagramFactory make_datagram_;
  ServerSlots upstreams_;  // before selection_, which is sized from it
  Selection selection_;    // health, back-off, RTT: by upstreams_' slot index
  PoolStats stats_;

  std::uint64_t next_id_ = 1;
  using Requests = std::unordered_map<std::uint64_t, Request>;
  Requests requests_;
  // Finished requests' nodes, for the next ones: at most the most ever pending at once.
  std::vector<Requests::node_type> spare_requests_;
  std::deque<std::uint64_t> waiting_;   // no connection capacity yet; stale ids skipped
  DeadlineQueue deadlines_;             // query deadlines: SERVFAIL
  DeadlineQueue hedges_;                // hedge times: ask another upstream too
  std::uint64_t trust_generation_ = 0;  // bumped by update_trust()
  io::Timer timer_;
  TimePoint timer_at_ = TimePoint::max();
  io::Timer removed_timer_;  // armed when a removed server's connection may have gone idle
};

}  // namespace dp::upstream
