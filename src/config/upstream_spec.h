// The upstream syntax shared with Unbound and Knot: "ADDR[@PORT][#AUTH_NAME]", e.g.
// "1.1.1.1@853#cloudflare-dns.com" or "[2606:4700:4700::1111]#cloudflare-dns.com".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace dp::config {

inline constexpr std::uint16_t kDotPort = 853;  // RFC 7858 §3.1

// ADDR is an IP literal; IPv6 may be bracketed or bare (the '@' before the port keeps a bare
// one unambiguous). PORT is 1..65535, default `default_port` (853). AUTH_NAME must pass
// hostname_plausible(). Throws ValueError naming the spec and what is wrong with it.
UpstreamConfig upstream_spec_parse(std::string_view spec, std::uint16_t default_port = kDotPort);

// "1.3" -> kTls13; "1.2" -> kTls12; anything else: nullopt.
std::optional<TlsVersion> tls_version_parse(std::string_view text);
std::string_view tls_version_name(TlsVersion version);  // "1.2", "1.3"

// Standard base64 (RFC 4648 §4, padded) of exactly 32 bytes, as `openssl dgst -sha256 -binary
// | base64` prints a SPKI hash. Throws ValueError saying whether the text is not base64 or
// decodes to another length.
std::array<std::uint8_t, 32> pin_sha256_parse(std::string_view base64);

// Letters, digits, '-' and '.'; labels of 1..63 characters; at most 253 in all. Enough to
// catch typos and stray characters in an authentication name, not a full RFC 1123 check.
bool hostname_plausible(std::string_view name);

}  // namespace dp::config
