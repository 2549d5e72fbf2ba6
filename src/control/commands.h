// The control channel's commands: each turns a parsed request into its reply, acting on the
// shared cache (one shard's lock at a time) and on the workers (through Server::snapshot, the
// way a metrics scrape reaches them). Runs on the control server's thread, never a worker's.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cache/cache.h"
#include "control/protocol.h"
#include "io/unix_line_server.h"
#include "proxy/server.h"

namespace dp::control {

inline constexpr std::size_t kMaxDumpLines = 100'000;  // cache-dump stops there and says so
inline constexpr std::size_t kDumpSliceSlots = 256;    // index slots per taking of a shard lock
inline constexpr std::size_t kMaxConnections = 4;      // more at once: refused with an error
inline constexpr std::chrono::milliseconds kIdleTimeout{30'000};  // no request, or not read

struct ReloadOutcome {
  bool ok = false;
  std::string message;  // ok: what changed or needs a restart; else why it was rejected
};

// What the commands act on. Owned by main, outlives the control server.
struct ControlContext {
  proxy::Server* server = nullptr;  // also for the cache (null there: caching off)
  // SIGHUP's work, run on the control thread; main serializes it with SIGHUP.
  std::function<ReloadOutcome()> reload;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string version;
  std::size_t max_dump_lines = kMaxDumpLines;
};

// One cache entry as a cache-dump line (JSON, with "\n"). `zone`: the forward zone of its
// route tag ("" for the default upstreams, or a tag no route uses any more).
std::string dump_line(const cache::EntryInfo& entry, std::string_view zone);

// The reply to one request line: the command's, or "error REASON" after which the connection
// closes when the line does not parse. Counts the command by name and result.
std::unique_ptr<io::LineReply> control_handle(std::string_view line, ControlContext& context);

// The control socket at `path` (see io::UnixLineServer for its errors), owned by owner/group
// (-1: unchanged). Bound, not started. `context` must outlive it.
std::unique_ptr<io::UnixLineServer> control_server_create(const std::string& path, uid_t owner,
                                                          gid_t group, ControlContext& context);

}  // namespace dp::control
