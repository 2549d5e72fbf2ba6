// How a pool reaches its servers: DNS over TLS (RFC 7858), plain DNS over TCP (RFC 7766) or
// plain DNS over UDP (RFC 1035 §4.2.1). Names double as config values and metric labels.
#pragma once

#include <cstdint>

namespace dp::upstream {

enum class Transport : std::uint8_t {
  kTls,  // pipelined TCP stream inside TLS, strict profile (RFC 8310)
  kTcp,  // the same pipelined stream without TLS
  kUdp,  // one datagram per query from its own socket; TC=1 is retried over kTcp
};

// "tls", "tcp", "udp".
constexpr const char* transport_name(Transport transport) {
  switch (transport) {
    case Transport::kTls:
      return "tls";
    case Transport::kTcp:
      return "tcp";
    case Transport::kUdp:
      return "udp";
  }
  return "tls";
}

}  // namespace dp::upstream
