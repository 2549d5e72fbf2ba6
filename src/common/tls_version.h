// The lowest TLS version a session accepts: one type for the config that names it, the TLS
// module that enforces it and the upstream description that carries it between the two.
#pragma once

namespace dp {

// RFC 8310 §8 / RFC 7525: never below TLS 1.2.
enum class TlsVersion { kTls12, kTls13 };

}  // namespace dp
