// What the upstream module knows of one server: where it is and, for DoT, the name its
// certificate must carry and the trust put on top (pins, TLS version). proxy/settings.cc fills it
// from the config, so upstream/ never sees the config's types.
#pragma once

#include <string>
#include <vector>

#include "common/socket_address.h"
#include "common/tls_version.h"
#include "tls/client_session.h"
#include "upstream/transport.h"

namespace dp::upstream {

// Plain data, copied into the pool's slot for the server and into each connection to it.
struct ServerSpec {
  SocketAddress address;  // IP literal and port
  std::string auth_name;  // checked against the certificate and sent as SNI; empty: the IP
  // RFC 7858 §4.2 SPKI pin set, any of which must be in the presented chain, on top of the CA
  // and name checks. Empty: no pin check.
  std::vector<tls::SpkiPin> pins{};
  TlsVersion tls_min_version = TlsVersion::kTls12;

  // "1.1.1.1@853#cloudflare-dns.com": the form used in logs, errors and metric labels.
  std::string display() const { return server_display(address, auth_name); }
};

}  // namespace dp::upstream
