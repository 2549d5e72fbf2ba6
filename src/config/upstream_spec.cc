#include "config/upstream_spec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "config/units.h"
#include "config/value_error.h"

namespace dp::config {
namespace {

[[noreturn]] void fail(std::string_view spec, const std::string& problem) {
  throw ValueError("'" + std::string(spec) + "': " + problem);
}

// 0..63 for a base64 digit, -1 for anything else (RFC 4648 §4, the standard alphabet).
int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Padded base64; nullopt on a stray character, missing padding or non-zero trailing bits (a
// canonical encoding has one spelling, so a pin compares equal as text or as bytes).
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::vector<std::uint8_t> out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < text.size() - pad; ++i) {
    const int d = base64_digit(text[i]);
    if (d < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(d);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<std::uint8_t>(bits >> count));
      bits &= (1u << count) - 1;
    }
  }
  if (bits != 0) return std::nullopt;
  return out;
}

}  // namespace

std::array<std::uint8_t, 32> pin_sha256_parse(std::string_view base64) {
  const auto bytes = base64_decode(base64);
  const std::string quoted = "'" + std::string(base64) + "'";
  if (!bytes) throw ValueError(quoted + " is not base64 (A-Z a-z 0-9 + /, padded with '=')");
  if (bytes->size() != 32)
    throw ValueError(quoted + " is base64 of " + std::to_string(bytes->size()) +
                     " bytes, not of a 32-byte SHA-256 (44 characters ending in '=')");
  std::array<std::uint8_t, 32> pin{};
  std::copy(bytes->begin(), bytes->end(), pin.begin());
  return pin;
}

std::optional<TlsVersion> tls_version_parse(std::string_view text) {
  if (text == "1.2") return TlsVersion::kTls12;
  if (text == "1.3") return TlsVersion::kTls13;
  return std::nullopt;
}

std::string_view tls_version_name(TlsVersion version) {
  return version == TlsVersion::kTls13 ? "1.3" : "1.2";
}

bool hostname_plausible(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;  // empty label: leading, trailing or doubled dot
      label = 0;
      continue;
    }
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

UpstreamConfig upstream_spec_parse(std::string_view spec, std::uint16_t default_port) {
  if (spec.empty()) throw ValueError("empty upstream (expected ADDR[@PORT][#AUTH_NAME])");
  std::string_view rest = spec;

  std::string auth_name;
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    auth_name = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
    if (!hostname_plausible(auth_name))
      fail(spec, "'" + auth_name +
                     "' is not a host name (letters, digits, '-', '.'; at most 253 characters)");
  }

  std::uint16_t port = default_port;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    const std::string_view port_text = rest.substr(at + 1);
    const auto n = count_parse(port_text);
    if (!n || *n == 0 || *n > 65535)
      fail(spec, "port '" + std::string(port_text) + "' is not from 1 to 65535");
    port = static_cast<std::uint16_t>(*n);
    rest = rest.substr(0, at);
  }

  std::string_view ip = rest;
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  auto address = SocketAddress::from_ip(ip, port);
  if (!address || (ip.size() != rest.size() && address->family() != AF_INET6)) {
    // The usual slip is the ADDR:PORT form of --listen; say so rather than "not an IP".
    const auto colon = rest.find(':');
    const bool colon_port =
        (colon != rest.npos && colon == rest.rfind(':')) || rest.find("]:") != rest.npos;
    fail(spec, "'" + std::string(rest) + "' is not an IP address" +
                   (colon_port ? " (put the port after '@': ADDR@PORT)" : "") +
                   "; expected ADDR[@PORT][#AUTH_NAME]");
  }
  return UpstreamConfig{*address, std::move(auth_name)};
}

}  // namespace dp::config
