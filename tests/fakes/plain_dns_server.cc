#include "fakes/plain_dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <stdexcept>
#include <utility>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"

namespace dp::testing {
namespace {

using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;
using RdfPtr = CPtr<ldns_rdf, ldns_rdf_deep_free>;
using RrPtr = CPtr<ldns_rr, ldns_rr_free>;
using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kEdnsUdpSize = 1232;  // advertised in every answer's OPT
constexpr std::size_t kMinUdpSize = 512;      // RFC 1035 §4.2.1; RFC 6891 §6.2.5 floor
constexpr int kBindTries = 50;                // port 0: the kernel's TCP port taken for UDP
constexpr int kBigTxtRecords = 8;             // big.cluster.local: 8 x 100 octets, 931 bytes
constexpr std::size_t kBigTxtLength = 100;
constexpr std::size_t kMaxUdpMessage = 65535;

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error("PlainDnsServer: " + what + ": " + std::strerror(errno));
}

// The zone's records are fixed or come from the test's config: a bad one is the test's bug.
RrPtr rr_parse(const std::string& text) {
  ldns_rr* raw = nullptr;
  const ldns_status st = ldns_rr_new_frm_str(&raw, text.c_str(), 0, nullptr, nullptr);
  if (st != LDNS_STATUS_OK) {
    throw std::invalid_argument("PlainDnsServer: bad record '" + text +
                                "': " + ldns_get_errorstr_by_id(st));
  }
  return RrPtr(raw);
}

RdfPtr dname_parse(const std::string& text) {
  ldns_rdf* rdf = ldns_dname_new_frm_str(text.c_str());
  if (rdf == nullptr) throw std::invalid_argument("PlainDnsServer: bad name '" + text + "'");
  return RdfPtr(rdf);
}

std::string rdf_text(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  std::string out = text != nullptr ? text : "";
  std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  return out;
}

// The per-name counters' key: lowercase, no final dot (the root stays ".").
std::string name_key(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  return name;
}

// At or below `apex` (case-insensitive).
bool in_zone(const ldns_rdf* name, const ldns_rdf* apex) {
  return ldns_dname_compare(name, apex) == 0 || ldns_dname_is_subdomain(name, apex);
}

Bytes header_only(std::span<const std::uint8_t> query, ldns_pkt_rcode rcode) {
  Bytes out(12, 0);
  out[0] = query[0];
  out[1] = query[1];
  out[2] = static_cast<std::uint8_t>(0x80 | (query[2] & 0x79));  // QR; opcode and RD kept
  out[3] = static_cast<std::uint8_t>(0x80 | (rcode & 0x0f));     // RA
  return out;
}

Bytes framed(const Bytes& msg) {
  Bytes out;
  out.reserve(msg.size() + 2);
  out.push_back(static_cast<std::uint8_t>(msg.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(msg.size() & 0xff));
  out.insert(out.end(), msg.begin(), msg.end());
  return out;
}

// Pulls whole length-prefixed messages (RFC 1035 §4.2.2) off the front of `buf`. Returns false
// on a zero-length frame, which no query can have.
bool take_frames(Bytes& buf, std::vector<Bytes>& out) {
  std::size_t pos = 0;
  while (buf.size() - pos >= 2) {
    const std::size_t len = (static_cast<std::size_t>(buf[pos]) << 8) | buf[pos + 1];
    if (len == 0) return false;
    if (buf.size() - pos - 2 < len) break;
    const auto begin = buf.begin() + static_cast<std::ptrdiff_t>(pos + 2);
    out.emplace_back(begin, begin + static_cast<std::ptrdiff_t>(len));
    pos += 2 + len;
  }
  buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pos));
  return true;
}

bool send_all(int fd, const Bytes& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

// A query read and not yet answered: its answer is due at its key in a multimap.
struct Pending {
  Bytes query;
  SockAddr peer;  // UDP: where the answer goes
};
using DueQueue = std::multimap<Clock::time_point, Pending>;

// poll() timeout until the earliest of `due` (-1: none), rounded up so that it never spins.
int poll_timeout(const DueQueue& due) {
  if (due.empty()) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(due.begin()->first - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
}

SockAddr sockaddr_make(const std::string& address, std::uint16_t port) {
  SockAddr out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.len = sizeof *v6;
  } else {
    throw std::invalid_argument("PlainDnsServer: bad address " + address);
  }
  return out;
}

}  // namespace

// The records and zones, immutable after construction, read by every thread.
struct PlainDnsServer::Zone {
  struct Apex {
    RdfPtr name;
    RrPtr soa;
  };
  std::vector<Apex> apexes;
  std::vector<RrPtr> records;

