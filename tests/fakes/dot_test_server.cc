#include "fakes/dot_test_server.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <stdexcept>
#include <utility>

#include "common/c_ptr.h"
#include "fakes/synthetic_zone.h"

namespace dp::testing {
namespace {

using SessionPtr = CPtr<gnutls_session_int, gnutls_deinit>;
using CertCredsPtr = CPtr<gnutls_certificate_credentials_st, gnutls_certificate_free_credentials>;
using PriorityPtr = CPtr<gnutls_priority_st, gnutls_priority_deinit>;

constexpr unsigned kHandshakeTimeoutMs = 5000;  // a client that never finishes the handshake
constexpr int kBurstQuietMs = 20;               // reverse_batches: end of a burst
constexpr int kBurstMaxMs = 200;                // reverse_batches: longest burst
constexpr int kIdlePollMs = 10;                 // a waiting connection rereads the idle knobs
constexpr std::size_t kGarbageSize = 64;
constexpr std::uint16_t kUnknownIdMask = 0x5a5a;

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

[[noreturn]] void fail_gnutls(const std::string& what, int rc) {
  throw std::runtime_error("DotTestServer: " + what + ": " + gnutls_strerror(rc));
}

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error("DotTestServer: " + what + ": " + std::strerror(errno));
}

// Pulls whole length-prefixed messages (RFC 1035 §4.2.2) off the front of `buf`.
// Returns false on a zero-length frame, which no query can have.
bool take_frames(std::vector<std::uint8_t>& buf, std::vector<std::vector<std::uint8_t>>& out) {
  std::size_t pos = 0;
  while (buf.size() - pos >= 2) {
    const std::size_t len = (static_cast<std::size_t>(buf[pos]) << 8) | buf[pos + 1];
    if (len == 0) return false;
    if (buf.size() - pos - 2 < len) break;
    out.emplace_back(buf.begin() + static_cast<std::ptrdiff_t>(pos + 2),
                     buf.begin() + static_cast<std::ptrdiff_t>(pos + 2 + len));
    pos += 2 + len;
  }
  buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pos));
  return true;
}

// Receives one record's worth into `buf`. Returns false on EOF or a fatal error.
bool recv_some(gnutls_session_t session, std::vector<std::uint8_t>& buf) {
  std::uint8_t chunk[16384];
  for (;;) {
    ssize_t n = gnutls_record_recv(session, chunk, sizeof chunk);
    if (n > 0) {
      buf.insert(buf.end(), chunk, chunk + n);
      return true;
    }
    if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN) continue;
    return false;  // 0: close_notify; else reset, premature termination or shutdown by stop()
  }
}

bool send_all(gnutls_session_t session, const std::vector<std::uint8_t>& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = gnutls_record_send(session, data.data() + sent, data.size() - sent);
    if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN) continue;
    if (n < 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) > 0;
}

int ms_since(Clock::time_point t) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// The idle timeout in force: the shorter of idle_close_ms and keepalive_timeout_ms that is set.
int idle_limit_ms(const Behaviour& b) {
  const int idle = b.idle_close_ms;
  const int keepalive = b.keepalive_timeout_ms;
  if (idle <= 0) return std::max(keepalive, 0);
  if (keepalive <= 0) return idle;
  return std::min(idle, keepalive);
}

enum class Wake { kReadable, kIdle, kStopped };

// Waits for the client's next bytes in short slices, so that idle knobs set while a connection
// waits still apply to it.
Wake wait_for_input(int fd, const Behaviour& b, const std::atomic<bool>& stopping,
                    Clock::time_point last_activity) {
  for (;;) {
    if (stopping) return Wake::kStopped;
    int slice = kIdlePollMs;
    const int limit = idle_limit_ms(b);
    if (limit > 0) {
      const int idle = ms_since(last_activity);
      if (idle >= limit) return Wake::kIdle;
      slice = std::min(slice, limit - idle);
    }
    if (readable(fd, slice)) return Wake::kReadable;
  }
}

