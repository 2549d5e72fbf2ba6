#include "proxy/in_flight.h"

#include <algorithm>

namespace dp::proxy {

Flight* InFlightTable::find(std::string_view key) {
  const auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : by_id(it->second);
}

Flight* InFlightTable::by_id(std::uint64_t id) {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

Flight& InFlightTable::start(std::string_view key, const dns::Query& query) {
  const std::uint64_t id = next_id_++;
  Flight& flight = by_id_[id];
  flight.id = id;
  flight.key = key;
  flight.query = query;
  by_key_[std::string_view(flight.key)] = id;
  return flight;
}

std::uint64_t InFlightTable::wait(Flight& flight, const ClientRef& client, dns::Query query) {
  const std::uint64_t seq = next_seq_++;
  flight.waiters.push_back(Waiter{client, std::move(query), seq});
  ++waiters_;
  return seq;
}

bool InFlightTable::remove_waiter(Flight& flight, std::uint64_t seq) {
  const auto it = std::find_if(flight.waiters.begin(), flight.waiters.end(),
                               [seq](const Waiter& w) { return w.seq == seq; });
  if (it == flight.waiters.end()) return false;
  flight.waiters.erase(it);
  --waiters_;
  return true;
}

std::optional<Flight> InFlightTable::finish(std::uint64_t id) {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  by_key_.erase(std::string_view(it->second.key));  // before the key it views moves
  Flight flight = std::move(it->second);
  by_id_.erase(it);
  waiters_ -= flight.waiters.size();
  return flight;
}

}  // namespace dp::proxy