  explicit Zone(const PlainDnsServerConfig& config) {
    std::vector<std::string> zones = {"cluster.local.", "in-addr.arpa.", "ip6.arpa."};
    zones.insert(zones.end(), config.extra_zones.begin(), config.extra_zones.end());
    const std::string m = std::to_string(config.soa_minimum);
    for (const std::string& z : zones) {
      RdfPtr name = dname_parse(z);
      // The SOA CoreDNS's kubernetes plugin serves (serial aside) for each of its zones.
      RrPtr soa = rr_parse(rdf_text(name.get()) + " " + m +
                           " IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 "
                           "86400 " +
                           m);
      apexes.push_back({std::move(name), std::move(soa)});
    }

    const std::string ttl = " " + std::to_string(config.ttl) + " IN ";
    std::vector<std::pair<std::string, std::string>> addresses = {
        {"kubernetes.default.svc.cluster.local.", "10.96.0.1"},
        {"kube-dns.kube-system.svc.cluster.local.", "10.96.0.10"},
        {"web.default.svc.cluster.local.", "10.96.0.20"},
        {"web.default.svc.cluster.local.", "fd00::20"},
    };
    addresses.insert(addresses.end(), config.extra_addresses.begin(), config.extra_addresses.end());
    for (const auto& [name, address] : addresses) {
      const bool v6 = address.find(':') != std::string::npos;
      RrPtr rr = rr_parse(name + ttl + (v6 ? "AAAA " : "A ") + address);
      if (apex_of(ldns_rr_owner(rr.get())) == nullptr) {
        throw std::invalid_argument("PlainDnsServer: " + name + " is outside every zone served");
      }
      // Every address gets its PTR (RFC 1035 §3.5, RFC 3596 §2.5), as Service IPs do.
      RdfPtr reverse(ldns_rdf_address_reverse(ldns_rr_rdf(rr.get(), 0)));
      if (reverse == nullptr) throw std::invalid_argument("PlainDnsServer: bad address " + address);
      records.push_back(
          rr_parse(rdf_text(reverse.get()) + ttl + "PTR " + rdf_text(ldns_rr_owner(rr.get()))));
      records.push_back(std::move(rr));
    }
    const std::string txt(kBigTxtLength - 2, 'x');  // 100 octets: length, then "NNxxx..."
    for (int i = 0; i < kBigTxtRecords; ++i) {
      const std::string n = std::to_string(10 + i);  // two digits each
      records.push_back(rr_parse("big.cluster.local." + ttl + "TXT \"" + n +
                                 txt.substr(0, kBigTxtLength - 1 - n.size()) + "\""));
    }
  }

  // The longest zone at or above `name`, or null.
  const Apex* apex_of(const ldns_rdf* name) const {
    const Apex* best = nullptr;
    for (const Apex& a : apexes) {
      if (in_zone(name, a.name.get()) &&
          (best == nullptr ||
           ldns_dname_label_count(a.name.get()) > ldns_dname_label_count(best->name.get()))) {
        best = &a;
      }
    }
    return best;
  }

  // A copy of `rr` owned by `owner` (the question's name as sent, so the answer keeps its case
  // and compresses to a pointer to the question).
  static RrPtr rr_at(const ldns_rr* rr, const ldns_rdf* owner) {
    RrPtr copy(ldns_rr_clone(rr));
    ldns_rdf* old = ldns_rr_owner(copy.get());
    ldns_rr_set_owner(copy.get(), ldns_rdf_clone(owner));
    ldns_rdf_deep_free(old);
    return copy;
  }

