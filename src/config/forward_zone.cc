#include "config/forward_zone.h"

#include <arpa/inet.h>
#include <ifaddrs.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "common/c_ptr.h"
#include "config/upstream_spec.h"
#include "config/value_error.h"

namespace dp::config {
namespace {

constexpr std::size_t kMaxLabel = 63;      // RFC 1035 §2.3.4
constexpr std::size_t kMaxNameText = 253;  // 255 wire bytes less the first length and the root

[[noreturn]] void zone_fail(std::string_view zone, const std::string& problem) {
  throw ValueError("zone '" + std::string(zone) + "': " + problem);
}

// The names that must never leave the host, whatever is configured: a forward zone at or
// under one of them is refused rather than silently shadowed (or silently obeyed).
std::array<std::string, 4> always_local_zones() {
  std::string loopback6 = "1";
  for (int nibble = 0; nibble < 31; ++nibble) loopback6 += ".0";
  return {"localhost", "invalid", "127.in-addr.arpa", loopback6 + ".ip6.arpa"};
}

bool name_at_or_under(std::string_view name, std::string_view zone) {
  if (name == zone) return true;
  return name.size() > zone.size() && name.ends_with(zone) &&
         name[name.size() - zone.size() - 1] == '.';
}

std::vector<std::string_view> fields_split(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == '\t') {
      ++pos;
      continue;
    }
    const std::size_t end = std::min(text.find_first_of(" \t", pos), text.size());
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

bool v4_in(const std::uint8_t* a, std::uint32_t net, int bits) {
  const std::uint32_t ip =
      (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) | a[3];
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (ip & mask) == (net & mask);
}

// The address's bytes (4 or 16) and their count; IPv4-mapped IPv6 as IPv4.
std::pair<const std::uint8_t*, std::size_t> address_bytes(const SocketAddress& address) {
  if (address.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(address.sa());
    return {reinterpret_cast<const std::uint8_t*>(&sin->sin_addr), 4};
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address.sa());
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&sin6->sin6_addr);
  if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) return {bytes + 12, 4};
  return {bytes, 16};
}

bool address_unspecified(const SocketAddress& address) {
  const auto [bytes, size] = address_bytes(address);
  return std::all_of(bytes, bytes + size, [](std::uint8_t b) { return b == 0; });
}

bool address_loopback(const SocketAddress& address) {
  const auto [bytes, size] = address_bytes(address);
  if (size == 4) return bytes[0] == 127;
  return std::all_of(bytes, bytes + 15, [](std::uint8_t b) { return b == 0; }) && bytes[15] == 1;
}

bool same_ip(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family()) return false;
  const auto [ab, as] = address_bytes(a);
  const auto [bb, bs] = address_bytes(b);
  return as == bs && std::memcmp(ab, bb, as) == 0;
}

using IfAddrsPtr = CPtr<ifaddrs, freeifaddrs>;

// Loopback, unspecified (which reaches this host), or an address of one of its interfaces.
bool address_of_this_host(const SocketAddress& address) {
  if (address_loopback(address) || address_unspecified(address)) return true;
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) return false;  // only a cross-check: the same-IP rule still holds
  const IfAddrsPtr list(raw);
  for (const ifaddrs* i = list.get(); i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    const SocketAddress own(i->ifa_addr,
                            family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    if (same_ip(own, address)) return true;
  }
  return false;
}

}  // namespace

std::string_view zone_transport_name(ZoneTransport transport) {
  switch (transport) {
    case ZoneTransport::kTls:
      return "tls";
    case ZoneTransport::kTcp:
      return "tcp";
    case ZoneTransport::kUdp:
      return "udp";
    case ZoneTransport::kUpstream:
      return "upstream";
  }
  return "tls";
}

std::optional<ZoneTransport> zone_transport_parse(std::string_view text) {
  for (const auto t :
       {ZoneTransport::kTls, ZoneTransport::kTcp, ZoneTransport::kUdp, ZoneTransport::kUpstream}) {
    if (text == zone_transport_name(t)) return t;
  }
  return std::nullopt;
}

std::string zone_name_parse(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  std::string name(text);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty())
    throw ValueError(quoted +
                     ": the root cannot be a forward zone (the default upstreams serve it; "
                     "see --upstream)");
  if (name.size() > kMaxNameText)
    throw ValueError(quoted + " is not a zone name (at most 253 characters)");
  std::size_t label = 0;
  for (char& c : name) {
    if (c == '.') {
      if (label == 0) throw ValueError(quoted + " is not a zone name (empty label)");
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok)
      throw ValueError(quoted +
                       " is not a zone name (letters, digits, '-', '_' and '.' between labels)");
    if (++label > kMaxLabel)
      throw ValueError(quoted + " is not a zone name (a label is longer than 63 characters)");
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (label == 0) throw ValueError(quoted + " is not a zone name (empty label)");
  for (const std::string& local : always_local_zones()) {
    if (!name_at_or_under(name, local)) continue;
    std::string problem = quoted;
    problem += " is at or under ";
    problem += local;
    problem += ", which is always answered locally (RFC 6761, RFC 6303)";
    throw ValueError(problem);
  }
  return name;
}

UpstreamConfig zone_server_parse(std::string_view spec, ZoneTransport transport) {
  return upstream_spec_parse(spec, transport == ZoneTransport::kTls ? kDotPort : kPlainDnsPort);
}

