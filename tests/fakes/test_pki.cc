#include "fakes/test_pki.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/c_ptr.h"

namespace dp::testing {
namespace {

using PrivkeyPtr = CPtr<gnutls_x509_privkey_int, gnutls_x509_privkey_deinit>;
using CrtPtr = CPtr<gnutls_x509_crt_int, gnutls_x509_crt_deinit>;

constexpr std::time_t kDay = std::time_t{24} * 3600;

void check(int rc, const char* what) {
  if (rc < 0) {
    throw std::runtime_error(std::string("TestPki: ") + what + ": " + gnutls_strerror(rc));
  }
}

struct KeyedCert {
  PrivkeyPtr key;
  CrtPtr crt;
};

PrivkeyPtr make_key() {
  gnutls_x509_privkey_t raw = nullptr;
  check(gnutls_x509_privkey_init(&raw), "privkey_init");
  PrivkeyPtr key(raw);
  // P-256: generation is ~1 ms, where RSA would take 100s of ms per certificate.
  check(gnutls_x509_privkey_generate(key.get(), GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
        "privkey_generate");
  return key;
}

struct CertSpec {
  std::string common_name;
  bool is_ca = false;
  std::vector<std::string> dns_names;
  bool loopback_ips = false;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  bool client_auth = false;  // a client's certificate (clientAuth EKU) instead of a server's
};

// Signs with `issuer` (self-signed when null).
KeyedCert make_cert(const CertSpec& spec, const KeyedCert* issuer) {
  KeyedCert out{make_key(), nullptr};
  gnutls_x509_crt_t raw = nullptr;
  check(gnutls_x509_crt_init(&raw), "crt_init");
  out.crt.reset(raw);
  gnutls_x509_crt_t crt = out.crt.get();

  check(gnutls_x509_crt_set_version(crt, 3), "set_version");
  std::array<unsigned char, 16> serial{};
  check(gnutls_rnd(GNUTLS_RND_NONCE, serial.data(), serial.size()), "rnd");
  serial[0] = (serial[0] & 0x7f) | 0x01;  // positive and non-zero (RFC 5280 §4.1.2.2)
  check(gnutls_x509_crt_set_serial(crt, serial.data(), serial.size()), "set_serial");
  check(gnutls_x509_crt_set_activation_time(crt, spec.not_before), "set_activation_time");
  check(gnutls_x509_crt_set_expiration_time(crt, spec.not_after), "set_expiration_time");
  check(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, spec.common_name.data(),
                                      spec.common_name.size()),
        "set_dn CN");
  check(gnutls_x509_crt_set_key(crt, out.key.get()), "set_key");
  check(gnutls_x509_crt_set_basic_constraints(crt, spec.is_ca ? 1 : 0, -1),
        "set_basic_constraints");
  if (spec.is_ca) {
    check(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN),
          "set_key_usage");
  } else {
    check(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "set_key_usage");
    check(gnutls_x509_crt_set_key_purpose_oid(
              crt, spec.client_auth ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER, 0),
          "set_key_purpose_oid");
  }
  for (const std::string& name : spec.dns_names) {
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name.data(), name.size(),
                                               GNUTLS_FSAN_APPEND),
          "set_subject_alt_name dns");
  }
  if (spec.loopback_ips) {
    const std::array<unsigned char, 4> v4{127, 0, 0, 1};
    std::array<unsigned char, 16> v6{};
    v6[15] = 1;
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4.data(), v4.size(),
                                               GNUTLS_FSAN_APPEND),
          "set_subject_alt_name ipv4");
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6.data(), v6.size(),
                                               GNUTLS_FSAN_APPEND),
          "set_subject_alt_name ipv6");
  }
  std::array<unsigned char, 64> id{};
  size_t id_size = id.size();
  check(gnutls_x509_crt_get_key_id(crt, 0, id.data(), &id_size), "get_key_id");
  check(gnutls_x509_crt_set_subject_key_id(crt, id.data(), id_size), "set_subject_key_id");
  if (issuer != nullptr) {
    id_size = id.size();
    check(gnutls_x509_crt_get_subject_key_id(issuer->crt.get(), id.data(), &id_size, nullptr),
          "issuer get_subject_key_id");
    check(gnutls_x509_crt_set_authority_key_id(crt, id.data(), id_size), "set_authority_key_id");
  }
  const KeyedCert& signer = issuer != nullptr ? *issuer : out;
  check(gnutls_x509_crt_sign2(crt, signer.crt.get(), signer.key.get(), GNUTLS_DIG_SHA256, 0),
        "crt_sign2");
  return out;
}

