#include "proxy/query_handler.h"

#include <utility>

#include "common/log.h"
#include "dns/reply.h"

namespace dp::proxy {

QueryPolicy QueryPolicy::open() {
  return QueryPolicy{
      std::make_shared<const policy::Acl>(std::vector<policy::AclRule>{
          *policy::acl_rule_parse("0.0.0.0/0 allow"), *policy::acl_rule_parse("::/0 allow")}),
      nullptr, std::make_shared<const dns::LocalZones>(dns::LocalZones::none()), nullptr,
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
                                std::shared_ptr<const dns::LocalZones> local_zones) {
  policy_.acl = std::move(acl);
  policy_.rate_limiter = rate_limiter;
  policy_.local_zones = std::move(local_zones);
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
  if (auto local = policy_.local_zones->answer(query)) {
    ++stats_.local_answers;  // RFC 6761/6303: never leaves the host
    reply(client, *local);
    return;
  }
  if (policy_.blocklist != nullptr && policy_.blocklist->blocked(query.question.qname_lower)) {
    ++stats_.blocked;  // never leaves the host either
    reply(client, dns::reply_blocked(query, policy_.blocklist_answer));
    return;
  }
  resolver_.resolve(std::move(query), client);
}

}  // namespace dp::proxy
