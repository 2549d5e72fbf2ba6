// A real Unbound (/usr/sbin/unbound) serving DNS-over-TLS on loopback: an upstream that is not
// our own code, for integration tests. It never recurses: everything outside its local zone is
// refused, so no test traffic leaves the machine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "fakes/process.h"
#include "fakes/test_pki.h"

namespace dp::testing {

// Owned by the test; the Unbound process lives exactly as long as this object. Zone served:
//   www.unbound.test. 60 IN A 192.0.2.53
//   unbound.test. SOA (so negative answers carry one)
//   anything else under unbound.test.: NXDOMAIN (e.g. nx.unbound.test.)
//   everything else: REFUSED
class UnboundUpstream {
 public:
  static constexpr const char* kBinary = "/usr/sbin/unbound";

  // Whether kBinary exists and is executable. For a clear error message only: tests must fail,
  // not skip, when Unbound is missing (scripts/ installs it).
  static bool available();

  // Writes unbound.conf in a fresh TempDir, starts Unbound with pki.good as its TLS identity on
  // 127.0.0.1 and waits (up to 10 s) until a TLS handshake succeeds. Picks a free port, and
  // tries again with another one (up to 5 times) if Unbound fails to start. Throws
  // std::runtime_error with the tail of Unbound's log otherwise.
  explicit UnboundUpstream(const TestPki& pki);
  ~UnboundUpstream();  // SIGTERM, SIGKILL after 5 s, reaped
  UnboundUpstream(const UnboundUpstream&) = delete;
  UnboundUpstream& operator=(const UnboundUpstream&) = delete;

  const std::string& address() const { return address_; }
  std::uint16_t port() const { return port_; }
  const std::string& config_file() const { return config_file_; }
  // Unbound's log file contents (its logfile plus anything it printed on stderr).
  std::string log() const;

 private:
  TempDir dir_;
  std::string address_ = "127.0.0.1";
  std::uint16_t port_ = 0;
  std::string config_file_;
  std::string log_file_;
  std::unique_ptr<Process> process_;
};

}  // namespace dp::testing
