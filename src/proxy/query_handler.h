// The per-query pipeline: guard (ACL, rate limit) → validate (dns) → local data and local zones
// → blocklist → route (a forward zone or the default upstreams) → the cached resolver (cache →
// in-flight table → upstream) → reply.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/clock.h"
#include "dns/blocked_reply.h"
#include "policy/acl.h"
#include "policy/blocklist.h"
#include "policy/rate_limiter.h"
#include "proxy/cached_resolver.h"
#include "proxy/name_routes.h"
#include "proxy/query_stats.h"
#include "proxy/reply_sink.h"

namespace dp::proxy {

// The guard's rules and the names answered here or routed. The ACL, names and blocklist are
// immutable and shared by all workers; the rate limiter is the worker's own.
struct QueryPolicy {
  std::shared_ptr<const policy::Acl> acl;
  policy::RateLimiter* rate_limiter = nullptr;  // UDP only; null: no limit
  std::shared_ptr<const NameRoutes> names;
  std::shared_ptr<const policy::Blocklist> blocklist;  // null: nothing blocked
  dns::BlockedAnswer blocklist_answer = dns::BlockedAnswer::kNxDomain;

  // Everyone allowed, no limit, nothing answered locally (unit tests of the forward path).
  static QueryPolicy open();
};

// One forward zone as a worker's handler meets it: where its queries go, and its servers'
// addresses for the loop guard.
struct ZoneRoute {
  RouteTarget target;
  std::vector<SocketAddress> servers;
  std::uint16_t log_slot = 0;  // ClientRef::route of its queries (the query log's route=)
};

// Owned by one worker; runs on its thread.
class QueryHandler {
 public:
  // What passes the guard goes to `resolver`, which outlives the handler. `clock` (null: the
  // steady clock) times the rate limiter.
  QueryHandler(CachedResolver& resolver, ReplySink& sink, QueryStats& stats,
               QueryPolicy policy = QueryPolicy::open(), const TimeSource* clock = nullptr);

  void handle(std::span<const std::uint8_t> message, const ClientRef& client);

  // SIGHUP: queries from now on meet this ACL, rate limiter (null: none) and names.
  void update_guard(std::shared_ptr<const policy::Acl> acl, policy::RateLimiter* rate_limiter,
                    std::shared_ptr<const NameRoutes> names);
  // At start and on SIGHUP, with update_guard: the forward zones, by the index the route
  // table gives (zones of transport `upstream` have an entry never used).
  void set_zone_routes(std::vector<ZoneRoute> zones) { zones_ = std::move(zones); }
  // SIGHUP: queries from now on are checked against `blocklist` (null: none).
  void update_blocklist(std::shared_ptr<const policy::Blocklist> blocklist,
                        dns::BlockedAnswer answer);
  // Where a DNSSEC key fetch for `qname_lower` (wire form) goes: the forward zone's route that
  // holds it when that zone validates (dnssec = true), else `fallback`.
  const RouteTarget& fetch_target(std::string_view qname_lower, const RouteTarget& fallback);

 private:
  void reply(const ClientRef& client, std::span<const std::uint8_t> wire);

  // The guard in front of parsing (ACL, rate limit): true when it already dealt with the
  // message (a refusal, a drop or a slip was sent).
  bool guard(std::span<const std::uint8_t> message, const ClientRef& client);
  // Answers from the local data or the local zones; false when the query goes on.
  bool answer_locally(const ClientRef& client, zones::Route route);
  // Sends the query to its forward zone, unless it looks like our own coming back.
  void forward(const ClientRef& client, const ZoneRoute& zone);
  bool loop_suspected(const ClientRef& client, const ZoneRoute& zone);

  ReplySink& sink_;
  QueryStats& stats_;
  QueryPolicy policy_;
  SteadyTimeSource steady_;
  const TimeSource* clock_;
  CachedResolver& resolver_;
  std::vector<ZoneRoute> zones_;
  dns::Query query_;  // reused for every message: a hit allocates nothing
};

}  // namespace dp::proxy
