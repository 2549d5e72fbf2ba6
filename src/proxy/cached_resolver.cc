#include "proxy/cached_resolver.h"

#include <algorithm>
#include <utility>

#include "cache/cache_key.h"
#include "common/check.h"
#include "common/log.h"
#include "dns/reply.h"
#include "dns/upstream_query.h"
#include "proxy/forwarder_tap.h"

namespace dp::proxy {

CachedResolver::CachedResolver(io::EventLoop& loop, upstream::Upstream& upstream, ReplySink& sink,
                               QueryStats& stats, cache::Cache* cache,
                               const ResolveOptions& options, const TimeSource& clock)
    : default_route_{&upstream, RouteRules{.ttl = options.ttl}},
      sink_(sink),
      stats_(stats),
      cache_(cache),
      options_(options),
      clock_(clock),
      timer_(loop, [this] { on_deadline(); }) {}

void CachedResolver::resolve(dns::Query&& query, const ClientRef& client,
                             const RouteTarget& route) {
  const TimePoint now = clock_.now();
  cache::cache_key_build(query, key_, route.rules.cache_tag);
  bool stale_held = false;
  if (cache_ != nullptr && route.rules.cache) {
    const cache::Lookup found =
        cache_->lookup(key_, now, query, reply_limit(client, query), false, reply_);
    if (found.built) {
      ++stats_.cache_hits;
      if (found.state == cache::Freshness::kStale) ++stats_.stale_served;
      reply_counted(sink_, stats_, client, reply_);
      if (found.prefetch_due && flights_.find(key_) == nullptr) {
        ++stats_.prefetches;  // refreshed in the background: popular names never expire
        send_upstream(start_flight(query, route.rules).id, *route.upstream);
      }
      return;
    }
    stale_held = found.state == cache::Freshness::kStale;
  }
  ++stats_.cache_misses;
  wait_for_upstream(query, client, route, stale_held, now);
}

bool CachedResolver::in_flight(const dns::Query& query, const RouteTarget& route) {
  cache::cache_key_build(query, key_, route.rules.cache_tag);
  return flights_.find(key_) != nullptr;
}

void CachedResolver::wait_for_upstream(dns::Query& query, const ClientRef& client,
                                       const RouteTarget& route, bool stale_held, TimePoint now) {
  if (flights_.waiters() >= options_.max_waiting) {
    ++stats_.waiting_overloaded;
    reply_counted(sink_, stats_, client, dns::reply_error(query, dns::Rcode::kServFail));
    return;
  }
  Flight* flight = flights_.find(key_);
  const bool first = flight == nullptr;
  if (first) {
    flight = &start_flight(query, route.rules);
  } else {
    ++stats_.coalesced;
  }
  const std::uint64_t id = flight->id;
  const std::uint64_t seq = flights_.wait(*flight, client, query);
  if (stale_held) {
    stale_timers_.emplace(now + options_.stale_client_timeout, id, seq);
    arm_timer();
  }
  if (first) send_upstream(id, *route.upstream);  // last: the answer may come before we return
}

Flight& CachedResolver::start_flight(const dns::Query& query, const RouteRules& rules) {
  Flight& flight = flights_.start(key_, query);
  flight.rules = rules;
  return flight;
}

void CachedResolver::send_upstream(std::uint64_t flight_id, upstream::Upstream& upstream) {
  Flight* flight = flights_.by_id(flight_id);
  if (DP_BUG(flight == nullptr)) return;
  dns::upstream_query_build_into(flight->query, upstream_query_, flight->rules.query_shape);
  if (dnstap_ != nullptr) {
    flight->sent_at = std::chrono::system_clock::now();
    dnstap_log(dnstap::MessageType::kForwarderQuery, *flight, upstream_query_);
  }
  upstream.resolve(upstream_query_, flight->query.question,
                   [this, flight_id](const upstream::UpstreamResult& result) {
                     on_upstream(flight_id, result);
                   });
}

void CachedResolver::on_upstream(std::uint64_t flight_id, const upstream::UpstreamResult& result) {
  Flight* pending = flights_.by_id(flight_id);
  if (DP_BUG(pending == nullptr)) return;
  if (dnstap_ != nullptr && result) {  // a failure (timeout, connection lost) has no message
    dnstap_log(dnstap::MessageType::kForwarderResponse, *pending, *result);
  }
  // Validated answers stay in the table while their keys are fetched: identical queries
  // meanwhile join them rather than ask again.
  if (result && pending->rules.dnssec != DnssecMode::kOff && validator_ != nullptr &&
      validation_start(*pending, *result)) {
    return;
  }
  InFlightTable::Taken flight = flights_.take(flight_id);
  answer_flight(flight.mapped(), result);
  flights_.recycle(std::move(flight));
}

bool CachedResolver::validation_start(Flight& flight, std::span<const std::uint8_t> answer) {
  std::optional<dnssec::AnswerRecords> records = dnssec::answer_records_parse(answer);
  // SERVFAIL, REFUSED, ...: nothing to judge; a failure, cached briefly as it is.
  if (!records || (records->rcode != 0 && records->rcode != 3)) return false;
  const std::uint64_t flight_id = flight.id;
  if (flight.query.cd) {
    // RFC 4035 §3.2.2: the client validates for itself. It gets the records unjudged, AD=0,
    // from entries of their own (the key holds CD), never served to CD=0 clients.
    if (!dnssec::answer_records_write(*records, flight.query.dnssec_ok, false, validated_)) {
      return false;
    }
    InFlightTable::Taken taken = flights_.take(flight_id);
    answer_flight(taken.mapped(),
                  upstream::UpstreamResult(std::span<const std::uint8_t>(validated_)));
    flights_.recycle(std::move(taken));
    return true;
  }
  validator_->validate(std::move(*records), [this, flight_id](dnssec::AnswerRecords&& validated,
                                                              const ValidationReport& report) {
    on_validated(flight_id, std::move(validated), report);
  });
  return true;
}

void CachedResolver::on_validated(std::uint64_t flight_id, dnssec::AnswerRecords&& answer,
                                  const ValidationReport& report) {
  InFlightTable::Taken taken = flights_.take(flight_id);
  if (DP_BUG(taken.empty())) return;
  Flight& flight = taken.mapped();
  const dnssec::Verdict& verdict = report.verdict.verdict;
  const bool failed = verdict.status == dnssec::Status::kBogus ||
                      (verdict.status == dnssec::Status::kIndeterminate && verdict.ede);
  validation_count(report, failed);
  const bool secure = verdict.status == dnssec::Status::kSecure;
  // Before the release date the clock is wrong (no NTP yet), and so is every RRSIG time
  // check: validate as permissive until it is right (DnssecValidator::clock_untrusted).
  const bool enforce =
      flight.rules.dnssec == DnssecMode::kValidate && !validator_->clock_untrusted();
  const TimePoint now = clock_.now();
  if (failed && now - bogus_logged_at_ >= std::chrono::seconds(1)) {
    bogus_logged_at_ = now;
    DP_LOG(kWarn, "DNSSEC validation failed", {"name", dnssec::name_to_text(answer.qname)},
           {"type", std::to_string(answer.qtype)},
           {"status", std::string(dnssec::status_name(verdict.status))},
           {"ede", verdict.ede ? std::to_string(static_cast<int>(*verdict.ede)) : "none"},
           {"reason", verdict.reason}, {"served", enforce ? "servfail" : "as is"});
  }
  if (failed && enforce) {
    // RFC 8914: the client is told why, in the EDE and its EXTRA-TEXT. Cached briefly, as
    // every failure is (RFC 9520 §3.2).
    dns::Query edns_query = flight.query;
    edns_query.has_edns = true;
    auto failure = dns::stored_answer_make(dns::reply_error(edns_query, dns::Rcode::kServFail),
                                           flight.rules.ttl);
    if (!DP_BUG(!failure)) {
      failure->ede_options = dns::ede_option_build(
          static_cast<std::uint16_t>(verdict.ede.value_or(dnssec::Ede::kDnssecBogus)),
          verdict.reason);
      answer_failed(flight, *failure, now);
    }
  } else if (dnssec::answer_records_write(answer, flight.query.dnssec_ok, secure, validated_)) {
    answer_flight(flight, upstream::UpstreamResult(std::span<const std::uint8_t>(validated_)),
                  secure ? report.verdict.ttl : UINT32_MAX);
  } else {
    answer_flight(flight,
                  upstream::UpstreamResult(dp::unexpected(upstream::UpstreamError::kProtocol)));
  }
  flights_.recycle(std::move(taken));
}

void CachedResolver::validation_count(const ValidationReport& report, bool failed) {
  const dnssec::Verdict& verdict = report.verdict.verdict;
  ++stats_.dnssec_answers[static_cast<std::size_t>(verdict.status)];
  if (failed)
    ++stats_.dnssec_failed[static_cast<std::size_t>(
        dnssec::ede_slot(verdict.ede.value_or(dnssec::Ede::kDnssecBogus)))];
  stats_.dnssec_fetches += report.fetches;
  const auto& by_algorithm = report.verdict.verifications.by_algorithm;
  for (std::size_t i = 0; i < by_algorithm.size(); ++i) {
    stats_.dnssec_verifications[i] += by_algorithm[i];
  }
  if (report.verdict.limit_tripped) ++stats_.dnssec_limits_tripped;
  stats_.dnssec_validation_us += static_cast<std::uint64_t>(report.took.count());
}

void CachedResolver::answer_flight(Flight& flight, const upstream::UpstreamResult& result,
                                   std::uint32_t ttl_cap) {
  const TimePoint now = clock_.now();
  if (result) {
    const bool parsed = dns::stored_answer_make_into(*result, flight.rules.ttl, stored_);
    const dns::StoredAnswer* stored = parsed ? &stored_ : nullptr;
    // Plain hops authenticate nothing; a validating route sets AD itself.
    if (stored && flight.rules.clear_ad && flight.rules.dnssec == DnssecMode::kOff) {
      dns::stored_answer_clear_ad(stored_);
    }
    if (stored) stored_.cache_ttl = std::min(stored_.cache_ttl, ttl_cap);
    if (stored && stored->kind != dns::AnswerKind::kFailure) {
      if (cache_ != nullptr && flight.rules.cache) cache_->insert(flight.key, *stored, now);
      for (const Waiter& waiter : flight.waiters) {
        dns::reply_build(stored->view(), waiter.query,
                         dns::ReplyShape{.max_size = reply_limit(waiter.client, waiter.query)},
                         reply_);
        reply_counted(sink_, stats_, waiter.client, reply_);
      }
      return;
    }
    if (stored) {  // the upstream's own SERVFAIL, REFUSED, ...: an answer, cached briefly
      answer_failed(flight, *stored, now);
      return;
    }
  }
  // RFC 8914: 22 when no upstream could be reached, 23 when the network failed us.
  const auto error = result ? upstream::UpstreamError::kProtocol : result.error();
  const auto ede = error == upstream::UpstreamError::kTimeout ? dns::Ede::kNetworkError
                                                              : dns::Ede::kNoReachableAuthority;
  dns::Query edns_query = flight.query;
  edns_query.has_edns = true;  // so that the EDE is kept for every client that sent EDNS
  auto failure = dns::stored_answer_make(dns::reply_error(edns_query, dns::Rcode::kServFail, ede),
                                         flight.rules.ttl);
  if (DP_BUG(!failure)) return;
  // RFC 9520 §3.2: a timed-out name is not asked again at once. Connection failures are not
  // cached: the upstream's back-off already answers them without waiting.
  if (error != upstream::UpstreamError::kTimeout) failure->cache_ttl = 0;
  stats_.servfail_upstream += flight.waiters.size();
  answer_failed(flight, *failure, now);
}

void CachedResolver::answer_failed(Flight& flight, const dns::StoredAnswer& failure,
                                   TimePoint now) {
  const TimePoint retry_at = now + std::chrono::seconds(flight.rules.ttl.failure_ttl);
  // RFC 8767 §4: an answer still held is better than a failure; the refresh is retried only
  // after retry_at, and clients get the stale answer at once until then.
  const bool cached = cache_ != nullptr && flight.rules.cache;
  const bool held = cached && cache_->refresh_failed(flight.key, now, retry_at);
  if (!held && cached) cache_->insert(flight.key, failure, now);
  for (const Waiter& waiter : flight.waiters) {
    const std::size_t limit = reply_limit(waiter.client, waiter.query);
    if (held && cache_->lookup(flight.key, now, waiter.query, limit, true, reply_).built) {
      ++stats_.stale_served;
    } else {
      dns::reply_build(failure.view(), waiter.query, dns::ReplyShape{.max_size = limit}, reply_);
    }
    reply_counted(sink_, stats_, waiter.client, reply_);
  }
}

void CachedResolver::on_deadline() {
  const TimePoint now = clock_.now();
  while (!stale_timers_.empty() && std::get<0>(stale_timers_.top()) <= now) {
    const auto [at, flight_id, seq] = stale_timers_.top();
    stale_timers_.pop();
    Flight* flight = flights_.by_id(flight_id);
    if (flight == nullptr || cache_ == nullptr) continue;  // answered already
    const auto waiter = std::find_if(flight->waiters.begin(), flight->waiters.end(),
                                     [seq = seq](const Waiter& w) { return w.seq == seq; });
    if (waiter == flight->waiters.end()) continue;
    const std::size_t limit = reply_limit(waiter->client, waiter->query);
    if (!cache_->lookup(flight->key, now, waiter->query, limit, true, reply_).built) continue;
    ++stats_.stale_served;  // the refresh goes on; its answer updates the cache
    // Out of the flight before its reply leaves, as answer_flight takes flights out first:
    // sending may run the client's next queries at once (a DoT client's TLS filter writes
    // synchronously), and nothing they do may find this waiter still waiting.
    const ClientRef client = waiter->client;
    flights_.remove_waiter(*flight, seq);
    reply_counted(sink_, stats_, client, reply_);
  }
  arm_timer();
}

void CachedResolver::arm_timer() {
  if (stale_timers_.empty()) {
    timer_.cancel();
    return;
  }
  const auto after = std::get<0>(stale_timers_.top()) - clock_.now();
  timer_.arm(std::chrono::duration_cast<std::chrono::microseconds>(after));
}

void CachedResolver::dnstap_log(dnstap::MessageType type, const Flight& flight,
                                std::span<const std::uint8_t> message) {
  forwarder_log(*dnstap_, type, flight.rules.transport, flight.sent_at, message);
}

}  // namespace dp::proxy
