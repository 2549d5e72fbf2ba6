// A pool's servers by slot: each one's spec, open connections, TLS session and what a scrape
// shows of it; the configured order; and the server-list changes a reload makes in place (a
// removed server's slot stays, so the slot indices that queries in flight hold never move).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "metrics/histogram.h"
#include "upstream/connection.h"
#include "upstream/selection.h"
#include "upstream/server_spec.h"
#include "upstream/transport.h"
#include "upstream/upstream.h"

namespace dp::upstream {

// One upstream as a scrape sees it (copied on the worker's thread).
struct UpstreamStatus {
  std::string name;  // "1.1.1.1@853#cloudflare-dns.com"
  Transport transport = Transport::kTls;
  std::size_t open_connections = 0;
  std::size_t in_flight = 0;          // queries sent on its connections, not answered yet
  bool usable = false;                // not in back-off
  metrics::LatencyHistogram latency;  // query sent to answer received
  std::optional<std::int64_t> certificate_expiry;  // Unix seconds, from the last handshake
  std::optional<std::chrono::microseconds> srtt;   // smoothed RTT; unset before an answer
  std::chrono::milliseconds backoff_left{0};       // 0: usable now
  // The last connect, TLS, timeout or lost-connection failure ("timeout: no answer"), and how
  // long ago; "" and unset when it has not failed since the pool started.
  std::string last_failure;
  std::optional<std::chrono::milliseconds> last_failure_ago;
};

// One server's slot. Its health, back-off and RTT live in the pool's Selection, by the same
// index.
struct ServerSlot {
  ServerSpec server;
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<std::uint8_t> resume_data;  // latest TLS session/ticket from this upstream
  TimePoint last_query{};                 // for keeping connections warm
  metrics::LatencyHistogram latency;
  std::optional<std::int64_t> certificate_expiry;
  std::string last_failure;  // UpstreamStatus::last_failure
  std::optional<TimePoint> last_failure_at;
};

// Owned by a Pool, used on its worker's thread. The slots hold the connections; the pool opens
// and closes them (it is their listener) and keeps its Selection in step with the slots
// through servers_update().
class ServerSlots {
 public:
  explicit ServerSlots(std::vector<ServerSpec> servers);

  std::size_t size() const { return slots_.size(); }
  ServerSlot& operator[](std::size_t upstream) { return slots_[upstream]; }
  const ServerSlot& operator[](std::size_t upstream) const { return slots_[upstream]; }
  // The configured servers' slots, in their configured order (removed ones are not in it).
  const std::vector<std::size_t>& order() const { return order_; }

  std::size_t open_connections() const;
  // Every open connection, for a pass that may remove some of them.
  std::vector<Connection*> connections() const;
  // The connection of `upstream` with room and the fewest queries in flight; null: none.
  Connection* connection_with_room(std::size_t upstream) const;
  // Takes `conn` out of its slot; null when it is in none (already taken).
  std::unique_ptr<Connection> connection_take(const Connection& conn);
  // The open connections of removed servers with no query in flight: to be closed.
  std::vector<Connection*> removed_idle(const Selection& selection) const;
  // The earliest connection deadline, or probe time of a slot with no connection.
  TimePoint deadline_next(const Selection& selection) const;

  // A connection of `upstream` has ended, as the log and the status tell it: a failure that
  // made the server suspect (`backoff`: the back-off it started) or lost queries is logged and
  // kept for the status ("timeout: no answer", and when); an idle connection's close is logged
  // at debug level only.
  void failure_report(std::size_t upstream, const ConnectionFailure& failure,
                      std::optional<std::chrono::milliseconds> backoff, TimePoint now);

  // New trust after a reload: each slot takes the pins and minimum TLS version of its server
  // in `servers` (matched by address and auth name) and drops its session ticket, so the next
  // handshake is verified in full.
  void trust_update(const std::vector<ServerSpec>& servers);

  // A reload's server list, matched to the slots by display name: a server that stays keeps
  // its slot, a new one gets a slot (and a Selection entry) of its own, a removed one is
  // removed from `selection` and out of order(). Returns the slots that need connections
  // (new, or restored by this list); nullopt, and nothing changed, when more than
  // `max_removed` removed slots would be kept.
  std::optional<std::vector<std::size_t>> servers_update(const std::vector<ServerSpec>& servers,
                                                         Selection& selection,
                                                         std::size_t max_removed);

  // The configured servers' status, in order.
  std::vector<UpstreamStatus> status(const Selection& selection, Transport transport,
                                     TimePoint now) const;

 private:
  std::size_t slot_of(const ServerSpec& server) const;  // Selection::kNone: no slot

  std::vector<ServerSlot> slots_;   // by index; a removed server's slot stays
  std::vector<std::size_t> order_;  // the configured servers' slots, in their order
};

}  // namespace dp::upstream
