#include "config/upstream_spec.h"

#include <string>

#include "config/units.h"
#include "config/value_error.h"

namespace dp::config {
namespace {

[[noreturn]] void fail(std::string_view spec, const std::string& problem) {
  throw ValueError("'" + std::string(spec) + "': " + problem);
}

}  // namespace

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

UpstreamConfig upstream_spec_parse(std::string_view spec) {
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

  std::uint16_t port = kDotPort;
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
