// Forward zones in the configuration: "ZONE TRANSPORT SERVER [SERVER...]" parsed and checked,
// so that a zone which would leak queries in clear, loop back to us or shadow localhost never
// gets past start-up. The routing itself is zones/'s.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace dp::config {

inline constexpr std::uint16_t kPlainDnsPort = 53;  // RFC 1035 §4.2

std::string_view zone_transport_name(ZoneTransport transport);  // "tls", "tcp", "udp", "upstream"
std::optional<ZoneTransport> zone_transport_parse(std::string_view text);

// A forward zone's name in canonical form: lowercase, no trailing dot. Labels of letters,
// digits, '-' and '_', 1..63 characters, at most 253 in all. Throws ValueError for anything
// else, for the root, and for a zone at or under localhost, invalid, 127.in-addr.arpa or the
// ::1 reverse name, which always stay local (RFC 6761 §6.3, §6.4; RFC 6303 §4.2, §4.3).
std::string zone_name_parse(std::string_view text);

// One server of a zone, "ADDR[@PORT][#AUTH_NAME]": port 853 for tls, 53 for tcp and udp.
// Throws ValueError.
UpstreamConfig zone_server_parse(std::string_view spec, ZoneTransport transport);

// "corp.example tcp 10.0.0.53 10.0.0.54@5353": the command line's and environment's form,
// fields separated by blanks. The result has passed forward_zone_check(). Throws ValueError.
ForwardZoneConfig forward_zone_parse(std::string_view spec);

// What one zone must satisfy on its own: servers for every transport but upstream (and none
// for it); tls servers authenticated by an auth name or a pin; no auth name or pin on plain
// transports; plain servers in loopback, RFC 1918, 100.64.0.0/10, link-local or unique-local
// space unless allow_public_plain. Throws ValueError starting "zone 'NAME': ".
void forward_zone_check(const ForwardZoneConfig& zone);

// Appends `zone` to `zones`; throws ValueError if its name is there already.
void forward_zone_add(std::vector<ForwardZoneConfig>& zones, ForwardZoneConfig zone);

// True for the ranges where clear-text DNS stays on the host or the local network:
// 127/8, 10/8, 172.16/12, 192.168/16, 100.64/10, 169.254/16, ::1, fe80::/10, fc00::/7
// (IPv4-mapped IPv6 by its IPv4 address).
bool address_plain_safe(const SocketAddress& address);

// A zone server that is one of our own listen addresses: the same IP and port, or a wildcard
// listen address (0.0.0.0, ::) of the same family and port and a server address of this host
// (loopback, unspecified, or an interface's). "forward_zone: ..." text, or nullopt.
std::optional<std::string> forward_zone_listen_conflict(const Config& config);

}  // namespace dp::config