  void fill(const ldns_rr* question, ldns_pkt* answer) const {
    const ldns_rdf* qname = ldns_rr_owner(question);
    const ldns_rr_type qtype = ldns_rr_get_type(question);
    const Apex* apex = apex_of(qname);
    if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN || apex == nullptr) {
      ldns_pkt_set_rcode(answer, LDNS_RCODE_REFUSED);
      return;
    }
    ldns_pkt_set_aa(answer, true);
    auto push = [&](ldns_pkt_section section, RrPtr rr) {
      ldns_pkt_push_rr(answer, section, rr.release());  // the packet owns it from here
    };
    const bool at_apex = ldns_dname_compare(qname, apex->name.get()) == 0;
    if (at_apex && qtype == LDNS_RR_TYPE_SOA) {
      push(LDNS_SECTION_ANSWER, rr_at(apex->soa.get(), qname));
      return;
    }
    bool exists = at_apex;
    for (const RrPtr& rr : records) {
      const ldns_rdf* owner = ldns_rr_owner(rr.get());
      if (ldns_dname_compare(owner, qname) == 0) {
        exists = true;
        if (ldns_rr_get_type(rr.get()) == qtype) push(LDNS_SECTION_ANSWER, rr_at(rr.get(), qname));
      } else if (ldns_dname_is_subdomain(owner, qname)) {
        exists = true;  // an empty non-terminal (RFC 8020: not NXDOMAIN)
      }
    }
    if (ldns_pkt_ancount(answer) > 0) return;
    if (!exists) ldns_pkt_set_rcode(answer, LDNS_RCODE_NXDOMAIN);
    push(LDNS_SECTION_AUTHORITY, RrPtr(ldns_rr_clone(apex->soa.get())));  // RFC 2308 §3
  }

  // The whole answer, or its header and question (and OPT) with TC=1 when `truncated`.
  // Empty for input that gets no answer (under 12 bytes, or QR=1).
  Bytes answer(const Bytes& query, bool set_ad, bool truncated, std::size_t& udp_limit) const {
    udp_limit = kMinUdpSize;
    if (query.size() < 12 || (query[2] & 0x80) != 0) return {};
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, query.data(), query.size()) != LDNS_STATUS_OK) {
      return header_only(query, LDNS_RCODE_FORMERR);
    }
    PacketPtr q(raw);
    if (ldns_pkt_get_opcode(q.get()) != LDNS_PACKET_QUERY) {
      return header_only(query, LDNS_RCODE_NOTIMPL);
    }
    if (ldns_pkt_qdcount(q.get()) != 1) return header_only(query, LDNS_RCODE_FORMERR);

    PacketPtr a(ldns_pkt_new());
    if (a == nullptr) throw std::bad_alloc();
    ldns_pkt_set_id(a.get(), ldns_pkt_id(q.get()));
    ldns_pkt_set_qr(a.get(), true);
    ldns_pkt_set_ra(a.get(), true);
    ldns_pkt_set_rd(a.get(), ldns_pkt_rd(q.get()));
    ldns_pkt_set_cd(a.get(), ldns_pkt_cd(q.get()));
    ldns_pkt_set_ad(a.get(), set_ad);
    ldns_pkt_set_opcode(a.get(), LDNS_PACKET_QUERY);
    const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(q.get()), 0);
    ldns_pkt_push_rr(a.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    if (ldns_pkt_edns(q.get())) {
      udp_limit = std::max<std::size_t>(kMinUdpSize, ldns_pkt_edns_udp_size(q.get()));
      ldns_pkt_set_edns_udp_size(a.get(), kEdnsUdpSize);
      ldns_pkt_set_edns_do(a.get(), ldns_pkt_edns_do(q.get()));
    }
    if (truncated) {
      ldns_pkt_set_tc(a.get(), true);
      ldns_pkt_set_aa(a.get(), true);
    } else {
      fill(question, a.get());
    }
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    const ldns_status st = ldns_pkt2wire(&wire, a.get(), &size);
    if (st != LDNS_STATUS_OK) {
      throw std::runtime_error(std::string("PlainDnsServer: pkt2wire: ") +
                               ldns_get_errorstr_by_id(st));
    }
    Bytes out(wire, wire + size);
    std::free(wire);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
    return out;
  }
};

struct PlainDnsServer::Connection {
  int fd = -1;  // closed (and set to -1) by its own thread, under mu_
  bool finished = false;
  std::thread thread;
};

PlainDnsServer::PlainDnsServer(PlainDnsServerConfig config)
    : config_(std::move(config)), zone_(std::make_unique<Zone>(config_)) {
  // Port 0: TCP gets the kernel's pick and UDP takes the same number; another process may
  // hold that UDP port, so try again with a new pick.
  for (int attempt = 1;; ++attempt) {
    SockAddr sa = sockaddr_make(config_.address, config_.port);
    const int family = sa.ss.ss_family;
    const int one = 1;
    const int tcp = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (tcp < 0) fail_errno("socket");
    setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) setsockopt(tcp, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(tcp, reinterpret_cast<sockaddr*>(&sa.ss), sa.len) != 0 || listen(tcp, 128) != 0 ||
        getsockname(tcp, reinterpret_cast<sockaddr*>(&sa.ss), &sa.len) != 0) {
      const int err = errno;
      close(tcp);
      errno = err;
      fail_errno("TCP bind/listen " + config_.address + ":" + std::to_string(config_.port));
    }
    const int udp = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (udp < 0) {
      close(tcp);
      fail_errno("socket");
    }
    if (family == AF_INET6) setsockopt(udp, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(udp, reinterpret_cast<sockaddr*>(&sa.ss), sa.len) == 0) {
      listen_fd_ = tcp;
      udp_fd_ = udp;
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&sa.ss);
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&sa.ss);
      port_ = ntohs(family == AF_INET ? v4->sin_port : v6->sin6_port);
      break;
    }
    const int err = errno;
    close(udp);
    close(tcp);
    errno = err;
    if (config_.port != 0 || err != EADDRINUSE || attempt >= kBindTries) {
      fail_errno("UDP bind " + config_.address + " to the TCP port");
    }
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    close(listen_fd_);
    close(udp_fd_);
    fail_errno("eventfd");
  }
  udp_thread_ = std::thread([this] { udp_loop(); });
  accept_thread_ = std::thread([this] { accept_loop(); });
}

