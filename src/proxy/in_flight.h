// The in-flight table: identical queries waiting at once share one upstream query, and every
// waiting client gets its own reply when the answer comes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dns/message.h"
#include "proxy/reply_sink.h"
#include "proxy/route_target.h"

namespace dp::proxy {

// A client waiting for an upstream answer.
struct Waiter {
  ClientRef client;
  dns::Query query;
  std::uint64_t seq = 0;  // names it for its client-response timer
};

// One upstream query and the clients waiting for it (none for a prefetch).
struct Flight {
  std::uint64_t id = 0;
  std::string key;   // the cache key
  dns::Query query;  // the query that started it: what is sent upstream
  RouteRules rules;  // its route's, as they were when it started
  // When its query went upstream (wall clock), for dnstap's FORWARDER_RESPONSE; set only when
  // dnstap logs forwarder messages.
  std::chrono::system_clock::time_point sent_at{};
  std::vector<Waiter> waiters;
};

// Owned by one worker's resolver; its thread only. Finished flights, their map nodes and
// their waiters' queries are kept for the next ones, so that once the table has held n
// flights at once, n more allocate nothing.
class InFlightTable {
 public:
  using Taken = std::unordered_map<std::uint64_t, Flight>::node_type;

  Flight* find(std::string_view key);
  Flight* by_id(std::uint64_t id);
  Flight& start(std::string_view key, const dns::Query& query);
  // Adds a waiter to `flight` and returns its seq. `query` is swapped with a spare one: the
  // caller gets back a Query whose strings have room, in an unspecified state.
  std::uint64_t wait(Flight& flight, const ClientRef& client, dns::Query& query);
  // Removes one waiter (it was answered early, e.g. stale); false if it is not there.
  bool remove_waiter(Flight& flight, std::uint64_t seq);
  // Takes the flight out of the table (its answer came); empty if unknown. Hand it back with
  // recycle() once done with it.
  Taken take(std::uint64_t id);
  void recycle(Taken flight);

  std::size_t flights() const { return by_id_.size(); }
  std::size_t waiters() const { return waiters_; }

 private:
  using ByKey = std::unordered_map<std::string_view, std::uint64_t>;

  std::unordered_map<std::uint64_t, Flight> by_id_;
  // Keys are views of the flights' own keys: by_id_'s nodes never move, so they stay valid
  // until take() removes both.
  ByKey by_key_;
  // Spares; each list is no longer than the most flights (or waiters) ever held at once.
  std::vector<Taken> spare_flights_;
  std::vector<ByKey::node_type> spare_keys_;
  std::vector<dns::Query> spare_queries_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_seq_ = 1;
  std::size_t waiters_ = 0;
};

}  // namespace dp::proxy