Bytes framed(std::span<const std::uint8_t> msg) {
  Bytes out;
  out.reserve(msg.size() + 2);
  out.push_back(static_cast<std::uint8_t>(msg.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(msg.size() & 0xff));
  out.insert(out.end(), msg.begin(), msg.end());
  return out;
}

// The query with its first label prefixed by "x" (a 63-octet label gets its first octet
// changed instead; the root name becomes "x."), for wrong_question.
Bytes with_other_qname(std::span<const std::uint8_t> query) {
  Bytes q(query.begin(), query.end());
  if (q.size() < 13 || (q[12] & 0xc0) != 0 || q.size() < 13u + q[12]) return q;  // FORMERR
  if (q[12] == 0) {
    const std::uint8_t label[] = {1, 'x'};
    q.insert(q.begin() + 12, std::begin(label), std::end(label));
  } else if (q[12] < 63) {
    q.insert(q.begin() + 13, 'x');
    ++q[12];
  } else {
    q[13] = q[13] == 'x' ? 'y' : 'x';
  }
  return q;
}

// What goes out for one query under the knobs as they are now.
struct Plan {
  std::vector<Bytes> records;  // one gnutls_record_send each, in order
  bool zone_answer = false;    // counts in answers_sent
  bool reset_after = false;
  bool mute_after = false;  // nothing more on this connection
};

Plan plan_reply(Behaviour& b, std::span<const std::uint8_t> query, std::mt19937& rng) {
  Plan plan;
  if (b.garbage) {
    Bytes junk(kGarbageSize);
    for (auto& byte : junk) byte = static_cast<std::uint8_t>(rng());
    std::fill(junk.begin() + 2, junk.begin() + 12, 0xff);  // flags and counts: never DNS
    plan.records.push_back(framed(junk));
    return plan;
  }
  if (b.zero_length_prefix) {
    plan.records.push_back({0, 0});
    return plan;
  }
  if (b.huge_prefix_then_silence) {
    plan.records.push_back({0xff, 0xff});
    plan.mute_after = true;
    return plan;
  }
  ZoneAnswerOptions options;
  const int keepalive_ms = b.keepalive_timeout_ms;
  if (keepalive_ms > 0 && query_has_option(query, kEdnsKeepaliveCode)) {
    options.keepalive_timeout_units =
        static_cast<std::uint16_t>(std::min(keepalive_ms / 100, 65535));
  }
  const Bytes answer = b.wrong_question ? zone_answer(with_other_qname(query), options)
                                        : zone_answer(query, options);
  if (answer.empty()) return plan;
  plan.zone_answer = true;
  // exchange(): exactly one answer is cut, even with several connections racing for it.
  if (b.reset_mid_answer.exchange(false)) {
    Bytes half = framed(answer);
    half.resize(2 + answer.size() / 2);
    plan.records.push_back(std::move(half));
    plan.reset_after = true;
    return plan;
  }
  if (b.unknown_id_answers) {
    Bytes decoy = answer;
    decoy[0] ^= kUnknownIdMask >> 8;
    decoy[1] ^= kUnknownIdMask & 0xff;
    plan.records.push_back(framed(decoy));
  }
  plan.records.push_back(framed(answer));
  if (b.duplicate_answers) plan.records.push_back(plan.records.back());
  return plan;
}

}  // namespace

struct DotTestServer::Credentials {
  CertCredsPtr certs;
  PriorityPtr priority;
  gnutls_datum_t ticket_key{nullptr, 0};  // enables TLS session resumption
  Bytes ocsp_response;                    // DER, stapled as is; empty: none
  std::atomic<std::uint64_t> staples_sent{0};

  // gnutls_status_request_ocsp_func, on a connection's thread: GnuTLS frees the copy.
  static int staple(gnutls_session_t /*session*/, void* self, gnutls_datum_t* out) {
    auto* creds = static_cast<Credentials*>(self);
    ++creds->staples_sent;
    const Bytes& der = creds->ocsp_response;
    out->data = static_cast<unsigned char*>(gnutls_malloc(der.size()));
    if (out->data == nullptr) return GNUTLS_E_MEMORY_ERROR;
    std::memcpy(out->data, der.data(), der.size());
    out->size = static_cast<unsigned>(der.size());
    return 0;
  }

  ~Credentials() {
    if (ticket_key.data != nullptr) {
      gnutls_memset(ticket_key.data, 0, ticket_key.size);
      gnutls_free(ticket_key.data);
    }
  }
};

struct DotTestServer::Connection {
  int fd = -1;  // closed (and set to -1) by its own thread, under mu_
  bool finished = false;
  std::thread thread;
};

