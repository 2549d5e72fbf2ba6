// A plain DNS test server (RFC 1035 over UDP, RFC 7766 pipelined TCP) on one loopback port,
// serving a small Kubernetes-like cluster.local zone and its reverse names: the cluster DNS that
// the forward-zone tests route to. Counts queries per transport and per name; misbehaviour knobs.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// For dp::testing::wait_until(), which polls these counters just as it polls the DoT server's.
#include "fakes/dot_test_server.h"

namespace dp::testing {

// Misbehaviour knobs; the test thread may change them at any time. Each is read once per query,
// when the query arrives (delay_ms) or when its answer is due (the rest).
struct PlainDnsBehaviour {
  std::atomic<bool> silent{false};  // read and count queries, never answer
  // Each answer is due this long after its query arrived; other queries are read and answered
  // meanwhile (UDP and TCP alike), so a delay does not queue queries behind each other.
  std::atomic<int> delay_ms{0};
  // UDP answers are the header and question only, with TC=1 (and the OPT RR if the query had
  // one); TCP answers stay whole. Without this knob TC=1 comes only when an answer exceeds the
  // client's UDP size (512 without EDNS, else the OPT's size, at least 512: RFC 6891 §6.2.5).
  std::atomic<bool> truncate_udp{false};
  std::atomic<bool> set_ad{false};  // AD=1 in every answer (a plain hop must not be trusted)
  // UDP: instead of the answer, the answer with ID ^ 1 (RFC 5452 §9.1: a client must drop it).
  std::atomic<bool> wrong_id_udp{false};
  // UDP: the answer with ID ^ 1, then the real answer (the client drops one, keeps waiting).
  std::atomic<bool> wrong_id_udp_then_answer{false};
  // TCP: close a connection (FIN) after N answers on it; 0 = never. Queries pipelined beyond
  // the N-th are read and counted but never answered.
  std::atomic<int> close_tcp_after{0};
};

struct PlainDnsServerConfig {
  // IPv4 or IPv6 literal: 127.0.0.1, any 127.x.y.z alias (Linux routes all of 127/8 to lo),
  // or ::1.
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the kernel picks for TCP, UDP binds the same (retried if taken)
  // Zones served besides cluster.local, in-addr.arpa and ip6.arpa, e.g. "corp.example".
  std::vector<std::string> extra_zones;
  // name -> IPv4 or IPv6 literal (A or AAAA), e.g. {"intranet.corp.example", "10.1.2.3"}. Each
  // name must be at or under a served zone (else the constructor throws std::invalid_argument);
  // each address also gets its PTR, as the built-in records do.
  std::map<std::string, std::string> extra_addresses;
  std::uint32_t ttl = 5;  // of every record: CoreDNS's kubernetes plugin default (5 s)
  // SOA TTL and MINIMUM, hence the negative TTL (RFC 2308 §5); kube-dns and CoreDNS use 5 s.
  std::uint32_t soa_minimum = 5;
};

// Owned by the test; blocking I/O on its own threads: one for UDP, one accepting TCP, one per
// TCP connection. Construction starts serving; stop() (or the destructor) closes every socket
// and joins every thread. Counters and knobs are safe to use from any thread. Queries are counted
// when read (before any answer goes out), so a client holding an answer sees its query counted;
// accepted connections are counted on the server's side of the race (use wait_until()).
//
// The zone (answers echo the question as sent, copy ID, RD and CD; QR=1, AA=1, RA=1; an OPT RR
// with UDP size 1232 and DO copied when the query had one; TTL `ttl`):
//   kubernetes.default.svc.cluster.local.    A 10.96.0.1
//   kube-dns.kube-system.svc.cluster.local.  A 10.96.0.10
//   web.default.svc.cluster.local.           A 10.96.0.20, AAAA fd00::20
//   big.cluster.local.                       TXT: 8 records of 100 octets, a 931-byte answer
//                                            (> 512: TC=1 over UDP without EDNS; < 1232)
//   the extra_addresses, and a PTR for every address above (1.0.96.10.in-addr.arpa. PTR
//   kubernetes.default.svc.cluster.local., ..., the nibble name of fd00::20 in ip6.arpa.)
// Zones: cluster.local, in-addr.arpa, ip6.arpa and extra_zones; the longest one containing the
// name is its zone. SOA: ZONE. M IN SOA ns.dns.cluster.local. hostmaster.cluster.local.
//   1 7200 1800 86400 M (M = soa_minimum), answered at each apex.
// At or under a zone: another type at a name with records, or an empty non-terminal (e.g.
// svc.cluster.local): NODATA, the zone's SOA in authority (RFC 2308 §2.2, RFC 8020); any other
// name: NXDOMAIN with the zone's SOA. Outside every zone, or class not IN: REFUSED (AA=0).
// QDCOUNT != 1 or unparsable: FORMERR; opcode not QUERY: NOTIMP; QR=1 or < 12 bytes: dropped.
class PlainDnsServer {
 public:
  enum class Transport { kUdp, kTcp };

