// The per-query pipeline: validate (dns) → forward (upstream) → rewrite for the client.
// Cache and policy slot in between in later issues.
#pragma once

#include <cstdint>
#include <span>

#include <memory>

#include "common/clock.h"
#include "common/socket_address.h"
#include "dns/blocked_reply.h"
#include "dns/local_zones.h"
#include "policy/acl.h"
#include "policy/blocklist.h"
#include "policy/rate_limiter.h"
#include "proxy/query_stats.h"
#include "upstream/upstream.h"

namespace dp::proxy {

enum class Transport { kUdp, kTcp };

// Where a reply goes: which listener socket and peer (UDP) or which connection (TCP).
struct ClientRef {
  Transport transport = Transport::kUdp;
  std::size_t listener = 0;    // UDP: index of the socket it came in on
  SocketAddress peer;
  std::uint64_t tcp_conn = 0;  // TCP: the connection's id (it may be gone by reply time)
};

// Implemented by the worker. Called exactly once per handled message; an empty reply means
// "no reply" (the query was dropped) and still frees a TCP client's in-flight slot.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  virtual void reply_send(const ClientRef& client, std::span<const std::uint8_t> reply) = 0;
};

// The guard's rules. The ACL, local zones and blocklist are immutable and shared by all workers;
// the rate limiter is the worker's own.
struct QueryPolicy {
  std::shared_ptr<const policy::Acl> acl;
  policy::RateLimiter* rate_limiter = nullptr;  // UDP only; null: no limit
  std::shared_ptr<const dns::LocalZones> local_zones;
  std::shared_ptr<const policy::Blocklist> blocklist;  // null: nothing blocked
  dns::BlockedAnswer blocklist_answer = dns::BlockedAnswer::kNxDomain;

  // Everyone allowed, no limit, nothing answered locally (unit tests of the forward path).
  static QueryPolicy open();
};

// Owned by one worker; runs on its thread.
class QueryHandler {
 public:
  QueryHandler(upstream::Upstream& upstream, ReplySink& sink, QueryStats& stats,
               QueryPolicy policy = QueryPolicy::open(), const TimeSource* clock = nullptr);

  void handle(std::span<const std::uint8_t> message, const ClientRef& client);

  // SIGHUP: queries from now on are checked against `blocklist` (null: none).
  void update_blocklist(std::shared_ptr<const policy::Blocklist> blocklist,
                        dns::BlockedAnswer answer);

 private:
  void reply(const ClientRef& client, std::span<const std::uint8_t> wire);

  // The guard in front of parsing (ACL, rate limit): true when it already dealt with the
  // message (a refusal, a drop or a slip was sent).
  bool guard(std::span<const std::uint8_t> message, const ClientRef& client);

  upstream::Upstream& upstream_;
  ReplySink& sink_;
  QueryStats& stats_;
  QueryPolicy policy_;
  const TimeSource* clock_;
  SteadyTimeSource steady_;
};

}  // namespace dp::proxy
