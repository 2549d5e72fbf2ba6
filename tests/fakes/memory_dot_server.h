// An in-memory DNS-over-TLS server (a GnuTLS server session over buffers, answering from the
// synthetic zone) and FakeByteStream, the io::ByteStream whose far end is that server or a
// scripted misbehaviour. Upstream tests run real TLS without sockets, threads or sleeps.
#pragma once

#include <gnutls/gnutls.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/c_ptr.h"
#include "common/socket_address.h"
#include "dns/framing.h"
#include "fakes/synthetic_zone.h"
#include "io/byte_stream.h"

namespace dp::testing {

using Bytes = std::vector<std::uint8_t>;

// A query as the pool sends it: ID 0, RD, one question `name` (dotted, no trailing dot) IN.
inline Bytes dot_query(std::string_view name, std::uint16_t qtype = 1) {
  Bytes wire = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    wire.push_back(static_cast<std::uint8_t>(dot - start));
    wire.insert(wire.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  wire.insert(wire.end(),
              {0, static_cast<std::uint8_t>(qtype >> 8), static_cast<std::uint8_t>(qtype), 0, 1});
  return wire;
}

// The whole TLS records (5-byte header + body) at the start of `bytes`; a trailing partial
// record or non-TLS bytes are left out, so callers compare the total size.
inline std::vector<Bytes> split_tls_records(std::span<const std::uint8_t> bytes) {
  std::vector<Bytes> records;
  std::size_t pos = 0;
  while (pos + 5 <= bytes.size()) {
    const std::size_t end = pos + 5 + (std::size_t{bytes[pos + 3]} << 8 | bytes[pos + 4]);
    if (end > bytes.size()) break;
    records.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                         bytes.begin() + static_cast<std::ptrdiff_t>(end));
    pos = end;
  }
  return records;
}

struct MemoryServerOptions {
  std::string cert_file;
  std::string key_file;
  std::string priority = "NORMAL";  // "NORMAL:-VERS-ALL:+VERS-TLS1.2": a TLS 1.2-only server
  bool session_tickets = true;      // TLS 1.3: NewSessionTicket right after the handshake
  bool auto_answer = true;          // false: queries are held until answer_held()
  // A DER OCSP response to staple (RFC 6066 status_request) for clients that ask, as is, even
  // one that says revoked; "" = none.
  std::string ocsp_response_file;
  // Plain DNS over TCP (RFC 7766): no TLS at all, cert_file and key_file unused.
  bool plain = false;
};

// One GnuTLS server session driven sans-IO: feed() ciphertext in, take_output() ciphertext out.
// Owned by the test or by a MemoryDotServer; single-threaded.
class MemoryTlsServer {
 public:
  // Throws std::runtime_error with gnutls_strerror() when the key, cert or priority is bad.
  explicit MemoryTlsServer(const MemoryServerOptions& options) {
    gnutls_certificate_credentials_t certs = nullptr;
    check(gnutls_certificate_allocate_credentials(&certs), "credentials");
    certs_.reset(certs);
    check(gnutls_certificate_set_x509_key_file(certs, options.cert_file.c_str(),
                                               options.key_file.c_str(), GNUTLS_X509_FMT_PEM),
          "load " + options.cert_file);
    if (!options.ocsp_response_file.empty()) {
      // Through a callback, not gnutls_certificate_set_ocsp_status_request_file(): that one
      // rejects a response that says revoked when loading it (GNUTLS_E_EXPIRED).
      std::ifstream in(options.ocsp_response_file, std::ios::binary);
      ocsp_response_.assign(std::istreambuf_iterator<char>(in), {});
      if (!in || ocsp_response_.empty()) {
        throw std::runtime_error("MemoryTlsServer: cannot read " + options.ocsp_response_file);
      }
      // Index 0: the key pair just loaded.
      check(gnutls_certificate_set_ocsp_status_request_function2(certs, 0, &MemoryTlsServer::staple,
                                                                 this),
            "OCSP response " + options.ocsp_response_file);
    }
    gnutls_priority_t priority = nullptr;
    check(gnutls_priority_init(&priority, options.priority.c_str(), nullptr), "priority");
    priority_.reset(priority);
    gnutls_session_t session = nullptr;
    check(gnutls_init(&session, GNUTLS_SERVER | GNUTLS_NONBLOCK), "init");
    session_.reset(session);
    check(gnutls_priority_set(session, priority), "priority_set");
    check(gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, certs), "credentials_set");
    if (options.session_tickets) {
      // One key for every server session, as one server operator has: a ticket from one
      // connection resumes the next.
      check(gnutls_session_ticket_enable_server(session, &shared_ticket_key()), "tickets");
    }
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_IGNORE);
    gnutls_transport_set_ptr(session, this);
    gnutls_transport_set_pull_function(session, &MemoryTlsServer::pull);
    gnutls_transport_set_push_function(session, &MemoryTlsServer::push);
    gnutls_transport_set_pull_timeout_function(session, &MemoryTlsServer::pull_timeout);
    gnutls_handshake_set_timeout(session, 0);
  }
  ~MemoryTlsServer() = default;
  MemoryTlsServer(const MemoryTlsServer&) = delete;
  MemoryTlsServer& operator=(const MemoryTlsServer&) = delete;

  void feed(std::span<const std::uint8_t> ciphertext) {
    input_.insert(input_.end(), ciphertext.begin(), ciphertext.end());
  }
  Bytes take_output() { return std::exchange(output_, Bytes{}); }

  // GnuTLS's code: 0 done, GNUTLS_E_AGAIN wants more input, other negatives are fatal.
  int handshake() {
    if (done_) return 0;
    const int rc = gnutls_handshake(session_.get());
    if (rc == 0) done_ = true;
    return rc;
  }
  bool handshake_done() const { return done_; }

  // All plaintext decryptable from what was fed. Sets error() on a fatal record error and
  // peer_closed() on close_notify.
  Bytes read() {
    Bytes plain;
    std::uint8_t chunk[16384];
    for (;;) {
      const std::size_t unread_before = input_.size();
      const ssize_t n = gnutls_record_recv(session_.get(), chunk, sizeof chunk);
      if (n > 0) {
        plain.insert(plain.end(), chunk, chunk + n);
      } else if (n == 0) {
        peer_closed_ = true;
        break;
      } else if (n == GNUTLS_E_AGAIN) {
        if (!input_.empty() && input_.size() < unread_before) continue;
        break;
      } else if (n != GNUTLS_E_INTERRUPTED) {
        error_ = gnutls_strerror(static_cast<int>(n));
        break;
      }
    }
    return plain;
  }

  void write(std::span<const std::uint8_t> plaintext) {
    std::size_t done = 0;
    while (done < plaintext.size()) {
      const ssize_t n =
          gnutls_record_send(session_.get(), plaintext.data() + done, plaintext.size() - done);
      if (n < 0)
        throw std::runtime_error(std::string("record_send: ") +
                                 gnutls_strerror(static_cast<int>(n)));
      done += static_cast<std::size_t>(n);
    }
  }
  void bye() { gnutls_bye(session_.get(), GNUTLS_SHUT_WR); }

  const std::string& error() const { return error_; }
  bool peer_closed() const { return peer_closed_; }
  gnutls_session_t session() const { return session_.get(); }
  // How often GnuTLS took the OCSP response to staple (once per handshake where the client
  // asked for a status and ocsp_response_file is set).
  int staples_sent() const { return staples_sent_; }

 private:
  using CertsPtr = CPtr<gnutls_certificate_credentials_st, gnutls_certificate_free_credentials>;
  using PriorityPtr = CPtr<gnutls_priority_st, gnutls_priority_deinit>;
  using SessionPtr = CPtr<gnutls_session_int, gnutls_deinit>;

  static void check(int rc, const std::string& what) {
    if (rc < 0) throw std::runtime_error("MemoryTlsServer: " + what + ": " + gnutls_strerror(rc));
  }
  static ssize_t pull(gnutls_transport_ptr_t self, void* data, std::size_t size) noexcept {
    auto* s = static_cast<MemoryTlsServer*>(self);
    if (s->input_.empty()) {
      gnutls_transport_set_errno(s->session_.get(), EAGAIN);
      return -1;
    }
    const std::size_t n = std::min(size, s->input_.size());
    std::memcpy(data, s->input_.data(), n);
    s->input_.erase(s->input_.begin(), s->input_.begin() + static_cast<std::ptrdiff_t>(n));
    return static_cast<ssize_t>(n);
  }
  static ssize_t push(gnutls_transport_ptr_t self, const void* data, std::size_t size) noexcept {
    auto* s = static_cast<MemoryTlsServer*>(self);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    s->output_.insert(s->output_.end(), bytes, bytes + size);
    return static_cast<ssize_t>(size);
  }
  static int pull_timeout(gnutls_transport_ptr_t self, unsigned int /*ms*/) noexcept {
    return static_cast<MemoryTlsServer*>(self)->input_.empty() ? 0 : 1;
  }
  // gnutls_status_request_ocsp_func: GnuTLS frees the copy.
  static int staple(gnutls_session_t /*session*/, void* self, gnutls_datum_t* out) noexcept {
    auto* s = static_cast<MemoryTlsServer*>(self);
    ++s->staples_sent_;
    const Bytes& der = s->ocsp_response_;
    out->data = static_cast<unsigned char*>(gnutls_malloc(der.size()));
    if (out->data == nullptr) return GNUTLS_E_MEMORY_ERROR;
    std::memcpy(out->data, der.data(), der.size());
    out->size = static_cast<unsigned>(der.size());
    return 0;
  }

  Bytes ocsp_response_;  // DER, stapled as is; empty: none
  int staples_sent_ = 0;
  CertsPtr certs_;
  PriorityPtr priority_;
  static gnutls_datum_t& shared_ticket_key() {
    static gnutls_datum_t key = [] {
      gnutls_datum_t k{nullptr, 0};
      check(gnutls_session_ticket_key_generate(&k), "ticket key");
      return k;
    }();  // lives as long as the process: sessions may point to it until the very end
    return key;
  }
  SessionPtr session_;
  Bytes input_;
  Bytes output_;
  bool done_ = false;
  bool peer_closed_ = false;
  std::string error_;
};

