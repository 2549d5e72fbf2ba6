// Every tunable of dotproxy in one place, with its default in the member initializer.
// Filled by config_load() from defaults < file < environment < command line.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/socket_address.h"
#include "common/tls_version.h"
#include "dns/blocked_reply.h"
#include "policy/acl.h"
#include "policy/rate_limiter.h"

namespace dp::config {

// One DNS-over-TLS upstream, "ADDR[@PORT][#AUTH_NAME]" on the command line; pins and the TLS
// version only from the file's [[upstream]] tables (the spec has no room for them).
struct UpstreamConfig {
  SocketAddress address;  // IP literal and port (853 unless given)
  std::string auth_name;  // checked against the certificate and sent as SNI; empty: the IP
  // RFC 7858 §4.2 SPKI pin set: SHA-256 of a DER SubjectPublicKeyInfo, any of which must be
  // in the presented chain, on top of the CA and name checks. Empty: no pin check.
  std::vector<std::array<std::uint8_t, 32>> pins{};
  TlsVersion tls_min_version = TlsVersion::kTls12;

  // "1.1.1.1@853#cloudflare-dns.com": the form used in logs and errors.
  std::string display() const;
};

// How a forward zone's servers are reached (--forward-zone "ZONE TRANSPORT SERVER...").
enum class ZoneTransport {
  kTls,       // DNS-over-TLS, authenticated like the default upstreams (RFC 7858, RFC 8310)
  kTcp,       // plain DNS over persistent, pipelined TCP (RFC 7766)
  kUdp,       // plain DNS over UDP, TC=1 retried over TCP
  kUpstream,  // the default upstreams: an exception inside a forwarded zone; no servers
};

// One forward zone: queries for ZONE and every name under it go to these servers only.
struct ForwardZoneConfig {
  std::string zone;  // canonical: lowercase, no trailing dot (the root is never a forward zone)
  ZoneTransport transport = ZoneTransport::kTls;
  std::vector<UpstreamConfig> servers;  // empty only for kUpstream; pins only for kTls
  bool cache = true;                    // file only: false keeps this zone's answers uncached
  std::optional<std::chrono::seconds> max_negative_ttl;  // file only; unset: the global one
  bool allow_public_plain = false;  // file only: tcp/udp servers outside private ranges allowed
  bool dnssec = false;  // file only: validate this zone's answers (else they count as insecure)

  // "corp.example tcp 10.0.0.53@53 10.0.0.54@53": the form used in logs and errors.
  std::string display() const;
};

// Which dnstap message types are written (--dnstap-messages): the clients' side (CQ, CR) and
// the upstreams' side (FQ, FR).
struct DnstapMessages {
  bool client_query = true;
  bool client_response = true;
  bool forwarder_query = true;
  bool forwarder_response = true;

  friend bool operator==(const DnstapMessages&, const DnstapMessages&) = default;
};

// --dnssec (issue #16).
enum class DnssecMode { kOff, kPermissive, kValidate };

struct Config {
  std::vector<SocketAddress> listen = {*SocketAddress::parse("127.0.0.1:53"),
                                       *SocketAddress::parse("[::1]:53")};
  std::vector<UpstreamConfig> upstreams = {
      {*SocketAddress::parse("1.1.1.1:853"), "cloudflare-dns.com"},
      {*SocketAddress::parse("1.0.0.1:853"), "cloudflare-dns.com"},
  };
  // DNS-over-TLS listener for clients on other hosts (RFC 7858; 853 is its port): off unless
  // listen_tls is given, and then tls_cert and tls_key are required.
  std::vector<SocketAddress> listen_tls;
  std::string tls_cert_file;         // PEM chain, leaf first
  std::string tls_key_file;          // PEM private key
  std::string tls_client_ca_file;    // set: mutual TLS, client certificates must chain to it
  unsigned tls_handshake_rate = 20;  // new handshakes/s per client IP, burst as many; 0: off
  std::string ca_file;               // PEM bundle; empty: the system trust store
  log::Level log_level = log::Level::kInfo;
  log::Format log_format = log::Format::kLogfmt;

