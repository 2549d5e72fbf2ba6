#include "proxy/query_handler.h"

#include <utility>

#include "common/log.h"
#include "dns/reply.h"

namespace dp::proxy {

QueryHandler::QueryHandler(upstream::Upstream& upstream, ReplySink& sink, QueryStats& stats)
    : upstream_(upstream), sink_(sink), stats_(stats) {}

void QueryHandler::reply(const ClientRef& client, std::span<const std::uint8_t> wire) {
  if (wire.size() >= dns::kHeaderSize) {
    std::size_t rcode = static_cast<std::size_t>(dns::wire_get_rcode(wire));
    if (rcode < stats_.replies_by_rcode.size()) ++stats_.replies_by_rcode[rcode];
    if ((wire[2] & 0x02) != 0) ++stats_.replies_truncated;
  }
  sink_.reply_send(client, wire);
}

void QueryHandler::handle(std::span<const std::uint8_t> message, const ClientRef& client) {
  ++(client.transport == Transport::kUdp ? stats_.queries_udp : stats_.queries_tcp);
  auto parsed = dns::query_parse(message);
  if (!parsed) {
    ++stats_.rejected[static_cast<std::size_t>(parsed.error())];
    const auto rejection = dns::reply_for_rejection(message, parsed.error());
    reply(client, rejection);  // empty: dropped, still reported so TCP frees its slot
    return;
  }
  dns::Query query = std::move(parsed).value();
  auto upstream_query = dns::upstream_query_build(query);
  dns::Question question = query.question;
  upstream_.resolve(
      std::move(upstream_query), std::move(question),
      [this, client, query = std::move(query)](const upstream::UpstreamResult& result) {
        if (!result) {
          ++stats_.servfail_upstream;
          // RFC 8914: 22 when no upstream could be reached, 23 when the network failed us.
          const auto ede = result.error() == upstream::UpstreamError::kTimeout
                               ? dns::Ede::kNetworkError
                               : dns::Ede::kNoReachableAuthority;
          reply(client, dns::reply_error(query, dns::Rcode::kServFail, ede));
          return;
        }
        const std::size_t limit = client.transport == Transport::kUdp ? query.udp_reply_limit()
                                                                      : dns::kMaxMessageSize;
        reply(client, dns::reply_from_answer(*result, query, limit));
      });
}

}  // namespace dp::proxy