PlainDnsServer::~PlainDnsServer() { stop(); }

void PlainDnsServer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    // Never read, so it stays readable: every thread's poll() sees it until the end.
    const std::uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof one) != sizeof one) std::abort();  // cannot fail: fresh fd
  }
  if (udp_thread_.joinable()) udp_thread_.join();
  if (accept_thread_.joinable()) accept_thread_.join();
  // The accept thread is gone, so the list no longer grows.
  for (auto& conn : connections_) {
    if (conn->thread.joinable()) conn->thread.join();
  }
  connections_.clear();
  for (int* fd : {&udp_fd_, &listen_fd_, &wake_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::uint64_t PlainDnsServer::queries_for(const std::string& name) const {
  return queries_for(name, Transport::kUdp) + queries_for(name, Transport::kTcp);
}

std::uint64_t PlainDnsServer::queries_for(const std::string& name, Transport transport) const {
  std::lock_guard lock(mu_);
  const auto it = per_name_.find(name_key(name));
  return it == per_name_.end() ? 0 : it->second[static_cast<std::size_t>(transport)];
}

std::map<std::string, std::uint64_t> PlainDnsServer::queries_by_name() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::uint64_t> out;
  for (const auto& [name, counts] : per_name_) out[name] = counts[0] + counts[1];
  return out;
}

std::vector<std::uint8_t> PlainDnsServer::last_query() const {
  std::lock_guard lock(mu_);
  return last_query_;
}

void PlainDnsServer::reset_counts() {
  std::lock_guard lock(mu_);
  for (auto* counter : {&udp_queries_, &tcp_queries_, &answers_sent_, &udp_truncated_,
                        &connections_accepted_, &connections_closed_by_server_}) {
    *counter = 0;
  }
  per_name_.clear();
  last_query_.clear();
}

void PlainDnsServer::count_query(const Bytes& query, Transport transport) {
  std::string key;
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, query.data(), query.size()) == LDNS_STATUS_OK) {
    PacketPtr q(raw);
    if (ldns_pkt_qdcount(q.get()) >= 1) {
      key = name_key(rdf_text(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(q.get()), 0))));
    }
  }
  std::lock_guard lock(mu_);
  ++(transport == Transport::kUdp ? udp_queries_ : tcp_queries_);
  if (!key.empty()) ++per_name_[key][static_cast<std::size_t>(transport)];
  last_query_ = query;
}

Bytes PlainDnsServer::answer_for(const Bytes& query, Transport transport, bool& truncated) const {
  truncated = false;
  if (behaviour_.silent) return {};
  const bool set_ad = behaviour_.set_ad;
  std::size_t udp_limit = 0;
  Bytes out = zone_->answer(query, set_ad, false, udp_limit);
  if (transport == Transport::kUdp && !out.empty() &&
      (behaviour_.truncate_udp || out.size() > udp_limit)) {
    Bytes cut = zone_->answer(query, set_ad, true, udp_limit);
    // Header-only FORMERR and NOTIMP answers have no question to truncate to.
    if (cut.size() < out.size()) {
      out = std::move(cut);
      truncated = true;
    }
  }
  return out;
}

