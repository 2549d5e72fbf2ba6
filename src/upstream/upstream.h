// The Upstream seam: where a cache miss goes. Production: the DoT pool; tests: a fake that
// records queries and answers, fails or times them out on command.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "common/result.h"
#include "dns/message.h"

namespace dp::upstream {

// Why an upstream query got no answer. Names double as metric and log labels.
enum class UpstreamError {
  kConnectFailed,  // TCP connect refused, unreachable or timed out
  kTlsHandshake,   // TLS protocol failure
  kTlsVerify,      // certificate chain, name or validity rejected (RFC 8310 strict)
  kClosed,         // connection closed with the query in flight, and the retry failed too
  kProtocol,       // the upstream sent something that is not DNS over TLS
  kTimeout,        // no answer before the query's deadline
  kOverloaded,     // every connection and the wait queue full
  kDown,           // the upstream failed recently and is in back-off
  kLast = kDown,   // keep it the last value: it sizes the per-cause counters
};
const char* upstream_error_name(UpstreamError error);

using UpstreamResult = Result<std::span<const std::uint8_t>, UpstreamError>;

class Upstream {
 public:
  using Callback = std::function<void(const UpstreamResult&)>;
  virtual ~Upstream() = default;

  // Sends `query` (its ID is replaced) and calls done exactly once, with an answer that
  // passed dns::answer_check against `question`, or with the error. done may run before
  // resolve() returns (overload, no usable upstream). `query` and `question` are copied, if
  // at all, before done runs: the caller may reuse their buffers once resolve() returns.
  virtual void resolve(std::span<const std::uint8_t> query, const dns::Question& question,
                       Callback done) = 0;
};

}  // namespace dp::upstream