// DNS over TLS on top of MemoryTlsServer: handshake, RFC 7858 framing, zone_answer() replies.
// With MemoryServerOptions::plain, the same over plain TCP (RFC 7766), no TLS.
class MemoryDotServer {
 public:
  explicit MemoryDotServer(const MemoryServerOptions& options)
      : tls_(options.plain ? nullptr : std::make_unique<MemoryTlsServer>(options)),
        auto_answer_(options.auto_answer) {}

  // Ciphertext (plain: DNS frames) from the client; replies collect in take_output().
  void receive(std::span<const std::uint8_t> ciphertext) {
    if (!tls_) {
      frames_.feed(ciphertext);
    } else {
      tls_->feed(ciphertext);
      if (!tls_->handshake_done()) {
        const int rc = tls_->handshake();
        if (rc < 0 && gnutls_error_is_fatal(rc) != 0) handshake_error_ = gnutls_strerror(rc);
        if (!tls_->handshake_done()) return;
      }
      frames_.feed(tls_->read());
    }
    while (auto message = frames_.next()) {
      queries_.emplace_back(message->begin(), message->end());
      if (auto_answer_) {
        send_message(zone_answer(queries_.back()));
      } else {
        held_.push_back(queries_.back());
      }
    }
  }
  Bytes take_output() { return tls_ ? tls_->take_output() : std::exchange(plain_out_, Bytes{}); }