DotTestServer::DotTestServer(DotTestServerConfig config)
    : config_(std::move(config)), creds_(std::make_unique<Credentials>()) {
  behaviour_.delay_ms = config_.delay_ms;

  gnutls_certificate_credentials_t certs = nullptr;
  int rc = gnutls_certificate_allocate_credentials(&certs);
  if (rc < 0) fail_gnutls("allocate credentials", rc);
  creds_->certs.reset(certs);
  rc = gnutls_certificate_set_x509_key_file(certs, config_.cert_file.c_str(),
                                            config_.key_file.c_str(), GNUTLS_X509_FMT_PEM);
  if (rc < 0) fail_gnutls("load " + config_.cert_file + " / " + config_.key_file, rc);
  if (!config_.ocsp_response_file.empty()) {
    // Through a callback, not gnutls_certificate_set_ocsp_status_request_file(): that one
    // rejects a response that says revoked when loading it (GNUTLS_E_EXPIRED).
    std::ifstream in(config_.ocsp_response_file, std::ios::binary);
    creds_->ocsp_response.assign(std::istreambuf_iterator<char>(in), {});
    if (!in || creds_->ocsp_response.empty()) {
      throw std::runtime_error("DotTestServer: cannot read " + config_.ocsp_response_file);
    }
    // Index 0: the key pair just loaded.
    rc = gnutls_certificate_set_ocsp_status_request_function2(certs, 0, &Credentials::staple,
                                                              creds_.get());
    if (rc < 0) fail_gnutls("OCSP response " + config_.ocsp_response_file, rc);
  }

  const char* prio = config_.tls12_only ? "NORMAL:-VERS-ALL:+VERS-TLS1.2" : "NORMAL";
  gnutls_priority_t priority = nullptr;
  rc = gnutls_priority_init(&priority, prio, nullptr);
  if (rc < 0) fail_gnutls(std::string("priority ") + prio, rc);
  creds_->priority.reset(priority);
  rc = gnutls_session_ticket_key_generate(&creds_->ticket_key);
  if (rc < 0) fail_gnutls("session ticket key", rc);

  sockaddr_storage ss{};
  socklen_t ss_len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, config_.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(config_.port);
    ss_len = sizeof *v4;
  } else if (inet_pton(AF_INET6, config_.address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(config_.port);
    ss_len = sizeof *v6;
  } else {
    throw std::runtime_error("DotTestServer: bad address " + config_.address);
  }

  listen_fd_ = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail_errno("socket");
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), ss_len) != 0 ||
      listen(listen_fd_, 128) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &ss_len) != 0) {
    const std::string msg = "bind/listen " + config_.address + ":" + std::to_string(config_.port);
    close(listen_fd_);
    listen_fd_ = -1;
    fail_errno(msg);
  }
  port_ = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  accept_thread_ = std::thread([this] { accept_loop(); });
}

DotTestServer::~DotTestServer() { stop(); }

void DotTestServer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
    // shutdown() wakes threads blocked in accept()/recv()/send(); each thread closes its own
    // fd so that no descriptor number is reused while another thread still uses it.
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
    for (auto& conn : connections_) {
      if (conn->fd >= 0) shutdown(conn->fd, SHUT_RDWR);
    }
  }
  stop_cv_.notify_all();
  if (accept_thread_.joinable()) accept_thread_.join();
  // The accept thread is gone, so the list no longer grows.
  for (auto& conn : connections_) {
    if (conn->thread.joinable()) conn->thread.join();
  }
  connections_.clear();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
}

std::uint64_t DotTestServer::staples_sent() const { return creds_->staples_sent.load(); }

std::string DotTestServer::last_sni() const {
  std::lock_guard lock(mu_);
  return last_sni_;
}

std::vector<std::uint8_t> DotTestServer::last_query() const {
  std::lock_guard lock(mu_);
  return last_query_;
}

std::uint64_t DotTestServer::queries_for(const std::string& name) const {
  // Keyed as query_name() keys them: lowercase, no final dot.
  std::string key = name;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (key.size() > 1 && key.back() == '.') key.pop_back();
  std::lock_guard lock(mu_);
  const auto it = per_name_.find(key);
  return it == per_name_.end() ? 0 : it->second;
}

std::map<std::string, std::uint64_t> DotTestServer::queries_by_name() const {
  std::lock_guard lock(mu_);
  return per_name_;
}

bool DotTestServer::sleep_unless_stopped(int ms) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopped_; });
}

// Joins the threads of connections that have ended, so long tests do not pile them up.
void DotTestServer::reap_finished() {
  std::list<std::unique_ptr<Connection>> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if ((*it)->finished) done.splice(done.end(), connections_, it);
      it = next;
    }
  }
  for (auto& conn : done) conn->thread.join();
}

void DotTestServer::accept_loop() {
  while (!stopping_) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EINVAL after shutdown() by stop(), or a fatal error
    }
    reap_finished();
    const int one = 1;  // answers go out at once: no Nagle delay against delayed ACKs
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    ++connections_accepted_;
    ++connections_open_;
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    Connection* raw = conn.get();
    connections_.push_back(std::move(conn));
    raw->thread = std::thread([this, raw] { serve(raw); });
  }
}