  // Throws std::runtime_error (with strerror text) when the sockets cannot be set up, and
  // std::invalid_argument for a bad address, zone or extra record.
  explicit PlainDnsServer(PlainDnsServerConfig config = {});
  ~PlainDnsServer();
  PlainDnsServer(const PlainDnsServer&) = delete;
  PlainDnsServer& operator=(const PlainDnsServer&) = delete;

  // Idempotent. After it returns no thread of this server runs and no socket is open.
  void stop();

  const std::string& address() const { return config_.address; }
  std::uint16_t port() const { return port_; }  // the same for UDP and TCP
  PlainDnsBehaviour& behaviour() { return behaviour_; }

  // Every message read, parsable or not.
  std::uint64_t queries_received() const { return udp_queries_ + tcp_queries_; }
  std::uint64_t udp_queries() const { return udp_queries_.load(); }
  std::uint64_t tcp_queries() const { return tcp_queries_.load(); }
  // Queries whose question names `name` (case-insensitive; the trailing dot optional).
  std::uint64_t queries_for(const std::string& name) const;
  std::uint64_t queries_for(const std::string& name, Transport transport) const;
  // Every question name read so far (lowercase, no final dot) with its count over both
  // transports.
  std::map<std::string, std::uint64_t> queries_by_name() const;
  // Messages sent that answer a query (truncated ones included, wrong-ID decoys not).
  std::uint64_t answers_sent() const { return answers_sent_.load(); }
  std::uint64_t udp_truncated() const { return udp_truncated_.load(); }  // TC=1 over UDP
  std::uint64_t connections_accepted() const { return connections_accepted_.load(); }
  std::uint64_t connections_open() const { return connections_open_.load(); }
  // By close_tcp_after; counted before the close.
  std::uint64_t connections_closed_by_server() const {
    return connections_closed_by_server_.load();
  }
  // The last query read (either transport), as wire bytes without a length prefix.
  std::vector<std::uint8_t> last_query() const;
  // Zeroes every counter above and forgets last_query(); open connections stay open.
  void reset_counts();

 private:
  struct Zone;
  struct Connection;

  void udp_loop();
  void accept_loop();
  void serve_tcp(Connection* conn);
  void reap_finished();
  void count_query(const std::vector<std::uint8_t>& query, Transport transport);
  // The answer to send now, under the knobs as they are now; empty when there is none (input
  // dropped, or silent). `truncated` says whether it went out as TC=1 over UDP.
  std::vector<std::uint8_t> answer_for(const std::vector<std::uint8_t>& query, Transport transport,
                                       bool& truncated) const;

  PlainDnsServerConfig config_;
  PlainDnsBehaviour behaviour_;
  std::unique_ptr<Zone> zone_;
  int udp_fd_ = -1;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd, made readable by stop(): every thread polls it
  std::uint16_t port_ = 0;

  std::atomic<std::uint64_t> udp_queries_{0};
  std::atomic<std::uint64_t> tcp_queries_{0};
  std::atomic<std::uint64_t> answers_sent_{0};
  std::atomic<std::uint64_t> udp_truncated_{0};
  std::atomic<std::uint64_t> connections_accepted_{0};
  std::atomic<std::uint64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_closed_by_server_{0};

  mutable std::mutex mu_;                                         // guards everything below
  std::map<std::string, std::array<std::uint64_t, 2>> per_name_;  // lowercase, no final dot
  std::vector<std::uint8_t> last_query_;
  std::vector<std::unique_ptr<Connection>> connections_;
  bool stopped_ = false;
  std::thread udp_thread_;
  std::thread accept_thread_;
};

}  // namespace dp::testing