  // Frames and encrypts (plain: only frames) any message, well-formed or not.
  void send_message(std::span<const std::uint8_t> message) {
    Bytes frame;
    dns::frame_append(frame, message);
    if (tls_) {
      tls_->write(frame);
    } else {
      plain_out_.insert(plain_out_.end(), frame.begin(), frame.end());
    }
  }
  // Answers the held queries (last first when reversed), in one burst of records.
  void answer_held(bool reversed = false) {
    if (reversed) std::reverse(held_.begin(), held_.end());
    for (const Bytes& query : held_) send_message(zone_answer(query));
    held_.clear();
  }
  void set_auto_answer(bool on) { auto_answer_ = on; }

  const std::vector<Bytes>& queries() const { return queries_; }  // every query, in order
  const std::vector<Bytes>& held() const { return held_; }
  bool handshake_done() const { return !tls_ || tls_->handshake_done(); }
  bool failed() const { return !handshake_error_.empty() || (tls_ && !tls_->error().empty()); }
  MemoryTlsServer& tls() { return *tls_; }  // not for a plain server
  bool has_tls() const { return tls_ != nullptr; }

 private:
  std::unique_ptr<MemoryTlsServer> tls_;  // null: plain DNS over TCP
  Bytes plain_out_;                       // plain: frames for the client
  bool auto_answer_;
  dns::FrameAssembler frames_;
  std::vector<Bytes> queries_;
  std::vector<Bytes> held_;
  std::string handshake_error_;
};

