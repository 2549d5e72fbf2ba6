#include "proxy/in_flight.h"

#include <algorithm>
#include <utility>

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
  Flight* flight = nullptr;
  if (spare_flights_.empty()) {
    flight = &by_id_[id];
  } else {
    Taken node = std::move(spare_flights_.back());
    spare_flights_.pop_back();
    node.key() = id;
    flight = &by_id_.insert(std::move(node)).position->second;
  }
  flight->id = id;
  flight->key.assign(key);  // copies into the strings' existing room
  flight->query = query;
  const std::string_view own_key(flight->key);
  if (spare_keys_.empty()) {
    by_key_[own_key] = id;
  } else {
    ByKey::node_type node = std::move(spare_keys_.back());
    spare_keys_.pop_back();
    node.key() = own_key;
    node.mapped() = id;
    by_key_.insert(std::move(node));
  }
  return *flight;
}

std::uint64_t InFlightTable::wait(Flight& flight, const ClientRef& client, dns::Query& query) {
  const std::uint64_t seq = next_seq_++;
  dns::Query spare;
  if (!spare_queries_.empty()) {
    spare = std::move(spare_queries_.back());
    spare_queries_.pop_back();
  }
  flight.waiters.push_back(Waiter{client, std::move(query), seq});
  query = std::move(spare);
  ++waiters_;
  return seq;
}

bool InFlightTable::remove_waiter(Flight& flight, std::uint64_t seq) {
  const auto it = std::find_if(flight.waiters.begin(), flight.waiters.end(),
                               [seq](const Waiter& w) { return w.seq == seq; });
  if (it == flight.waiters.end()) return false;
  spare_queries_.push_back(std::move(it->query));
  flight.waiters.erase(it);
  --waiters_;
  return true;
}

InFlightTable::Taken InFlightTable::take(std::uint64_t id) {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return {};
  // Before the key it views is reused.
  if (auto key = by_key_.extract(std::string_view(it->second.key))) {
    spare_keys_.push_back(std::move(key));
  }
  Taken flight = by_id_.extract(it);
  waiters_ -= flight.mapped().waiters.size();
  return flight;
}

void InFlightTable::recycle(Taken flight) {
  if (flight.empty()) return;
  for (Waiter& waiter : flight.mapped().waiters) spare_queries_.push_back(std::move(waiter.query));
  flight.mapped().waiters.clear();  // keeps its room
  spare_flights_.push_back(std::move(flight));
}

}  // namespace dp::proxy
