#include "fakes/test_ocsp.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fakes/process.h"

namespace dp::testing {
namespace {

constexpr const char* kOpenssl = "openssl";

[[noreturn]] void fail(const std::string& what, const CaptureResult& r) {
  throw std::runtime_error("make_ocsp_response: " + what + " (exit " + std::to_string(r.exit_code) +
                           "): " + r.err + r.out);
}

CaptureResult openssl(std::vector<std::string> args) {
  args.insert(args.begin(), kOpenssl);
  return run_capture(std::move(args), std::chrono::seconds(20));
}

// The leaf's serial as openssl's CA index spells it (upper-case hex), from `openssl x509`.
std::string serial_hex(const std::string& cert_file) {
  const CaptureResult r = openssl({"x509", "-in", cert_file, "-noout", "-serial"});
  const std::string prefix = "serial=";
  if (r.exit_code != 0 || r.out.rfind(prefix, 0) != 0) fail("x509 -serial " + cert_file, r);
  std::string hex = r.out.substr(prefix.size());
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  return hex;
}

// An index date: YYMMDDHHMMSSZ in UTC.
std::string index_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return buf;
}

}  // namespace

std::string make_ocsp_response(const TestPki& pki, OcspStatus status, const std::string& dir) {
  const bool revoked = status == OcspStatus::kRevoked;
  const std::string stem = revoked ? "ocsp-revoked" : "ocsp-good";
  const std::string index_file = dir + "/" + stem + "-index.txt";
  const std::string out_file = dir + "/" + stem + ".der";
  const std::string serial = serial_hex(pki.good.cert_file);
  const std::time_t now = std::time(nullptr);

  // openssl ca's index.txt: status, expiry, revocation[,reason], serial, file, subject; tabs.
  {
    std::ofstream index(index_file, std::ios::trunc);
    index << (revoked ? "R" : "V") << '\t' << index_time(now + 30 * 24 * 3600) << '\t'
          << (revoked ? index_time(now - 3600) + ",keyCompromise" : "") << '\t' << serial
          << "\tunknown\t/CN=" << pki.dns_name << '\n';
    index.close();
    if (!index) throw std::runtime_error("make_ocsp_response: cannot write " + index_file);
  }

  // Responder mode without -port or -reqin answers the request that -issuer/-serial build,
  // writes -respout and prints nothing.
  const std::string serial_arg = "0x" + serial;
  const CaptureResult made =
      openssl({"ocsp", "-index", index_file, "-CA", pki.ca_file, "-rsigner", pki.ca_file, "-rkey",
               pki.ca_key_file, "-issuer", pki.ca_file, "-serial", serial_arg, "-no_nonce",
               "-ndays", "1", "-respout", out_file});
  if (made.exit_code != 0) fail("openssl ocsp -index", made);
  // Read it back as a client would: the signature against the CA, then the leaf's status.
  const CaptureResult check = openssl({"ocsp", "-respin", out_file, "-CAfile", pki.ca_file,
                                       "-issuer", pki.ca_file, "-serial", serial_arg, "-no_nonce"});
  const std::string expected = revoked ? ": revoked" : ": good";
  if (check.exit_code != 0 || check.out.find(expected) == std::string::npos ||
      check.err.find("Response verify OK") == std::string::npos) {
    fail("openssl ocsp -respin " + out_file + " did not verify as \"" + expected.substr(2) + "\"",
         check);
  }
  return out_file;
}

}  // namespace dp::testing
