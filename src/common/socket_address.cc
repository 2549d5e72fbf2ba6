#include "common/socket_address.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

namespace dp {

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) {
  if (len > sizeof storage_) len = sizeof storage_;
  std::memcpy(&storage_, sa, len);
  len_ = len;
}

std::optional<SocketAddress> SocketAddress::from_ip(std::string_view ip, std::uint16_t port) {
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, ip.data(), ip.size());
  buf[ip.size()] = '\0';
  SocketAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage_);
  if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len_ = sizeof(sockaddr_in);
    return out;
  }
  if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.len_ = sizeof(sockaddr_in6);
    return out;
  }
  return std::nullopt;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // brackets are for v6
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty())
    return std::nullopt;
  return from_ip(host, static_cast<std::uint16_t>(port));
}

std::uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

void SocketAddress::set_port(std::uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

std::string SocketAddress::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
              sizeof buf);
  }
  return buf;
}

std::string SocketAddress::to_string() const {
  if (family() == AF_INET6) return "[" + ip_string() + "]:" + std::to_string(port());
  return ip_string() + ":" + std::to_string(port());
}

namespace {

// The address's IP as 16 bytes, IPv4 as its IPv4-mapped IPv6 form (RFC 4291 §2.5.5.2).
std::array<std::uint8_t, 16> ip_bytes(const sockaddr* sa) {
  std::array<std::uint8_t, 16> out{};
  if (sa->sa_family == AF_INET) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
  }
  return out;
}

}  // namespace

bool SocketAddress::same_host(const SocketAddress& other) const {
  const int a = family();
  const int b = other.family();
  if ((a != AF_INET && a != AF_INET6) || (b != AF_INET && b != AF_INET6)) return false;
  return ip_bytes(sa()) == ip_bytes(other.sa());
}

bool SocketAddress::is_default_loopback() const {
  if (family() != AF_INET && family() != AF_INET6) return false;
  const auto bytes = ip_bytes(sa());
  static constexpr std::array<std::uint8_t, 16> kV4{0, 0, 0,    0,    0,   0, 0, 0,
                                                    0, 0, 0xff, 0xff, 127, 0, 0, 1};
  static constexpr std::array<std::uint8_t, 16> kV6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes == kV4 || bytes == kV6;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

std::string server_display(const SocketAddress& address, std::string_view auth_name) {
  // Brackets keep a v6 address readable next to '@' and match what upstream_spec_parse takes.
  std::string out =
      address.family() == AF_INET6 ? "[" + address.ip_string() + "]" : address.ip_string();
  out += "@" + std::to_string(address.port());
  if (!auth_name.empty()) out.append("#").append(auth_name);
  return out;
}

}  // namespace dp
