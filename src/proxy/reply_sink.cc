#include "proxy/reply_sink.h"

#include "dns/wire.h"

namespace dp::proxy {

void reply_counted(ReplySink& sink, QueryStats& stats, const ClientRef& client,
                   std::span<const std::uint8_t> wire) {
  if (wire.size() >= dns::kHeaderSize) {
    const auto rcode = static_cast<std::size_t>(dns::wire_get_rcode(wire));
    if (rcode < stats.replies_by_rcode.size()) ++stats.replies_by_rcode[rcode];
    if ((wire[dns::wire::kFlags1] & dns::wire::kTcBit) != 0) ++stats.replies_truncated;
  }
  sink.reply_send(client, wire);
}

}  // namespace dp::proxy