void write_file(const std::string& path, const gnutls_datum_t& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data), data.size);
  f.close();
  if (!f) throw std::runtime_error("TestPki: cannot write " + path);
}

void write_cert(const std::string& path, const KeyedCert& kc) {
  gnutls_datum_t d{nullptr, 0};
  check(gnutls_x509_crt_export2(kc.crt.get(), GNUTLS_X509_FMT_PEM, &d), "crt_export2");
  // gnutls_free is a variable (function pointer), so CPtr cannot take it.
  struct Free {
    gnutls_datum_t* d;
    ~Free() { gnutls_free(d->data); }
  } guard{&d};
  write_file(path, d);
}

void write_key(const std::string& path, const KeyedCert& kc) {
  gnutls_datum_t d{nullptr, 0};
  // PKCS#8 unencrypted: readable by GnuTLS and by Unbound's OpenSSL alike.
  check(gnutls_x509_privkey_export2_pkcs8(kc.key.get(), GNUTLS_X509_FMT_PEM, nullptr,
                                          GNUTLS_PKCS_PLAIN, &d),
        "privkey_export2_pkcs8");
  struct Free {
    gnutls_datum_t* d;
    ~Free() { gnutls_free(d->data); }
  } guard{&d};
  write_file(path, d);
}

CertKey write_leaf(const std::string& dir, const std::string& stem, const KeyedCert& kc) {
  CertKey ck{dir + "/" + stem + ".pem", dir + "/" + stem + "-key.pem"};
  write_cert(ck.cert_file, kc);
  write_key(ck.key_file, kc);
  return ck;
}

}  // namespace

TempDir::TempDir(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" +
                     std::string(prefix) + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("TempDir: mkdtemp failed for " + tmpl);
  }
  path_ = std::move(tmpl);
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;  // best effort: a leftover temp dir must not fail a test
  std::filesystem::remove_all(path_, ec);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    TempDir old(std::move(*this));
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

std::string TempDir::file(std::string_view name) const { return path_ + "/" + std::string(name); }

TestPki TestPki::create(const std::string& dir, const std::string& dns_name) {
  const std::time_t now = std::time(nullptr);
  TestPki pki;
  pki.dir = dir;
  pki.dns_name = dns_name;
  pki.wrong_dns_name = "wrong-" + dns_name;
  pki.ca_file = dir + "/ca.pem";
  pki.ca_key_file = dir + "/ca-key.pem";
  pki.untrusted_ca_file = dir + "/other-ca.pem";

  // Backdated an hour so that small clock differences never make "good" not yet valid.
  const std::time_t from = now - 3600;
  const std::time_t until = now + 30 * kDay;

  KeyedCert ca = make_cert({"dotproxy test CA", true, {}, false, from, until}, nullptr);
  KeyedCert other_ca = make_cert({"dotproxy untrusted CA", true, {}, false, from, until}, nullptr);
  write_cert(pki.ca_file, ca);
  write_key(pki.ca_key_file, ca);
  write_cert(pki.untrusted_ca_file, other_ca);

  KeyedCert good = make_cert({dns_name, false, {dns_name}, true, from, until}, &ca);
  KeyedCert expired =
      make_cert({dns_name, false, {dns_name}, true, now - 2 * kDay, now - kDay}, &ca);
  KeyedCert wrong =
      make_cert({pki.wrong_dns_name, false, {pki.wrong_dns_name}, false, from, until}, &ca);
  KeyedCert untrusted = make_cert({dns_name, false, {dns_name}, true, from, until}, &other_ca);

  pki.good = write_leaf(dir, "good", good);
  pki.expired = write_leaf(dir, "expired", expired);
  pki.wrong_name = write_leaf(dir, "wrong-name", wrong);
  pki.untrusted = write_leaf(dir, "untrusted", untrusted);
  const std::string client_name = "client." + dns_name;
  pki.client =
      write_leaf(dir, "client", make_cert({client_name, false, {}, false, from, until, true}, &ca));
  pki.untrusted_client =
      write_leaf(dir, "untrusted-client",
                 make_cert({client_name, false, {}, false, from, until, true}, &other_ca));
  return pki;
}

}  // namespace dp::testing
