#include "proxy/query_log_batch.h"

#include <utility>

#include "proxy/query_log.h"

namespace dp::proxy {

QueryLogBatch::QueryLogBatch(io::EventLoop& loop, Submit submit, std::uint64_t& dropped)
    : submit_(std::move(submit)), dropped_(dropped), timer_(loop, [this] { flush(); }) {}

void QueryLogBatch::add(const ClientRef& client, std::span<const std::uint8_t> reply) {
  if (reply.empty()) return;
  if (chunk_.empty()) timer_.arm(kMaxAge);
  std::string_view route = "upstream";
  if (client.route == kRouteLocal) {
    route = "local";
  } else if (client.route < route_names_.size()) {
    route = route_names_[client.route];
  }
  query_log_line(chunk_, client, reply, route);
  ++lines_;
  if (chunk_.size() >= kChunkBytes) flush();
}

void QueryLogBatch::flush() {
  if (chunk_.empty()) return;
  timer_.cancel();
  if (!submit_(std::move(chunk_))) dropped_ += lines_;  // the writer is behind: bounded, counted
  chunk_.clear();
  lines_ = 0;
}

}  // namespace dp::proxy
