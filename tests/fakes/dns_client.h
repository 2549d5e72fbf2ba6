// Raw DNS clients for the integration tests (a fake client: it speaks DNS with ldns itself): exact
// bytes over UDP and TCP to dotproxy, so malformed packets and pipelining can be tested, plus ldns
// helpers to build and read them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"

namespace dp::testing {

using Bytes = std::vector<std::uint8_t>;
using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;

// A query for name/type with `id`, RD set; EDNS0 (udp 1232) when `edns`.
Bytes query_build(const std::string& name, ldns_rr_type type, std::uint16_t id, bool edns = true);
// Parses a reply; null (and a test failure) if ldns cannot.
PacketPtr reply_parse(const Bytes& wire);
// The owner name of the question, as text with its case ("WwW.TeSt.").
std::string question_name(const ldns_pkt* pkt);
// The A records' addresses in the answer section, as text.
std::vector<std::string> answer_addresses(const ldns_pkt* pkt);

// One UDP socket connected to the server.
class UdpClient {
 public:
  // From `source_ip` (another loopback address, e.g. "127.0.1.1") when given.
  explicit UdpClient(std::uint16_t port, const std::string& source_ip = "");
  ~UdpClient();
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;
  void send(const Bytes& wire);
  // nullopt when nothing arrives within timeout.
  std::optional<Bytes> receive(std::chrono::milliseconds timeout);

 private:
  int fd_;
};

// One TCP connection to the server, RFC 1035 §4.2.2 framing.
class TcpClient {
 public:
  // From `source_ip` (e.g. "127.0.0.2", another loopback address) when given.
  explicit TcpClient(std::uint16_t port, const std::string& source_ip = "");
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;
  void send_raw(const Bytes& bytes);
  // False when the connection is gone (reset or closed by the server).
  bool try_send_raw(const Bytes& bytes);
  void send(const Bytes& wire);  // with length prefix
  // nullopt on timeout or when the server closed the connection.
  std::optional<Bytes> receive(std::chrono::milliseconds timeout);
  // True when the server closed the connection within timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);

 private:
  bool read_exact(std::uint8_t* out, std::size_t n, std::chrono::milliseconds timeout);
  int fd_;
};

}  // namespace dp::testing
