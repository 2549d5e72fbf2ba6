#include "fakes/dns_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace dp::testing {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

}  // namespace

Bytes query_build(const std::string& name, ldns_rr_type type, std::uint16_t id, bool edns) {
  ldns_pkt* raw = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, name.c_str(), type, LDNS_RR_CLASS_IN, LDNS_RD),
            LDNS_STATUS_OK);
  PacketPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), id);
  if (edns) ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&data, pkt.get(), &size), LDNS_STATUS_OK);
  Bytes wire(data, data + size);
  std::free(data);  // NOLINT: ldns allocates with malloc
  return wire;
}

PacketPtr reply_parse(const Bytes& wire) {
  ldns_pkt* pkt = nullptr;
  const ldns_status status = ldns_wire2pkt(&pkt, wire.data(), wire.size());
  EXPECT_EQ(status, LDNS_STATUS_OK) << ldns_get_errorstr_by_id(status);
  return PacketPtr(pkt);
}

std::string question_name(const ldns_pkt* pkt) {
  const ldns_rr_list* question = ldns_pkt_question(pkt);
  if (question == nullptr || ldns_rr_list_rr_count(question) == 0) return "";
  char* text = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(question, 0)));
  std::string out = text != nullptr ? text : "";
  std::free(text);  // NOLINT
  return out;
}

std::vector<std::string> answer_addresses(const ldns_pkt* pkt) {
  std::vector<std::string> out;
  const ldns_rr_list* answer = ldns_pkt_answer(pkt);
  for (std::size_t i = 0; answer != nullptr && i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A) continue;
    char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    out.emplace_back(text);
    std::free(text);  // NOLINT
  }
  return out;
}

namespace {
void bind_source(int fd, const std::string& source_ip) {
  if (source_ip.empty()) return;
  sockaddr_in source{};
  source.sin_family = AF_INET;
  if (inet_pton(AF_INET, source_ip.c_str(), &source.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0)
    throw std::runtime_error("bind " + source_ip);
}
}  // namespace

UdpClient::UdpClient(std::uint16_t port, const std::string& source_ip)
    : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
  if (fd_ < 0) throw std::runtime_error("socket");
  bind_source(fd_, source_ip);
  const int buffer = 8 * 1024 * 1024;  // room for thousands of replies in flight
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  const sockaddr_in sa = loopback(port);
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
    throw std::runtime_error("connect");
}

UdpClient::~UdpClient() { close(fd_); }

void UdpClient::send(const Bytes& wire) {
  ASSERT_EQ(::send(fd_, wire.data(), wire.size(), 0), static_cast<ssize_t>(wire.size()));
}

std::optional<Bytes> UdpClient::receive(std::chrono::milliseconds timeout) {
  if (!wait_readable(fd_, timeout)) return std::nullopt;
  Bytes buf(65535);
  const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

TcpClient::TcpClient(std::uint16_t port, const std::string& source_ip)
    : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  if (fd_ < 0) throw std::runtime_error("socket");
  bind_source(fd_, source_ip);
  const sockaddr_in sa = loopback(port);
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
    throw std::runtime_error("connect");
}

TcpClient::~TcpClient() { close(fd_); }

void TcpClient::send_raw(const Bytes& bytes) {
  ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

void TcpClient::send(const Bytes& wire) {
  Bytes framed = {static_cast<std::uint8_t>(wire.size() >> 8),
                  static_cast<std::uint8_t>(wire.size() & 0xff)};
  framed.insert(framed.end(), wire.begin(), wire.end());
  send_raw(framed);
}

bool TcpClient::try_send_raw(const Bytes& bytes) {
  return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(bytes.size());
}

bool TcpClient::read_exact(std::uint8_t* out, std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t got = 0;
  while (got < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(fd_, left)) return false;
    const ssize_t r = recv(fd_, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

std::optional<Bytes> TcpClient::receive(std::chrono::milliseconds timeout) {
  std::uint8_t prefix[2];
  if (!read_exact(prefix, 2, timeout)) return std::nullopt;
  Bytes message((std::size_t{prefix[0]} << 8) | prefix[1]);
  if (!read_exact(message.data(), message.size(), timeout)) return std::nullopt;
  return message;
}

bool TcpClient::closed_by_peer(std::chrono::milliseconds timeout) {
  if (!wait_readable(fd_, timeout)) return false;
  std::uint8_t byte;
  const ssize_t r = recv(fd_, &byte, 1, MSG_PEEK);
  return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);  // FIN or reset
}

}  // namespace dp::testing