ForwardZoneConfig forward_zone_parse(std::string_view spec) {
  const std::vector<std::string_view> fields = fields_split(spec);
  if (fields.size() < 2)
    throw ValueError("'" + std::string(spec) +
                     "' is not ZONE TRANSPORT [SERVER...] (TRANSPORT tls, tcp, udp or upstream)");
  ForwardZoneConfig zone;
  zone.zone = zone_name_parse(fields[0]);
  const auto transport = zone_transport_parse(fields[1]);
  if (!transport)
    zone_fail(zone.zone, "unknown transport '" + std::string(fields[1]) +
                             "' (expected tls, tcp, udp or upstream)");
  zone.transport = *transport;
  for (std::size_t i = 2; i < fields.size(); ++i) {
    try {
      zone.servers.push_back(zone_server_parse(fields[i], zone.transport));
    } catch (const ValueError& e) {
      zone_fail(zone.zone, e.what());
    }
  }
  forward_zone_check(zone);
  return zone;
}

void forward_zone_check(const ForwardZoneConfig& zone) {
  const std::string_view transport = zone_transport_name(zone.transport);
  if (zone.transport == ZoneTransport::kUpstream) {
    if (!zone.servers.empty())
      zone_fail(zone.zone,
                "transport upstream takes no servers (its names go to the default upstreams)");
    return;
  }
  if (zone.servers.empty())
    zone_fail(zone.zone, "no servers (give ZONE " + std::string(transport) + " ADDR[@PORT]...)");
  for (const UpstreamConfig& server : zone.servers) {
    const std::string shown = server.display();
    if (const auto [b, size] = address_bytes(server.address);
        size == 16 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
      // fe80::/10 means nothing without an interface (RFC 4007 §6), and addresses here have none.
      zone_fail(zone.zone, "server " + shown +
                               " is IPv6 link-local, which needs an interface scope dotproxy "
                               "does not take: give its unique-local or global address");
    }
    if (zone.transport == ZoneTransport::kTls) {
      // RFC 8310 §5: the strict profile needs something to authenticate the server by.
      if (server.auth_name.empty() && server.pins.empty())
        zone_fail(zone.zone, "tls server " + shown +
                                 " needs #AUTH_NAME (or pin_sha256 in the file) to be "
                                 "authenticated");
      continue;
    }
    if (!server.auth_name.empty())
      zone_fail(zone.zone, "server " + shown + ": #AUTH_NAME is for tls; " +
                               std::string(transport) + " is not authenticated");
    if (!server.pins.empty())
      zone_fail(zone.zone,
                "pin_sha256 is for tls; " + std::string(transport) + " is not authenticated");
    if (!zone.allow_public_plain && !address_plain_safe(server.address))
      zone_fail(zone.zone, "server " + shown +
                               " is not in a loopback, private, link-local or unique-local "
                               "range: plain " +
                               std::string(transport) +
                               " to it would cross networks in clear (use tls, or "
                               "allow_public_plain = true in the file)");
  }
}

void forward_zone_add(std::vector<ForwardZoneConfig>& zones, ForwardZoneConfig zone) {
  const auto same = [&](const ForwardZoneConfig& z) { return z.zone == zone.zone; };
  if (std::any_of(zones.begin(), zones.end(), same))
    throw ValueError("zone '" + zone.zone + "' is given twice (names compare without case and " +
                     "trailing dot)");
  zones.push_back(std::move(zone));
}

bool address_plain_safe(const SocketAddress& address) {
  const auto [b, size] = address_bytes(address);
  if (size == 4) {
    return v4_in(b, 0x7f000000, 8) ||   // 127/8 loopback
           v4_in(b, 0x0a000000, 8) ||   // 10/8 (RFC 1918)
           v4_in(b, 0xac100000, 12) ||  // 172.16/12 (RFC 1918)
           v4_in(b, 0xc0a80000, 16) ||  // 192.168/16 (RFC 1918)
           v4_in(b, 0x64400000, 10) ||  // 100.64/10 shared address space (RFC 6598)
           v4_in(b, 0xa9fe0000, 16);    // 169.254/16 link-local (RFC 3927)
  }
  return address_loopback(address) ||  // ::1
         (b[0] & 0xfe) == 0xfc;        // fc00::/7 unique-local (RFC 4193)
}

std::optional<std::string> forward_zone_listen_conflict(const Config& config) {
  std::vector<SocketAddress> own = config.listen;
  own.insert(own.end(), config.listen_tls.begin(), config.listen_tls.end());
  for (const ForwardZoneConfig& zone : config.forward_zones) {
    for (const UpstreamConfig& server : zone.servers) {
      for (const SocketAddress& listen : own) {
        if (listen.port() != server.address.port()) continue;
        const bool same = same_ip(listen, server.address);
        // IPV6_V6ONLY is set on our sockets (io/socket.cc): :: takes IPv6 only.
        const bool wildcard = listen.family() == server.address.family() &&
                              address_unspecified(listen) && address_of_this_host(server.address);
        if (same || wildcard)
          return "forward_zone: zone '" + zone.zone + "': server " + server.display() +
                 " is dotproxy's own listen address " + listen.to_string() +
                 ": its queries would come back to us";
      }
    }
  }
  return std::nullopt;
}

}  // namespace dp::config
