#include "proxy/query_handler.h"

#include <utility>

#include "common/check.h"
#include "common/log.h"
#include "dns/reply.h"

namespace dp::proxy {

QueryPolicy QueryPolicy::open() {
  return QueryPolicy{
      std::make_shared<const policy::Acl>(std::vector<policy::AclRule>{
          *policy::acl_rule_parse("0.0.0.0/0 allow"), *policy::acl_rule_parse("::/0 allow")}),
      nullptr, std::make_shared<const NameRoutes>(NameRoutes::builtin(false)), nullptr,
      dns::BlockedAnswer::kNxDomain};
}

QueryHandler::QueryHandler(CachedResolver& resolver, ReplySink& sink, QueryStats& stats,
                           QueryPolicy policy, const TimeSource* clock)
    : sink_(sink),
      stats_(stats),
      policy_(std::move(policy)),
      clock_(clock != nullptr ? clock : &steady_),
      resolver_(resolver) {}

bool QueryHandler::guard(std::span<const std::uint8_t> message, const ClientRef& client) {
  switch (policy_.acl->check(client.peer)) {
    case policy::AclAction::kAllow:
      break;
    case policy::AclAction::kDrop:
      ++stats_.acl_dropped;
      reply(client, {});
      return true;
    case policy::AclAction::kRefuse: {
      ++stats_.acl_refused;
      // RFC 8914 §4.19: EDE 18 Prohibited. Garbage from outside gets nothing at all.
      auto parsed = dns::query_parse(message);
      if (parsed) {
        reply(client, dns::reply_error(*parsed, dns::Rcode::kRefused, dns::Ede::kProhibited));
      } else {
        reply(client, {});
      }
      return true;
    }
  }
  if (client.transport != Transport::kUdp || policy_.rate_limiter == nullptr) return false;
  switch (policy_.rate_limiter->check(client.peer, clock_->now())) {
    case policy::RateDecision::kPass:
      return false;
    case policy::RateDecision::kDrop:
      ++stats_.rate_limited;
      reply(client, {});
      return true;
    case policy::RateDecision::kSlip: {
      ++stats_.rate_slipped;
      auto parsed = dns::query_parse(message);
      reply(client, parsed ? dns::reply_truncated(*parsed) : std::vector<std::uint8_t>{});
      return true;
    }
  }
  return false;
}

void QueryHandler::update_guard(std::shared_ptr<const policy::Acl> acl,
                                policy::RateLimiter* rate_limiter,
                                std::shared_ptr<const NameRoutes> names) {
  policy_.acl = std::move(acl);
  policy_.rate_limiter = rate_limiter;
  policy_.names = std::move(names);
}

void QueryHandler::update_blocklist(std::shared_ptr<const policy::Blocklist> blocklist,
                                    dns::BlockedAnswer answer) {
  policy_.blocklist = std::move(blocklist);
  policy_.blocklist_answer = answer;
}

void QueryHandler::reply(const ClientRef& client, std::span<const std::uint8_t> wire) {
  reply_counted(sink_, stats_, client, wire);
}

void QueryHandler::handle(std::span<const std::uint8_t> message, const ClientRef& client) {
  ++(client.transport == Transport::kUdp ? stats_.queries_udp : stats_.queries_tcp);
  if (guard(message, client)) return;
  const auto parsed = dns::query_parse_into(message, query_);
  if (!parsed) {
    ++stats_.rejected[static_cast<std::size_t>(parsed.error())];
    const auto rejection = dns::reply_for_rejection(message, parsed.error());
    reply(client, rejection);  // empty: dropped, still reported so TCP frees its slot
    return;
  }
  dns::Query& query = query_;
  const zones::Route route = policy_.names->table.route_find(query.question.qname_lower);
  if (answer_locally(client, route)) return;
  if (policy_.blocklist != nullptr && policy_.blocklist->blocked(query.question.qname_lower)) {
    ++stats_.blocked;  // never leaves the host either
    reply(client, dns::reply_blocked(query, policy_.blocklist_answer));
    return;
  }
  if (route.kind == zones::Route::Kind::kForward) {
    // A forwarded name never goes to the default upstreams, not even when our tables disagree.
    if (DP_BUG(route.zone >= zones_.size())) {
      reply(client, dns::reply_error(query, dns::Rcode::kServFail));
      return;
    }
    forward(client, zones_[route.zone]);
    return;
  }
  resolver_.resolve(std::move(query), client);
}

const RouteTarget& QueryHandler::fetch_target(std::string_view qname_lower,
                                              const RouteTarget& fallback) {
  const zones::Route route = policy_.names->table.route_find(qname_lower);
  if (route.kind != zones::Route::Kind::kForward || route.zone >= zones_.size()) return fallback;
  const RouteTarget& target = zones_[route.zone].target;
  if (target.rules.dnssec == DnssecMode::kOff || target.upstream == nullptr) return fallback;
  return target;
}

bool QueryHandler::answer_locally(const ClientRef& client, zones::Route route) {
  const NameRoutes& names = *policy_.names;
  const bool local_zone = route.kind == zones::Route::Kind::kLocal;
  std::optional<std::vector<std::uint8_t>> local;
  // The operator's data first, wherever the name is; inside a zone answered here, a type the
  // name has no data for is NODATA rather than the zone's NXDOMAIN.
  if (!names.local_data.empty()) {
    local = names.local_data.answer(query_, reply_limit(client, query_), local_zone);
  }
  if (!local && local_zone) local = names.local_zones.answer(query_);  // RFC 6761/6303
  if (!local) return false;
  ++stats_.local_answers;  // never leaves the host
  ClientRef local_client = client;
  local_client.route = kRouteLocal;
  reply(local_client, *local);
  return true;
}

void QueryHandler::forward(const ClientRef& client, const ZoneRoute& zone) {
  ClientRef routed = client;
  routed.route = zone.log_slot;
  if (loop_suspected(client, zone)) {
    ++stats_.loop_guarded;
    reply(routed, dns::reply_error(query_, dns::Rcode::kServFail));
    return;
  }
  resolver_.resolve(std::move(query_), routed, zone.target);
}

bool QueryHandler::loop_suspected(const ClientRef& client, const ZoneRoute& zone) {
  // A zone's own server asking us for a name in its zone: it forwards to us what we forward to
  // it (CoreDNS's "forward ." to us, our in-addr.arpa to it). Sent on, the query would wait on
  // itself until both sides time out.
  for (const SocketAddress& server : zone.servers) {
    if (!server.same_host(client.peer)) continue;
    // 127.0.0.1 and ::1 are where every local client asks from too: there only a query that
    // is the one we are waiting on that server for is taken for ours coming back.
    if (!server.is_default_loopback()) return true;
    return resolver_.in_flight(query_, zone.target);
  }
  return false;
}

}  // namespace dp::proxy