// What the far end of a connection to an address does.
enum class RouteKind {
  kServe,      // a MemoryDotServer
  kRefuse,     // connect fails (kConnectFailed)
  kHang,       // connect never completes
  kBlackHole,  // connects, swallows every byte, never sends one
  kGarbage,    // connects, then sends bytes that are not TLS
};

// Everything the test may inspect about one stream; outlives the stream itself.
struct FakeStreamState {
  SocketAddress remote;
  RouteKind kind = RouteKind::kRefuse;
  io::ByteStream::Handler* handler = nullptr;
  Bytes written;                            // every byte the client wrote, in order
  std::unique_ptr<MemoryDotServer> server;  // kServe only
  bool client_closed = false;               // close() called or the stream destroyed
  bool ended = false;                       // on_stream_closed delivered
  bool destroyed = false;
  // The next write() reports a reset from inside the call, which the ByteStream contract
  // allows: the path a TLS write that fails inside StreamConnection::send() takes too.
  bool reset_inside_write = false;
  int acks_asked = 0;  // acknowledge_soon() calls
};

// Routes connections by address and queues every callback until pump(): like the real
// stream, nothing reaches the handler from inside connect() or write() (unless a test asks:
// FakeStreamState::reset_inside_write). Owned by the test and
// outlives every stream it made; callbacks run inside pump(), on the test's thread. Route
// changes apply to connections made afterwards.
class FakeNetwork {
 public:
  void serve(const SocketAddress& address, MemoryServerOptions options) {
    route(address) = Route{RouteKind::kServe, std::move(options)};
  }
  void script(const SocketAddress& address, RouteKind kind) { route(address) = Route{kind, {}}; }

  // Server bytes reach the client in segments of at most this size (0: as the server wrote
  // them), like TCP cutting TLS records anywhere.
  void set_segment_size(std::size_t bytes) { segment_size_ = bytes; }

  std::unique_ptr<io::ByteStream> make_stream();
  std::function<std::unique_ptr<io::ByteStream>()> factory() {
    return [this] { return make_stream(); };
  }

  // Delivers one queued callback (dropped if its stream was closed); false when none is left.
  bool pump_one() {
    while (!events_.empty()) {
      Event event = std::move(events_.front());
      events_.pop_front();
      FakeStreamState& s = *event.state;
      if (s.client_closed || s.ended || s.handler == nullptr) continue;
      if (event.terminal) s.ended = true;
      event.deliver(*s.handler);
      return true;
    }
    return false;
  }
  // Delivers callbacks, and those they cause, until the network is quiet. Returns the count.
  std::size_t pump() {
    std::size_t n = 0;
    while (pump_one()) {
      if (++n > 10'000'000) throw std::logic_error("FakeNetwork: callbacks never stop");
    }
    return n;
  }

  // The server side closes (FIN), after a close_notify alert if asked.
  void close_from_server(const std::shared_ptr<FakeStreamState>& s, bool close_notify = false) {
    if (close_notify && s->server && s->server->has_tls()) {
      s->server->tls().bye();
      queue_data(s, s->server->take_output());
    }
    queue(s, /*terminal=*/true,
          [](io::ByteStream::Handler& h) { h.on_stream_closed(io::StreamError::kEof, "eof"); });
  }
  // Raw bytes from the server side, bypassing TLS.
  void inject(const std::shared_ptr<FakeStreamState>& s, const Bytes& bytes) {
    queue_data(s, bytes);
  }
  // Sends whatever the stream's server has encrypted since its last reply (after the test
  // called answer_held() or send_message() on it).
  void flush_server(const std::shared_ptr<FakeStreamState>& s) {
    queue_data(s, s->server->take_output());
  }

  const std::vector<std::shared_ptr<FakeStreamState>>& streams() const { return streams_; }
  std::size_t streams_to(const SocketAddress& address) const {
    return static_cast<std::size_t>(std::count_if(
        streams_.begin(), streams_.end(), [&](const auto& s) { return s->remote == address; }));
  }

