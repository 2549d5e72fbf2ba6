// The optional query log (--query-log): one line per reply, built on the worker's thread into
// a chunk of its own and written to the file by a thread of the log's own, so a slow disk
// never stalls a worker. Bounded: chunks that do not fit the queue are dropped and counted.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "proxy/reply_sink.h"

namespace dp::proxy {

// Shared by the workers; owned by main(). Thread-safe.
class QueryLogWriter {
 public:
  static constexpr std::size_t kMaxQueuedBytes = 8 << 20;  // beyond: chunks dropped

  // Opens `path` for appending. Throws std::runtime_error with one line if it cannot.
  explicit QueryLogWriter(const std::string& path);
  ~QueryLogWriter();  // writes what is queued, then closes
  QueryLogWriter(const QueryLogWriter&) = delete;
  QueryLogWriter& operator=(const QueryLogWriter&) = delete;

  // Queues a chunk of whole lines; false (and nothing queued) when the queue is full.
  bool submit(std::string chunk);
  // SIGHUP: re-opens the file, so that a rotated log is let go of.
  void reopen();

 private:
  void run();

  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool reopen_ = false;
  bool stop_ = false;
  std::thread thread_;
};

// Appends the log line of one reply to `out`: time, client, transport, name, type, route (the
// forward zone that answered, "upstream" for the default upstreams, "local" when answered here),
// rcode, size and TC (logfmt). Nothing for an empty (dropped) reply.
void query_log_line(std::string& out, const ClientRef& client, std::span<const std::uint8_t> reply,
                    std::string_view route = "upstream");

}  // namespace dp::proxy
