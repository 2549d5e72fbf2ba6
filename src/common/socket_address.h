// An IPv4 or IPv6 address with a port, parsed from and printed as "1.2.3.4:53" / "[::1]:53".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dp {

class SocketAddress {
 public:
  SocketAddress() = default;
  SocketAddress(const sockaddr* sa, socklen_t len);

  // "ADDR:PORT" with ADDR an IPv4 literal, or "[V6]:PORT". nullopt on anything else.
  static std::optional<SocketAddress> parse(std::string_view text);
  // A bare IP literal (v4 or v6, no brackets) and a port. nullopt if not an IP literal.
  static std::optional<SocketAddress> from_ip(std::string_view ip, std::uint16_t port);

  int family() const { return storage_.ss_family; }
  std::uint16_t port() const;
  void set_port(std::uint16_t port);
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t length() const { return len_; }
  socklen_t* length_ptr() { return &len_; }
  static constexpr socklen_t capacity() { return sizeof(sockaddr_storage); }

  std::string ip_string() const;  // "1.2.3.4" or "::1"
  std::string to_string() const;  // "1.2.3.4:53" or "[::1]:53"

  // The same IP, whatever the ports; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a
  // dual-stack socket reports) is its IPv4 address.
  bool same_host(const SocketAddress& other) const;
  // 127.0.0.1 or ::1 (or ::ffff:127.0.0.1): the source of most local traffic.
  bool is_default_loopback() const;

  friend bool operator==(const SocketAddress& a, const SocketAddress& b);

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

// "1.1.1.1@853#cloudflare-dns.com" or "[::1]@853": a DNS server as the upstream syntax shared
// with Unbound and Knot writes it, for logs and errors; no '#' part when auth_name is empty.
std::string server_display(const SocketAddress& address, std::string_view auth_name);

}  // namespace dp
