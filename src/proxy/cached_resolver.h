// Answers a validated query: from the cache when it can (a hit never waits on the network),
// else from one upstream query shared by every identical query in flight, whose answer is
// cached. Serve-stale (RFC 8767) and prefetch live here.
#pragma once

#include <chrono>
#include <cstdint>
#include <queue>
#include <string>
#include <tuple>
#include <vector>

#include "cache/cache.h"
#include "common/clock.h"
#include "dns/stored_answer.h"
#include "dnssec/answer_records.h"
#include "dnstap/tap.h"
#include "io/event_loop.h"
#include "proxy/dnssec_validator.h"
#include "proxy/in_flight.h"
#include "proxy/query_stats.h"
#include "proxy/reply_sink.h"
#include "proxy/route_target.h"
#include "upstream/upstream.h"

namespace dp::proxy {

struct ResolveOptions {
  dns::TtlPolicy ttl;  // the default upstreams' (forward zones bring their own: RouteRules)
  // RFC 8767 §5 client-response timer: a client whose answer is stale in the cache gets it
  // after this long if the upstream has not answered by then.
  std::chrono::milliseconds stale_client_timeout{1'800};
  std::size_t max_waiting = 8192;  // clients waiting on flights; beyond, SERVFAIL at once
};

// Owned by one worker, which hands it to its QueryHandler; its thread only. The cache may be shared
// (or null: no cache, identical queries in flight are still sent once). `upstream` is the
// default route's (the DoT upstreams); forward zones come with each query (RouteTarget).
class CachedResolver {
 public:
  CachedResolver(io::EventLoop& loop, upstream::Upstream& upstream, ReplySink& sink,
                 QueryStats& stats, cache::Cache* cache, const ResolveOptions& options,
                 const TimeSource& clock);
  CachedResolver(const CachedResolver&) = delete;
  CachedResolver& operator=(const CachedResolver&) = delete;

  // A hit only reads `query` (the caller's reused parse keeps its room); a miss takes its
  // contents and leaves it a spare Query with room, in an unspecified state.
  void resolve(dns::Query&& query, const ClientRef& client) {
    resolve(std::move(query), client, default_route_);
  }
  // The same on `route`: its cache tag in the key, its rules for the answer, its upstream.
  void resolve(dns::Query&& query, const ClientRef& client, const RouteTarget& route);

  // What the timer does: serves stale answers to clients whose client-response timer is due
  // by clock.now(). Tests call it after advancing a FakeClock.
  void on_deadline();

  std::size_t flights() const { return flights_.flights(); }
  // True when `query` on `route` is already on its way upstream (the loop guard's question).
  bool in_flight(const dns::Query& query, const RouteTarget& route);
  // SIGHUP: TTL clamps, failure TTL and the stale timer for answers and queries from now on.
  void set_options(const ResolveOptions& options) {
    options_ = options;
    default_route_.rules.ttl = options.ttl;
  }
  // At start and on SIGHUP: the default route's rules (its DNSSEC mode) from the settings.
  void set_default_rules(const RouteRules& rules) {
    default_route_.rules = rules;
    default_route_.rules.ttl = options_.ttl;
  }
  // Where the misses of no forward zone go (the default upstreams) and by which rules.
  const RouteTarget& default_route() const { return default_route_; }
  // The worker's dnstap (null: off), which outlives the resolver: upstream queries and their
  // answers are logged as FORWARDER_QUERY and FORWARDER_RESPONSE.
  void set_dnstap(dnstap::Tap* tap) { dnstap_ = tap; }
  // The worker's DNSSEC validator (null: no route validates), which outlives the resolver.
  // Answers on routes whose DnssecMode is not kOff pass through it before the cache.
  void set_validator(DnssecValidator* validator) { validator_ = validator; }

 private:
  // Joins the flight for key_ (starting one if there is none). stale_held: the cache has a
  // stale answer to give the client if the upstream is slow.
  void wait_for_upstream(dns::Query& query, const ClientRef& client, const RouteTarget& route,
                         bool stale_held, TimePoint now);
  Flight& start_flight(const dns::Query& query, const RouteRules& rules);
  void send_upstream(std::uint64_t flight_id, upstream::Upstream& upstream);
  void on_upstream(std::uint64_t flight_id, const upstream::UpstreamResult& result);
  // `ttl_cap`: the longest the answer may be cached (a secure one: its signatures' expiry).
  void answer_flight(Flight& flight, const upstream::UpstreamResult& result,
                     std::uint32_t ttl_cap = UINT32_MAX);
  // The answer goes to the validator first (true), or straight on (false: not parseable
  // here; answer_flight decides what it is).
  bool validation_start(Flight& flight, std::span<const std::uint8_t> answer);
  void on_validated(std::uint64_t flight_id, dnssec::AnswerRecords&& answer,
                    const ValidationReport& report);
  void validation_count(const ValidationReport& report, bool failed);
  // The upstream failed the flight: its clients get what the cache still holds, or `failure`.
  void answer_failed(Flight& flight, const dns::StoredAnswer& failure, TimePoint now);
  void arm_timer();
  void dnstap_log(dnstap::MessageType type, const Flight& flight,
                  std::span<const std::uint8_t> message);

  RouteTarget default_route_;
  ReplySink& sink_;
  QueryStats& stats_;
  cache::Cache* cache_;
  ResolveOptions options_;
  const TimeSource& clock_;
  InFlightTable flights_;
  std::string key_;                  // the current query's cache key, reused
  std::vector<std::uint8_t> reply_;  // the current reply, reused: no allocation per hit
  dns::StoredAnswer stored_;  // the current upstream answer's stored form, its buffers reused
  std::vector<std::uint8_t> upstream_query_;  // the query being sent upstream, reused
  // Client-response timers: (when, flight id, waiter seq), soonest first.
  using StaleTimer = std::tuple<TimePoint, std::uint64_t, std::uint64_t>;
  std::priority_queue<StaleTimer, std::vector<StaleTimer>, std::greater<>> stale_timers_;
  io::Timer timer_;
  dnstap::Tap* dnstap_ = nullptr;
  DnssecValidator* validator_ = nullptr;
  std::vector<std::uint8_t> validated_;  // the answer as validation left it, reused
  TimePoint bogus_logged_at_{};          // bogus answers are logged at most once a second
};

}  // namespace dp::proxy