void DotTestServer::serve(Connection* conn) {
  const int fd = conn->fd;  // stays open until the end of this function
  auto finish = [&] {
    std::lock_guard lock(mu_);
    close(conn->fd);
    conn->fd = -1;
    conn->finished = true;
    --connections_open_;
  };

  gnutls_session_t raw = nullptr;
  // GNUTLS_NO_SIGNAL: a peer (or stop()) closing mid-send must not raise SIGPIPE.
  if (gnutls_init(&raw, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0) return finish();
  SessionPtr session(raw);
  if (gnutls_priority_set(raw, creds_->priority.get()) < 0 ||
      gnutls_credentials_set(raw, GNUTLS_CRD_CERTIFICATE, creds_->certs.get()) < 0 ||
      gnutls_session_ticket_enable_server(raw, &creds_->ticket_key) < 0) {
    return finish();
  }
  gnutls_certificate_server_set_request(raw, GNUTLS_CERT_IGNORE);
  gnutls_transport_set_int(raw, fd);
  gnutls_handshake_set_timeout(raw, kHandshakeTimeoutMs);

  int rc = 0;
  do {
    rc = gnutls_handshake(raw);
  } while (rc < 0 && gnutls_error_is_fatal(rc) == 0 && !stopping_);
  if (rc < 0) return finish();
  {
    char name[256];
    std::size_t len = sizeof name;
    unsigned type = 0;
    std::string sni;
    if (gnutls_server_name_get(raw, name, &len, &type, 0) == 0 && type == GNUTLS_NAME_DNS) {
      sni.assign(name, strnlen(name, len));
    }
    std::lock_guard lock(mu_);
    last_sni_ = std::move(sni);
  }
  // After last_sni_, so that a test seeing the count also sees the name.
  if (gnutls_session_is_resumed(raw) != 0) ++handshakes_resumed_;
  ++handshakes_completed_;

  std::vector<std::uint8_t> inbuf;
  int answered = 0;
  bool open = true;
  bool mute = false;   // huge_prefix_then_silence fired
  bool reset = false;  // end with a TCP reset instead of a close
  Clock::time_point last_activity = Clock::now();
  std::mt19937 rng(std::random_device{}());
  while (open && !stopping_) {
    if (gnutls_record_check_pending(raw) == 0) {
      const Wake wake = wait_for_input(fd, behaviour_, stopping_, last_activity);
      if (wake == Wake::kStopped) break;
      if (wake == Wake::kIdle) {
        ++connections_closed_by_server_;
        gnutls_bye(raw, GNUTLS_SHUT_WR);  // close_notify, then close without waiting
        break;
      }
    }
    if (!recv_some(raw, inbuf)) break;
    // Collect what has already arrived, so one burst of pipelined queries is one batch.
    const auto burst_start = std::chrono::steady_clock::now();
    for (;;) {
      if (gnutls_record_check_pending(raw) > 0) {
        if (!recv_some(raw, inbuf)) open = false;
        if (!open) break;
        continue;
      }
      int wait_ms = 0;
      if (behaviour_.reverse_batches) {
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - burst_start)
                                 .count();
        wait_ms = static_cast<int>(std::clamp<long>(kBurstMaxMs - elapsed, 0, kBurstQuietMs));
      }
      if (!readable(fd, wait_ms) || stopping_) break;
      if (!recv_some(raw, inbuf)) {
        open = false;
        break;
      }
    }
    last_activity = Clock::now();
    std::vector<std::vector<std::uint8_t>> queries;
    if (!take_frames(inbuf, queries)) open = false;
    if (queries.empty()) continue;
    queries_received_ += queries.size();
    {
      std::lock_guard lock(mu_);
      last_query_ = queries.back();
      for (const auto& query : queries) {
        if (auto name = query_name(query)) ++per_name_[*name];
      }
    }
    if (behaviour_.silent || mute) continue;
    if (behaviour_.reverse_batches) std::reverse(queries.begin(), queries.end());
    for (const auto& query : queries) {
      const int delay = behaviour_.delay_ms;
      if (delay > 0 && !sleep_unless_stopped(delay)) {
        open = false;
        break;
      }
      const Plan plan = plan_reply(behaviour_, query, rng);
      if (plan.records.empty()) continue;
      if (plan.zone_answer) ++answers_sent_;  // before sending: a client holding it sees it
      if (plan.reset_after) ++resets_sent_;
      ++answered;
      for (const Bytes& record : plan.records) {
        if (!send_all(raw, record)) open = false;
        if (!open) break;
      }
      last_activity = Clock::now();
      if (!open) break;
      if (plan.reset_after) {
        ++connections_closed_by_server_;
        reset = true;
        open = false;
        break;
      }
      if (plan.mute_after) {
        mute = true;
        break;
      }
      const int limit = behaviour_.close_after_queries;
      if (limit > 0 && answered >= limit) {
        ++connections_closed_by_server_;
        gnutls_bye(raw, GNUTLS_SHUT_WR);  // close_notify, then close without waiting
        open = false;
        break;
      }
    }
  }
  session.reset();
  if (reset) {
    const linger abort{1, 0};  // close() then sends RST instead of FIN
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  finish();
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace dp::testing