  // Operations.
  std::optional<SocketAddress> metrics_listen;  // /metrics, /healthz, /readyz; unset: off
  std::string query_log;  // one line per answered query, written off the hot path; "": off
  // dnstap (https://dnstap.info): "file:PATH" or a collector's Unix socket path; "": off.
  std::string dnstap;
  DnstapMessages dnstap_messages;  // which message types are written
  std::string dnstap_identity;     // the frames' identity; "": the host name
  std::string user;                // drop root for this user after binding; "": stay as started
  // The operator control channel's Unix socket (control/, `dotproxy ctl`); "": off.
  std::string control_socket;
  std::chrono::milliseconds drain_timeout{5'000};  // SIGTERM: in-flight queries get this long

  unsigned workers = 0;  // threads, each with its own sockets and upstream connections; 0: CPUs

  // Client side.
  std::chrono::milliseconds tcp_idle_timeout{10'000};  // close a client TCP conn idle this long
  std::size_t max_tcp_clients = 1024;                  // per worker; beyond, new ones are closed
  std::size_t max_tcp_queries_per_client = 128;        // pipelined queries in flight per conn
  std::size_t max_tcp_clients_per_address = 64;        // per worker, per client IP address
  std::chrono::milliseconds tcp_read_timeout{5'000};   // a query begun must be whole by then

  // Upstream side.
  std::chrono::milliseconds upstream_timeout{3'000};  // a query unanswered this long: SERVFAIL
  std::size_t upstream_connections = 2;               // TLS connections per upstream per worker
  std::size_t max_queries_per_connection = 256;       // pipelined in flight on one TLS connection
  std::size_t max_pending_queries = 8192;             // per worker; beyond, SERVFAIL at once
  bool servfail_failover = true;  // SERVFAIL/REFUSED from one upstream: ask another

  // Cache (RFC 2181, 2308, 8767, 9520).
  std::uint64_t cache_size = 64 << 20;           // bytes held by entries and index; 0: no cache
  std::chrono::seconds min_ttl{0};               // floor for positive answers
  std::chrono::seconds max_ttl{86'400};          // ceiling for positive answers
  std::chrono::seconds max_negative_ttl{3'600};  // ceiling for NXDOMAIN / NODATA
  std::chrono::seconds servfail_ttl{5};          // SERVFAIL answers and upstream timeouts
  bool serve_stale = true;
  std::chrono::seconds max_stale{86'400};                 // expired longer ago: never served
  std::chrono::milliseconds stale_client_timeout{1'800};  // then a stale answer is sent
  bool prefetch = true;  // refresh an entry hit in the last 10 % of its TTL

  // Policy.
  std::vector<policy::AclRule> acl = policy::Acl::defaults().rules();  // first match wins
  policy::RateLimitOptions rate_limit;  // per client network, UDP; off unless set
  bool local_zones = true;  // localhost, invalid, home.arpa, RFC 6303 reverse zones: local
  std::vector<std::string> blocklist;  // files of blocked names (policy/blocklist.h); re-read
                                       // on SIGHUP
  dns::BlockedAnswer blocklist_answer = dns::BlockedAnswer::kNxDomain;

  // Split DNS: per-zone forwarding and local data (zones/).
  DnssecMode dnssec = DnssecMode::kValidate;
  std::string trust_anchor_file;                 // empty: the root's KSK-2017 and KSK-2024 DS
  std::vector<std::string> insecure_domains;     // negative trust anchors, canonical zone names
  std::vector<ForwardZoneConfig> forward_zones;  // the longest matching zone wins, not the order
  std::vector<std::string> local_data;   // "NAME [TTL] TYPE RDATA", presentation format, class IN
  std::vector<std::string> hosts_files;  // hosts(5) files: A/AAAA per name, PTR per address
};

}  // namespace dp::config
