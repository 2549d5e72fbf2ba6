// Where replies go: a client (UDP socket and peer, or TCP connection) and the sink that sends
// to it, with the per-reply counters every path shares.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

#include "common/socket_address.h"
#include "dns/message.h"
#include "proxy/query_stats.h"

namespace dp::proxy {

enum class Transport { kUdp, kTcp };

// ClientRef::route of a query answered here (local data, local zones).
inline constexpr std::uint16_t kRouteLocal = 0xffff;

// Where a reply goes: which listener socket and peer (UDP) or which connection (TCP).
struct ClientRef {
  Transport transport = Transport::kUdp;
  std::size_t listener = 0;  // UDP: index of the socket it came in on
  SocketAddress peer;
  std::uint64_t tcp_conn = 0;  // TCP: the connection's id (it may be gone by reply time)
  // Which route answered, for the query log: 0 the default upstreams (or no route: refused,
  // blocked, malformed), 1 + n forward zone n, kRouteLocal answered here.
  std::uint16_t route = 0;
  // When the query came in (wall clock), for dnstap's CLIENT_RESPONSE; read from the clock
  // only when dnstap is on, else the epoch.
  std::chrono::system_clock::time_point received_at{};
};

// Implemented by the worker. Called exactly once per handled message; an empty reply means
// "no reply" (the query was dropped) and still frees a TCP client's in-flight slot.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  virtual void reply_send(const ClientRef& client, std::span<const std::uint8_t> reply) = 0;
};

// The largest reply `client` takes for `query`: its UDP limit, or a whole message over TCP.
inline std::size_t reply_limit(const ClientRef& client, const dns::Query& query) {
  return client.transport == Transport::kUdp ? query.udp_reply_limit() : dns::kMaxMessageSize;
}

// Counts the reply (rcode, TC) in `stats` and hands it to the sink.
void reply_counted(ReplySink& sink, QueryStats& stats, const ClientRef& client,
                   std::span<const std::uint8_t> wire);

}  // namespace dp::proxy
