#include "upstream/server_slots.h"

#include <algorithm>
#include <string>

#include "common/log.h"

namespace dp::upstream {

ServerSlots::ServerSlots(std::vector<ServerSpec> servers) {
  for (auto& server : servers) {
    order_.push_back(slots_.size());
    slots_.emplace_back().server = std::move(server);
  }
}

std::size_t ServerSlots::open_connections() const {
  std::size_t n = 0;
  for (const auto& slot : slots_) n += slot.connections.size();
  return n;
}

std::vector<Connection*> ServerSlots::connections() const {
  std::vector<Connection*> out;
  for (const auto& slot : slots_) {
    for (const auto& conn : slot.connections) out.push_back(conn.get());
  }
  return out;
}

Connection* ServerSlots::connection_with_room(std::size_t upstream) const {
  Connection* best = nullptr;
  for (const auto& conn : slots_[upstream].connections) {
    if (!conn->has_capacity()) continue;
    if (best == nullptr || conn->in_flight() < best->in_flight()) best = conn.get();
  }
  return best;
}

std::unique_ptr<Connection> ServerSlots::connection_take(const Connection& conn) {
  auto& conns = slots_[conn.upstream_index()].connections;
  auto it =
      std::find_if(conns.begin(), conns.end(), [&](const auto& c) { return c.get() == &conn; });
  if (it == conns.end()) return nullptr;
  std::unique_ptr<Connection> out = std::move(*it);
  conns.erase(it);
  return out;
}

std::vector<Connection*> ServerSlots::removed_idle(const Selection& selection) const {
  std::vector<Connection*> out;
  for (std::size_t u = 0; u < slots_.size(); ++u) {
    if (!selection.removed(u)) continue;
    for (const auto& conn : slots_[u].connections) {
      if (conn->in_flight() == 0) out.push_back(conn.get());
    }
  }
  return out;
}

TimePoint ServerSlots::deadline_next(const Selection& selection) const {
  TimePoint next = TimePoint::max();
  for (std::size_t u = 0; u < slots_.size(); ++u) {
    for (const auto& conn : slots_[u].connections) next = std::min(next, conn->deadline());
    if (slots_[u].connections.empty()) next = std::min(next, selection.probe_at(u));
  }
  return next;
}

void ServerSlots::failure_report(std::size_t upstream, const ConnectionFailure& failure,
                                 std::optional<std::chrono::milliseconds> backoff, TimePoint now) {
  ServerSlot& slot = slots_[upstream];
  const std::string name = slot.server.display();
  if (backoff) {
    DP_LOG(kWarn, "upstream connection failed", {"upstream", name},
           {"error", upstream_error_name(failure.error)}, {"detail", failure.detail},
           {"retry_in_ms", std::to_string(backoff->count())});
  } else if (!failure.orphans.empty()) {
    DP_LOG(kInfo, "upstream connection lost", {"upstream", name},
           {"error", upstream_error_name(failure.error)}, {"detail", failure.detail},
           {"in_flight", std::to_string(failure.orphans.size())});
  } else {
    DP_LOG(kDebug, "idle upstream connection closed", {"upstream", name},
           {"detail", failure.detail});
    return;
  }
  slot.last_failure = std::string(upstream_error_name(failure.error)) +
                      (failure.detail.empty() ? "" : ": " + failure.detail);
  slot.last_failure_at = now;
}

void ServerSlots::trust_update(const std::vector<ServerSpec>& servers) {
  for (ServerSlot& slot : slots_) {
    for (const ServerSpec& fresh : servers) {
      if (fresh.address == slot.server.address && fresh.auth_name == slot.server.auth_name) {
        slot.server.pins = fresh.pins;
        slot.server.tls_min_version = fresh.tls_min_version;
      }
    }
    slot.resume_data.clear();
  }
}

std::size_t ServerSlots::slot_of(const ServerSpec& server) const {
  for (std::size_t u = 0; u < slots_.size(); ++u) {
    if (slots_[u].server.display() == server.display()) return u;
  }
  return Selection::kNone;
}

std::optional<std::vector<std::size_t>> ServerSlots::servers_update(
    const std::vector<ServerSpec>& servers, Selection& selection, std::size_t max_removed) {
  std::size_t added = 0;
  for (const ServerSpec& server : servers) added += slot_of(server) == Selection::kNone ? 1 : 0;
  if (slots_.size() + added > servers.size() + max_removed) return std::nullopt;

  std::vector<std::size_t> fresh;  // slots that need connections
  order_.clear();
  for (const ServerSpec& server : servers) {
    std::size_t u = slot_of(server);
    if (u == Selection::kNone) {
      u = selection.add();
      slots_.emplace_back().server = server;
      fresh.push_back(u);
    } else if (selection.removed(u)) {
      selection.restore(u);  // back with its RTT; its connections were closed
      fresh.push_back(u);
    }
    order_.push_back(u);
  }
  for (std::size_t u = 0; u < slots_.size(); ++u) {
    if (std::find(order_.begin(), order_.end(), u) == order_.end()) selection.remove(u);
  }
  return fresh;
}

std::vector<UpstreamStatus> ServerSlots::status(const Selection& selection, Transport transport,
                                                TimePoint now) const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::vector<UpstreamStatus> out;
  for (const std::size_t u : order_) {
    const ServerSlot& slot = slots_[u];
    std::size_t in_flight = 0;
    for (const auto& conn : slot.connections) in_flight += conn->in_flight();
    UpstreamStatus& status = out.emplace_back();
    status.name = slot.server.display();
    status.transport = transport;
    status.open_connections = slot.connections.size();
    status.in_flight = in_flight;
    status.usable = selection.usable(u, now);
    status.latency = slot.latency;
    status.certificate_expiry = slot.certificate_expiry;
    if (selection.rtt(u).measured()) status.srtt = selection.rtt(u).srtt();
    if (!status.usable) {
      status.backoff_left = duration_cast<milliseconds>(selection.down_until(u) - now);
    }
    status.last_failure = slot.last_failure;
    if (slot.last_failure_at) {
      status.last_failure_ago = duration_cast<milliseconds>(now - *slot.last_failure_at);
    }
  }
  return out;
}

}  // namespace dp::upstream
