// The project's own DNS-over-TLS test server (RFC 7858): GnuTLS over loopback TCP, answering
// pipelined queries from the synthetic zone (synthetic_zone.h), with misbehaviour knobs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dp::testing {

// Misbehaviour knobs; the test thread may change them at any time, each connection reads them
// before every answer (the idle timeouts: at least every 10 ms while it waits for a query).
// The "instead of the answer" knobs are checked in the order listed; the first set one wins.
struct Behaviour {
  std::atomic<int> delay_ms{0};             // sleep before each answer (interrupted by stop())
  std::atomic<bool> silent{false};          // read queries, never answer
  std::atomic<int> close_after_queries{0};  // close a connection after N answers; 0 = never
  // Answer the queries of one read burst in reverse order (RFC 7766 §7 allows reordering). A
  // burst is everything that arrives until 20 ms pass with nothing new (bounded at 200 ms).
  std::atomic<bool> reverse_batches{false};

  // One-shot: the next zone answer (on any connection; the garbage, zero-length and huge-prefix
  // replies below do not use it up) goes out as its length prefix plus the first half of the
  // message in one TLS record, then the TCP connection is reset (SO_LINGER 0 + close, no
  // close_notify). The server clears the flag when it fires, so a retry succeeds.
  std::atomic<bool> reset_mid_answer{false};
  // Close a connection (close_notify, then close) after this long with no query arriving and
  // no answer going out; 0 = never. Like Unbound's tcp-idle-timeout. Silent mode counts as idle.
  std::atomic<int> idle_close_ms{0};
  std::atomic<bool> duplicate_answers{false};   // send every answer twice in a row
  std::atomic<bool> unknown_id_answers{false};  // before each answer, a copy with ID ^ 0x5a5a
  // Answer with the query's ID but another question: the first label gets an "x" prefix
  // ("www.test." -> "xwww.test."), and the answer is the zone's answer to that name.
  std::atomic<bool> wrong_question{false};
  // Instead of the answer: a 64-byte frame that is not DNS (random bytes, but header bytes 2..11
  // all 0xff, so it can never parse: every count is 65535). The connection stays open.
  std::atomic<bool> garbage{false};
  // Instead of the answer: the length prefix 0 and nothing else; the connection stays open.
  std::atomic<bool> zero_length_prefix{false};
  // Instead of the answer: the length prefix 65535 and nothing else, ever again on that
  // connection (later queries are read and counted, never answered); it stays open.
  std::atomic<bool> huge_prefix_then_silence{false};
  // RFC 7828 edns-tcp-keepalive; 0 = off. Answers to queries carrying the option (code 11) get
  // it back with TIMEOUT = this / 100 (units of 100 ms, rounded down), and every connection is
  // closed after this long idle as with idle_close_ms (the shorter of the two applies).
  std::atomic<int> keepalive_timeout_ms{0};
};

struct DotTestServerConfig {
  std::string cert_file;
  std::string key_file;
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal
  std::uint16_t port = 0;             // 0: the kernel picks (see DotTestServer::port())
  bool tls12_only = false;            // "NORMAL:-VERS-ALL:+VERS-TLS1.2" instead of "NORMAL"
  int delay_ms = 0;                   // initial Behaviour::delay_ms
  // A DER OCSP response for cert_file, stapled as is (RFC 6066 status_request, even one that
  // says revoked) for clients that ask; "" = none. See make_ocsp_response() in test_ocsp.h.
  std::string ocsp_response_file;
};

// Owned by the test; one accept thread plus one thread per connection, all blocking I/O.
// Construction starts serving; stop() (or the destructor) closes the listener and every
// connection and joins all threads. Counters and knobs are safe to use from any thread.
// Queries and answers are counted before the answer is sent, so a client holding an answer
// sees them. Accepts and handshakes are counted on the server's side of the race: a client
// whose handshake just finished may look before the count moves; use wait_until() for those.
class DotTestServer {
 public:
  // Throws std::runtime_error (with gnutls_strerror / strerror text) on credential or socket
  // failure.
  explicit DotTestServer(DotTestServerConfig config);
  ~DotTestServer();
  DotTestServer(const DotTestServer&) = delete;
  DotTestServer& operator=(const DotTestServer&) = delete;

  // Idempotent. After it returns no thread of this server runs and no socket is open.
  void stop();

  std::uint16_t port() const { return port_; }
  const std::string& address() const { return config_.address; }
  Behaviour& behaviour() { return behaviour_; }

  std::uint64_t connections_accepted() const { return connections_accepted_.load(); }
  std::uint64_t handshakes_completed() const { return handshakes_completed_.load(); }
  std::uint64_t handshakes_resumed() const { return handshakes_resumed_.load(); }
  std::uint64_t queries_received() const { return queries_received_.load(); }
  // Queries whose question names `name` (case-insensitive; the trailing dot optional).
  std::uint64_t queries_for(const std::string& name) const;
  // Every question name received so far (lowercase, no final dot) with its query count.
  std::map<std::string, std::uint64_t> queries_by_name() const;
  // Zone answers, one per query answered (also when wrong_question changed it, or only half of
  // it went out before a reset); duplicates, unknown-ID decoys and garbage frames not included.
  std::uint64_t answers_sent() const { return answers_sent_.load(); }
  // Connections whose thread has not finished yet.
  std::uint64_t connections_open() const { return connections_open_.load(); }
  // Connections the server ended on its own (close_after_queries, idle or keepalive timeout,
  // reset_mid_answer); not those ended by the client or by stop(). Counted before the close.
  std::uint64_t connections_closed_by_server() const {
    return connections_closed_by_server_.load();
  }
  std::uint64_t resets_sent() const { return resets_sent_.load(); }  // by reset_mid_answer
  // Handshakes in which GnuTLS took ocsp_response_file to staple (the client asked for it).
  std::uint64_t staples_sent() const;
  // The SNI host name of the last completed handshake; "" if that client sent none.
  std::string last_sni() const;
  // The last query received, as wire bytes without the length prefix. See query_option() in
  // synthetic_zone.h for the EDNS options a client sent (keepalive, padding).
  std::vector<std::uint8_t> last_query() const;

 private:
  struct Connection;
  struct Credentials;

  void accept_loop();
  void serve(Connection* conn);
  bool sleep_unless_stopped(int ms);  // false if stop() interrupted it
  void reap_finished();

  DotTestServerConfig config_;
  Behaviour behaviour_;
  std::unique_ptr<Credentials> creds_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> connections_accepted_{0};
  std::atomic<std::uint64_t> handshakes_completed_{0};
  std::atomic<std::uint64_t> handshakes_resumed_{0};
  std::atomic<std::uint64_t> queries_received_{0};
  std::atomic<std::uint64_t> answers_sent_{0};
  std::atomic<std::uint64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_closed_by_server_{0};
  std::atomic<std::uint64_t> resets_sent_{0};

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable stop_cv_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::string last_sni_;
  std::vector<std::uint8_t> last_query_;
  std::map<std::string, std::uint64_t> per_name_;  // key as query_name() makes it
  bool stopped_ = false;
  std::thread accept_thread_;
};

// Polls `cond` (every 2 ms) until it is true or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& cond,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace dp::testing