void PlainDnsServer::udp_loop() {
  DueQueue due;
  Bytes buf(kMaxUdpMessage);
  for (;;) {
    pollfd fds[2] = {{udp_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int n = poll(fds, 2, poll_timeout(due));
    if (n < 0 && errno != EINTR) return;
    if ((fds[1].revents & POLLIN) != 0) return;  // stop()
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      for (;;) {
        SockAddr peer;
        peer.len = sizeof peer.ss;
        const ssize_t got = recvfrom(udp_fd_, buf.data(), buf.size(), MSG_DONTWAIT,
                                     reinterpret_cast<sockaddr*>(&peer.ss), &peer.len);
        if (got < 0) break;  // EAGAIN: all read
        Bytes query(buf.begin(), buf.begin() + got);
        count_query(query, Transport::kUdp);
        const auto when = Clock::now() + std::chrono::milliseconds(behaviour_.delay_ms.load());
        due.emplace(when, Pending{std::move(query), peer});
      }
    }
    const auto now = Clock::now();
    while (!due.empty() && due.begin()->first <= now) {
      const Pending pending = std::move(due.begin()->second);
      due.erase(due.begin());
      const SockAddr& peer = pending.peer;
      bool truncated = false;
      const Bytes answer = answer_for(pending.query, Transport::kUdp, truncated);
      if (answer.empty()) continue;
      auto send_to = [&](const Bytes& msg) {
        sendto(udp_fd_, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&peer.ss),
               peer.len);
      };
      const bool decoy_only = behaviour_.wrong_id_udp;
      if (decoy_only || behaviour_.wrong_id_udp_then_answer) {
        Bytes decoy = answer;
        decoy[1] ^= 1;  // RFC 5452 §9.1: the wrong ID
        send_to(decoy);
        if (decoy_only) continue;
      }
      ++answers_sent_;  // before sending: a client holding it sees it
      if (truncated) ++udp_truncated_;
      send_to(answer);
    }
  }
}

void PlainDnsServer::reap_finished() {
  std::vector<std::unique_ptr<Connection>> done;
  {
    std::lock_guard lock(mu_);
    for (auto& conn : connections_) {
      if (conn->finished) done.push_back(std::move(conn));
    }
    std::erase(connections_, nullptr);
  }
  for (auto& conn : done) conn->thread.join();
}

void PlainDnsServer::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if ((fds[1].revents & POLLIN) != 0) return;  // stop()
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // EINTR, ECONNABORTED, or out of descriptors for a moment
    reap_finished();
    const int one = 1;  // answers go out at once: no Nagle delay against delayed ACKs
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    if (stopped_) {
      close(fd);
      return;
    }
    ++connections_accepted_;
    ++connections_open_;
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    Connection* raw = conn.get();
    connections_.push_back(std::move(conn));
    raw->thread = std::thread([this, raw] { serve_tcp(raw); });
  }
}

// RFC 7766 §6.2.1: queries pipelined on one connection are all read as they come and each is
// answered when due, so a delay does not serialize them.
void PlainDnsServer::serve_tcp(Connection* conn) {
  const int fd = conn->fd;  // stays open until the end of this function
  DueQueue due;
  Bytes inbuf;
  std::uint8_t chunk[16384];
  int answered = 0;
  bool reading = true;  // false once the client half-closed: answer what is due, then close
  bool open = true;
  while (open && (reading || !due.empty())) {
    // poll() skips a negative fd: a half-closed client's POLLHUP must not spin this loop.
    pollfd fds[2] = {{reading ? fd : -1, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int n = poll(fds, 2, poll_timeout(due));
    if (n < 0 && errno != EINTR) break;
    if ((fds[1].revents & POLLIN) != 0) break;  // stop()
    if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t got = recv(fd, chunk, sizeof chunk, 0);
      if (got < 0 && errno != EINTR && errno != EAGAIN) break;  // reset
      if (got == 0) reading = false;
      if (got > 0) inbuf.insert(inbuf.end(), chunk, chunk + got);
      std::vector<Bytes> queries;
      if (!take_frames(inbuf, queries)) open = false;  // a zero-length frame
      for (Bytes& q : queries) {
        count_query(q, Transport::kTcp);
        due.emplace(Clock::now() + std::chrono::milliseconds(behaviour_.delay_ms.load()),
                    Pending{std::move(q), {}});
      }
      if (!open) break;
    }
    const auto now = Clock::now();
    while (open && !due.empty() && due.begin()->first <= now) {
      const Bytes query = std::move(due.begin()->second.query);
      due.erase(due.begin());
      bool truncated = false;
      const Bytes answer = answer_for(query, Transport::kTcp, truncated);
      if (answer.empty()) continue;
      ++answers_sent_;
      if (!send_all(fd, framed(answer))) open = false;
      const int limit = behaviour_.close_tcp_after;
      if (open && limit > 0 && ++answered >= limit) {
        ++connections_closed_by_server_;
        shutdown(fd, SHUT_WR);  // FIN after the last answer
        open = false;
      }
    }
  }
  std::lock_guard lock(mu_);
  close(conn->fd);
  conn->fd = -1;
  conn->finished = true;
  --connections_open_;
}

}  // namespace dp::testing
