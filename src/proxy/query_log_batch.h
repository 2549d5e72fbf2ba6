// A worker's query-log lines (--query-log), gathered into chunks the log writer takes whole:
// one hand-over per 16 KiB or 200 ms, not one per reply.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "io/event_loop.h"
#include "proxy/reply_sink.h"

namespace dp::proxy {

// Owned by one worker; its loop's thread only (and its destructor's, once the loop is gone).
class QueryLogBatch {
 public:
  static constexpr std::size_t kChunkBytes = 16 << 10;      // handed over once this full
  static constexpr std::chrono::milliseconds kMaxAge{200};  // or once its first line is this old
  // Hands a chunk of whole lines to the writer; false when it was not taken (writer behind).
  using Submit = std::function<bool(std::string chunk)>;

  // Lines of chunks not taken are counted in `dropped`, which outlives the batch.
  QueryLogBatch(io::EventLoop& loop, Submit submit, std::uint64_t& dropped);
  QueryLogBatch(const QueryLogBatch&) = delete;
  QueryLogBatch& operator=(const QueryLogBatch&) = delete;

  // The log line of one reply; nothing for an empty (dropped) reply.
  void add(const ClientRef& client, std::span<const std::uint8_t> reply);
  // The names of the routes by ClientRef::route: [0] the default upstreams, [1 + n] forward
  // zone n. At start and on reload; a reply of a query routed before a reload that renumbered
  // the zones may be logged under its new number's name.
  void set_route_names(std::vector<std::string> names) { route_names_ = std::move(names); }
  // Hands what is gathered to the writer now (the timer does, and the worker at its end).
  void flush();

  std::size_t lines() const { return lines_; }  // gathered, not yet handed over

 private:
  Submit submit_;
  std::uint64_t& dropped_;
  std::vector<std::string> route_names_{"upstream"};
  std::string chunk_;
  std::uint64_t lines_ = 0;
  io::Timer timer_;  // armed from a chunk's first line
};

}  // namespace dp::proxy
