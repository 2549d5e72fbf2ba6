#include "upstream/upstream.h"

namespace dp::upstream {

const char* upstream_error_name(UpstreamError error) {
  switch (error) {
    case UpstreamError::kConnectFailed:
      return "connect_failed";
    case UpstreamError::kTlsHandshake:
      return "tls_handshake";
    case UpstreamError::kTlsVerify:
      return "tls_verify";
    case UpstreamError::kClosed:
      return "closed";
    case UpstreamError::kProtocol:
      return "protocol";
    case UpstreamError::kTimeout:
      return "timeout";
    case UpstreamError::kOverloaded:
      return "overloaded";
    case UpstreamError::kDown:
      return "down";
  }
  return "unknown";
}

}  // namespace dp::upstream
