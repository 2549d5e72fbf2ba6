// A minimal blocking DNS-over-TLS client for tests: exact control over pipelining and framing
// where kdig cannot give it, and a readiness probe for DoT servers started by fixtures.
#pragma once

#include <gnutls/gnutls.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/c_ptr.h"

namespace dp::testing {

struct DotTestClientConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::string ca_file;      // empty: the server certificate is not verified
  std::string server_name;  // SNI and the name verified against the certificate; empty: none
  bool tls12_only = false;
  std::chrono::milliseconds handshake_timeout{2000};
  std::vector<std::uint8_t> resume_data;  // from session_data() of an earlier client
};

// One TLS connection, used from one thread; closed on destruction.
class DotTestClient {
 public:
  // Connects and completes the handshake (verifying when ca_file is set). Throws
  // std::runtime_error with the gnutls_strerror() / verification text on failure.
  explicit DotTestClient(DotTestClientConfig config);
  ~DotTestClient();
  DotTestClient(const DotTestClient&) = delete;
  DotTestClient& operator=(const DotTestClient&) = delete;

  // Sends one length-prefixed message. Several calls in a row are pipelined. Throws on error.
  void send_message(std::span<const std::uint8_t> wire);
  // Sends raw bytes as they are (for framing tests). Throws on error.
  void send_raw(std::span<const std::uint8_t> bytes);
  // The next whole message (without length prefix); nullopt at timeout or when the server
  // closed the connection (then closed() is true).
  std::optional<std::vector<std::uint8_t>> read_message(std::chrono::milliseconds timeout);
  bool closed() const { return closed_; }
  // Whether the handshake resumed the session given in resume_data.
  bool resumed() const;
  // Resumption data for a later client. With TLS 1.3 the ticket arrives after the handshake,
  // so read an answer first. Empty if there is none.
  std::vector<std::uint8_t> session_data() const;

 private:
  using SessionPtr = CPtr<gnutls_session_int, gnutls_deinit>;
  using CredsPtr = CPtr<gnutls_certificate_credentials_st, gnutls_certificate_free_credentials>;

  int fd_ = -1;  // closed in the destructor, after session_ is gone
  CredsPtr creds_;
  SessionPtr session_;
  std::vector<std::uint8_t> inbuf_;
  bool closed_ = false;
};

// A query in wire form, qname spelt exactly as given (case kept), class IN, RD=1. With edns,
// an OPT RR (UDP size 1232, no options) is added.
std::vector<std::uint8_t> make_query(std::string_view name, std::uint16_t qtype, std::uint16_t id,
                                     bool edns = true);

// True if a TLS handshake with address:port completes within `timeout` (no verification).
bool dot_handshake_ok(const std::string& address, std::uint16_t port,
                      std::chrono::milliseconds timeout);

}  // namespace dp::testing