  // FakeByteStream's side.
  void on_connect(const std::shared_ptr<FakeStreamState>& s) {
    const Route* r = find(s->remote);
    s->kind = r != nullptr ? r->kind : RouteKind::kRefuse;
    switch (s->kind) {
      case RouteKind::kRefuse:
        queue(s, /*terminal=*/true, [](io::ByteStream::Handler& h) {
          h.on_stream_closed(io::StreamError::kConnectFailed, "Connection refused");
        });
        return;
      case RouteKind::kHang:
        return;
      case RouteKind::kServe:
        s->server = std::make_unique<MemoryDotServer>(r->options);
        break;
      case RouteKind::kBlackHole:
      case RouteKind::kGarbage:
        break;
    }
    queue(s, /*terminal=*/false, [](io::ByteStream::Handler& h) { h.on_stream_connected(); });
    if (s->kind == RouteKind::kGarbage) {
      const std::string text = "HTTP/1.1 400 Bad Request\r\n\r\n";
      queue_data(s, Bytes(text.begin(), text.end()));
    }
  }
  void on_write(const std::shared_ptr<FakeStreamState>& s, std::span<const std::uint8_t> bytes) {
    s->written.insert(s->written.end(), bytes.begin(), bytes.end());
    if (!s->server) return;
    s->server->receive(bytes);
    queue_data(s, s->server->take_output());
    if (s->server->failed()) close_from_server(s);  // a real server hangs up too
  }

 private:
  struct Route {
    RouteKind kind;
    MemoryServerOptions options;
  };
  struct Event {
    std::shared_ptr<FakeStreamState> state;
    std::function<void(io::ByteStream::Handler&)> deliver;
    bool terminal;
  };

  Route& route(const SocketAddress& address) {
    for (auto& [a, r] : routes_) {
      if (a == address) return r;
    }
    return routes_.emplace_back(address, Route{RouteKind::kRefuse, {}}).second;
  }
  const Route* find(const SocketAddress& address) const {
    for (const auto& [a, r] : routes_) {
      if (a == address) return &r;
    }
    return nullptr;
  }
  void queue(const std::shared_ptr<FakeStreamState>& s, bool terminal,
             std::function<void(io::ByteStream::Handler&)> fn) {
    events_.push_back(Event{s, std::move(fn), terminal});
  }
  void queue_data(const std::shared_ptr<FakeStreamState>& s, const Bytes& bytes) {
    const std::size_t step = segment_size_ == 0 ? bytes.size() : segment_size_;
    for (std::size_t pos = 0; pos < bytes.size(); pos += step) {
      const auto first = bytes.begin() + static_cast<std::ptrdiff_t>(pos);
      Bytes segment(first, first + static_cast<std::ptrdiff_t>(std::min(step, bytes.size() - pos)));
      queue(s, /*terminal=*/false,
            [b = std::move(segment)](io::ByteStream::Handler& h) { h.on_stream_data(b); });
    }
  }

  std::vector<std::pair<SocketAddress, Route>> routes_;
  std::vector<std::shared_ptr<FakeStreamState>> streams_;
  std::deque<Event> events_;
  std::size_t segment_size_ = 0;
};

// The client end of one fake connection. Made by FakeNetwork::make_stream(); the network must
// outlive it.
class FakeByteStream final : public io::ByteStream {
 public:
  FakeByteStream(FakeNetwork& network, std::shared_ptr<FakeStreamState> state)
      : network_(network), state_(std::move(state)) {}
  ~FakeByteStream() override {
    state_->client_closed = true;
    state_->destroyed = true;
  }
  FakeByteStream(const FakeByteStream&) = delete;
  FakeByteStream& operator=(const FakeByteStream&) = delete;

  void connect(const SocketAddress& to, Handler& handler) override {
    state_->remote = to;
    state_->handler = &handler;
    network_.on_connect(state_);
  }
  void write(std::span<const std::uint8_t> bytes) override {
    if (state_->client_closed) throw std::logic_error("FakeByteStream: write after close");
    if (state_->reset_inside_write && !state_->ended && state_->handler != nullptr) {
      state_->ended = true;
      state_->handler->on_stream_closed(io::StreamError::kReset, "reset inside write");
      return;
    }
    network_.on_write(state_, bytes);
  }
  std::size_t write_pending() const override { return 0; }
  void write_soon() override {  // it sends at once
    if (!state_->client_closed && state_->handler != nullptr) state_->handler->on_stream_flush();
  }
  void acknowledge_soon() override { ++state_->acks_asked; }
  void close() override { state_->client_closed = true; }

 private:
  FakeNetwork& network_;
  std::shared_ptr<FakeStreamState> state_;
};

inline std::unique_ptr<io::ByteStream> FakeNetwork::make_stream() {
  auto state = std::make_shared<FakeStreamState>();
  streams_.push_back(state);
  return std::make_unique<FakeByteStream>(*this, std::move(state));
}

}  // namespace dp::testing
