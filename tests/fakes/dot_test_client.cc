#include "fakes/dot_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace dp::testing {
namespace {

[[noreturn]] void fail_gnutls(const std::string& what, int rc) {
  throw std::runtime_error("DotTestClient: " + what + ": " + gnutls_strerror(rc));
}

int connect_to(const std::string& address, std::uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    throw std::runtime_error("DotTestClient: bad address " + address);
  }
  const int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("DotTestClient: socket: ") + strerror(errno));
  const int one = 1;  // pipelined queries go out at once: no Nagle delay
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Loopback only: connect() completes or is refused at once, no timeout needed.
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int e = errno;
    close(fd);
    throw std::runtime_error("DotTestClient: connect " + address + ":" + std::to_string(port) +
                             ": " + strerror(e));
  }
  return fd;
}

void append_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

}  // namespace

DotTestClient::DotTestClient(DotTestClientConfig config) {
  fd_ = connect_to(config.address, config.port);
  try {
    gnutls_certificate_credentials_t creds = nullptr;
    int rc = gnutls_certificate_allocate_credentials(&creds);
    if (rc < 0) fail_gnutls("allocate credentials", rc);
    creds_.reset(creds);
    if (!config.ca_file.empty()) {
      rc = gnutls_certificate_set_x509_trust_file(creds, config.ca_file.c_str(),
                                                  GNUTLS_X509_FMT_PEM);
      if (rc < 0) fail_gnutls("trust file " + config.ca_file, rc);
    }
    gnutls_session_t session = nullptr;
    rc = gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL);
    if (rc < 0) fail_gnutls("init", rc);
    session_.reset(session);
    const char* prio = config.tls12_only ? "NORMAL:-VERS-ALL:+VERS-TLS1.2" : "NORMAL";
    rc = gnutls_priority_set_direct(session, prio, nullptr);
    if (rc < 0) fail_gnutls("priority", rc);
    rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, creds);
    if (rc < 0) fail_gnutls("credentials_set", rc);
    if (!config.server_name.empty()) {
      rc = gnutls_server_name_set(session, GNUTLS_NAME_DNS, config.server_name.data(),
                                  config.server_name.size());
      if (rc < 0) fail_gnutls("server_name_set", rc);
    }
    if (!config.ca_file.empty()) {
      gnutls_session_set_verify_cert(
          session, config.server_name.empty() ? nullptr : config.server_name.c_str(), 0);
    }
    if (!config.resume_data.empty()) {
      rc = gnutls_session_set_data(session, config.resume_data.data(), config.resume_data.size());
      if (rc < 0) fail_gnutls("session_set_data", rc);
    }
    gnutls_transport_set_int(session, fd_);
    gnutls_handshake_set_timeout(session, static_cast<unsigned>(config.handshake_timeout.count()));
    do {
      rc = gnutls_handshake(session);
    } while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
    if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
      const unsigned status = gnutls_session_get_verify_cert_status(session);
      gnutls_datum_t text{nullptr, 0};
      std::string why = "unknown";
      if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
        why.assign(reinterpret_cast<const char*>(text.data), text.size);
        gnutls_free(text.data);
      }
      throw std::runtime_error("DotTestClient: certificate verification failed: " + why);
    }
    if (rc < 0) fail_gnutls("handshake", rc);
  } catch (...) {
    session_.reset();
    close(fd_);
    fd_ = -1;
    throw;
  }
}

DotTestClient::~DotTestClient() {
  session_.reset();
  if (fd_ >= 0) close(fd_);
}

void DotTestClient::send_raw(std::span<const std::uint8_t> bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = gnutls_record_send(session_.get(), bytes.data() + sent, bytes.size() - sent);
    if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN) continue;
    if (n < 0) fail_gnutls("send", static_cast<int>(n));
    sent += static_cast<std::size_t>(n);
  }
}

void DotTestClient::send_message(std::span<const std::uint8_t> wire) {
  if (wire.size() > 65535) throw std::invalid_argument("DotTestClient: message too long");
  std::vector<std::uint8_t> framed;
  append_u16(framed, static_cast<std::uint16_t>(wire.size()));
  framed.insert(framed.end(), wire.begin(), wire.end());
  send_raw(framed);
}

std::optional<std::vector<std::uint8_t>> DotTestClient::read_message(
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (inbuf_.size() >= 2) {
      const std::size_t len = (static_cast<std::size_t>(inbuf_[0]) << 8) | inbuf_[1];
      if (inbuf_.size() >= 2 + len) {
        std::vector<std::uint8_t> msg(inbuf_.begin() + 2,
                                      inbuf_.begin() + 2 + static_cast<std::ptrdiff_t>(len));
        inbuf_.erase(inbuf_.begin(), inbuf_.begin() + 2 + static_cast<std::ptrdiff_t>(len));
        return msg;
      }
    }
    if (closed_) return std::nullopt;
    if (gnutls_record_check_pending(session_.get()) == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      const int pr = poll(&p, 1, static_cast<int>(left.count()));
      if (pr < 0 && errno == EINTR) continue;
      if (pr <= 0) return std::nullopt;
    }
    std::uint8_t chunk[16384];
    const ssize_t n = gnutls_record_recv(session_.get(), chunk, sizeof chunk);
    if (n > 0) {
      inbuf_.insert(inbuf_.end(), chunk, chunk + n);
    } else if (n != GNUTLS_E_INTERRUPTED && n != GNUTLS_E_AGAIN) {
      closed_ = true;  // close_notify (0), reset or premature termination
    }
  }
}

bool DotTestClient::resumed() const { return gnutls_session_is_resumed(session_.get()) != 0; }

std::vector<std::uint8_t> DotTestClient::session_data() const {
  gnutls_datum_t d{nullptr, 0};
  if (gnutls_session_get_data2(session_.get(), &d) < 0) return {};
  std::vector<std::uint8_t> out(d.data, d.data + d.size);
  gnutls_free(d.data);
  return out;
}

std::vector<std::uint8_t> make_query(std::string_view name, std::uint16_t qtype, std::uint16_t id,
                                     bool edns) {
  std::vector<std::uint8_t> q;
  append_u16(q, id);
  append_u16(q, 0x0100);  // RD
  append_u16(q, 1);       // QDCOUNT
  append_u16(q, 0);
  append_u16(q, 0);
  append_u16(q, edns ? 1 : 0);                        // ARCOUNT
  std::size_t start = name == "." ? name.size() : 0;  // "." is the root: no labels
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    const std::size_t len = dot - start;
    if (len == 0 || len > 63) throw std::invalid_argument("make_query: bad name");
    q.push_back(static_cast<std::uint8_t>(len));
    q.insert(q.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
             name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  q.push_back(0);
  append_u16(q, qtype);
  append_u16(q, 1);  // IN
  if (edns) {
    q.push_back(0);
    append_u16(q, 41);    // OPT
    append_u16(q, 1232);  // UDP payload size
    append_u16(q, 0);
    append_u16(q, 0);
    append_u16(q, 0);  // RDLENGTH
  }
  return q;
}

bool dot_handshake_ok(const std::string& address, std::uint16_t port,
                      std::chrono::milliseconds timeout) {
  try {
    DotTestClientConfig config;
    config.address = address;
    config.port = port;
    config.handshake_timeout = timeout;
    DotTestClient client(std::move(config));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace dp::testing
