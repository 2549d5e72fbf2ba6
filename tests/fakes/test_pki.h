// Test-time PKI: a CA and leaf certificates (good, expired, wrong name, untrusted) made with the
// GnuTLS x509 API and written as PEM files, plus a self-removing temporary directory.
#pragma once

#include <string>
#include <string_view>

namespace dp::testing {

// A fresh directory from mkdtemp(3) under $TMPDIR (or /tmp), removed with its contents when the
// owner is destroyed. Movable, not copyable.
class TempDir {
 public:
  // Throws std::runtime_error if the directory cannot be created.
  explicit TempDir(std::string_view prefix = "dotproxy-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string file(std::string_view name) const;

 private:
  std::string path_;  // empty once moved from
};

// A certificate and its private key, both PEM files.
struct CertKey {
  std::string cert_file;
  std::string key_file;
};

// Every leaf is ECDSA P-256 with serverAuth EKU; all but wrong_name also carry SANs
// IP:127.0.0.1 and IP:::1 (so wrong_name fails verification by address as well as by name).
struct TestPki {
  std::string dir;
  std::string dns_name;           // SAN of good, expired and untrusted
  std::string wrong_dns_name;     // SAN of wrong_name ("wrong-" + dns_name)
  std::string ca_file;            // ca.pem: the only trusted root
  std::string ca_key_file;        // ca-key.pem: its key (PKCS#8 PEM), e.g. to sign OCSP responses
  std::string untrusted_ca_file;  // other-ca.pem: signs `untrusted`, never in ca.pem
  CertKey good;                   // valid now for dns_name
  CertKey expired;                // notBefore -2 days, notAfter -1 day
  CertKey wrong_name;             // valid, but for wrong_dns_name only (no IP SANs)
  CertKey untrusted;              // valid for dns_name, signed by the other CA
  // Client certificates for mutual TLS: clientAuth EKU, no SANs ("client." + dns_name as CN).
  CertKey client;            // signed by the trusted CA
  CertKey untrusted_client;  // signed by the other CA

  // Writes all files into `dir` (which must exist). Takes ~10 ms.
  // Throws std::runtime_error carrying gnutls_strerror() on any GnuTLS or file failure.
  static TestPki create(const std::string& dir, const std::string& dns_name);
};

}  // namespace dp::testing
