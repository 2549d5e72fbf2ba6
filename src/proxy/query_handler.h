// The per-query pipeline: guard (ACL, rate limit) → validate (dns) → local zones → the cached
// resolver (cache → in-flight table → upstream) → reply.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/clock.h"
#include "dns/blocked_reply.h"
#include "dns/local_zones.h"
#include "policy/acl.h"
#include "policy/blocklist.h"
#include "policy/rate_limiter.h"
#include "proxy/cached_resolver.h"
#include "proxy/query_stats.h"
#include "proxy/reply_sink.h"

namespace dp::proxy {

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
  // What passes the guard goes to `resolver`, which outlives the handler. `clock` (null: the
  // steady clock) times the rate limiter.
  QueryHandler(CachedResolver& resolver, ReplySink& sink, QueryStats& stats,
               QueryPolicy policy = QueryPolicy::open(), const TimeSource* clock = nullptr);

  void handle(std::span<const std::uint8_t> message, const ClientRef& client);

  // SIGHUP: queries from now on meet this ACL, rate limiter (null: none) and local zones.
  void update_guard(std::shared_ptr<const policy::Acl> acl, policy::RateLimiter* rate_limiter,
                    std::shared_ptr<const dns::LocalZones> local_zones);
  // SIGHUP: queries from now on are checked against `blocklist` (null: none).
  void update_blocklist(std::shared_ptr<const policy::Blocklist> blocklist,
                        dns::BlockedAnswer answer);

 private:
  void reply(const ClientRef& client, std::span<const std::uint8_t> wire);

  // The guard in front of parsing (ACL, rate limit): true when it already dealt with the
  // message (a refusal, a drop or a slip was sent).
  bool guard(std::span<const std::uint8_t> message, const ClientRef& client);

  ReplySink& sink_;
  QueryStats& stats_;
  QueryPolicy policy_;
  SteadyTimeSource steady_;
  const TimeSource* clock_;
  CachedResolver& resolver_;
  dns::Query query_;  // reused for every message: a hit allocates nothing
};

}  // namespace dp::proxy
