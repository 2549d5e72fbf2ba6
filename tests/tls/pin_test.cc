// SPKI pin sets (RFC 7858 §4.2) and the per-upstream minimum TLS version, on ClientSession
// against an in-memory GnuTLS server: pins come on top of the CA and name checks, never instead.
#include <gmock/gmock.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "config/upstream_spec.h"
#include "fakes/memory_dot_server.h"
#include "fakes/test_pki.h"
#include "tls/client_session.h"
#include "tls/memory_handshake.h"

namespace dp::tls {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using testing::MemoryServerOptions;
using testing::MemoryTlsServer;
using ::testing::Not;

constexpr const char* kName = "dns.test";
constexpr const char* kTls12Only = "NORMAL:-VERS-ALL:+VERS-TLS1.2";

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Bytes file_bytes(const std::string& path) {
  const std::string text = file_text(path);
  return Bytes(text.begin(), text.end());
}

// The pin of a PEM certificate file, as pin_sha256 spells it.
std::string pin_of(const std::string& cert_file) {
  auto pin = spki_pin_sha256(file_bytes(cert_file));
  if (!pin) throw std::runtime_error(cert_file + ": " + pin.error());
  return *pin;
}

SpkiPin pin_bytes(const std::string& base64) { return config::pin_sha256_parse(base64); }

// A pin that no certificate has.
SpkiPin other_pin(std::uint8_t fill) {
  SpkiPin pin{};
  pin.fill(fill);
  return pin;
}

class TlsPinTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tls-pin-test");
    pki_ = new testing::TestPki(testing::TestPki::create(dir_->path(), kName));
    // The good leaf followed by its CA: a server that sends the chain, not just the leaf.
    chain_ = new testing::CertKey{dir_->file("good-chain.pem"), pki_->good.key_file};
    std::ofstream(chain_->cert_file, std::ios::binary)
        << file_text(pki_->good.cert_file) << file_text(pki_->ca_file);
  }
  static void TearDownTestSuite() {
    delete chain_;
    delete pki_;
    delete dir_;
  }

  static MemoryServerOptions server_options(const testing::CertKey& cert,
                                            const char* priority = "NORMAL") {
    MemoryServerOptions options;
    options.cert_file = cert.cert_file;
    options.key_file = cert.key_file;
    options.priority = priority;
    return options;
  }

  static SessionOptions options_with(std::vector<SpkiPin> pins,
                                     TlsVersion min = TlsVersion::kTls12) {
    SessionOptions options{kName, "127.0.0.1"};
    options.pins = std::move(pins);
    options.min_version = min;
    return options;
  }

  static Result<void, TlsError> run_handshake(ClientSession& c, MemoryTlsServer& s,
                                              std::string* server_error = nullptr) {
    return run_memory_handshake(c, s, server_error);
  }

  using Outcome = MemoryHandshake;
  static Outcome handshake_with(const testing::CertKey& cert, const SessionOptions& options,
                                const char* server_priority = "NORMAL") {
    return memory_handshake(server_options(cert, server_priority), pki_->ca_file, options);
  }

  static testing::TempDir* dir_;
  static testing::TestPki* pki_;
  static testing::CertKey* chain_;
};

testing::TempDir* TlsPinTest::dir_ = nullptr;
testing::TestPki* TlsPinTest::pki_ = nullptr;
testing::CertKey* TlsPinTest::chain_ = nullptr;

// The helper against an independent route to the same hash: GnuTLS's SHA-256 key ID is the
// hash of the DER SubjectPublicKeyInfo (what certtool --pubkey-info prints as pin-sha256).
TEST_F(TlsPinTest, SpkiPinMatchesTheSha256KeyIdAndTakesPemOrDer) {
  const std::string pem = file_text(pki_->good.cert_file);
  gnutls_x509_crt_t crt = nullptr;
  ASSERT_EQ(gnutls_x509_crt_init(&crt), 0);
  const gnutls_datum_t pem_datum{reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                                 static_cast<unsigned>(pem.size())};
  ASSERT_EQ(gnutls_x509_crt_import(crt, &pem_datum, GNUTLS_X509_FMT_PEM), 0);
  SpkiPin key_id{};
  std::size_t key_id_size = key_id.size();
  ASSERT_EQ(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, key_id.data(), &key_id_size),
            0);
  ASSERT_EQ(key_id_size, 32u);
  gnutls_datum_t der{nullptr, 0};
  ASSERT_EQ(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
  const Bytes der_bytes(der.data, der.data + der.size);
  gnutls_free(der.data);
  gnutls_x509_crt_deinit(crt);

  const std::string pin = pin_of(pki_->good.cert_file);
  EXPECT_EQ(pin.size(), 44u);
  EXPECT_EQ(pin_bytes(pin), key_id);
  auto from_der = spki_pin_sha256(der_bytes);
  ASSERT_TRUE(from_der.has_value()) << from_der.error();
  EXPECT_EQ(*from_der, pin);
  EXPECT_NE(pin_of(pki_->untrusted.cert_file), pin);  // a different key, a different pin

  const std::string junk = "not a certificate";
  EXPECT_FALSE(spki_pin_sha256(Bytes(junk.begin(), junk.end())).has_value());
}

TEST_F(TlsPinTest, LeafPinPasses) {
  auto out = handshake_with(pki_->good, options_with({pin_bytes(pin_of(pki_->good.cert_file))}));
  ASSERT_TRUE(out.result.has_value()) << out.result.error().detail;
  EXPECT_TRUE(out.client->handshake_done());
  // The session carries data both ways.
  const std::string ping = "ping";
  ASSERT_TRUE(out.client->write(Bytes(ping.begin(), ping.end())).has_value());
  out.server->feed(std::exchange(out.client->output(), {}));
  const Bytes got = out.server->read();
  EXPECT_EQ(std::string(got.begin(), got.end()), ping);
}

TEST_F(TlsPinTest, BackupPinsPassWhenAnyOneMatches) {
  const SpkiPin leaf = pin_bytes(pin_of(pki_->good.cert_file));
  auto out = handshake_with(pki_->good, options_with({other_pin(1), other_pin(2), leaf}));
  EXPECT_TRUE(out.result.has_value()) << out.result.error().detail;
}

TEST_F(TlsPinTest, CaPinPassesWhenTheServerSendsTheChain) {
  auto out = handshake_with(*chain_, options_with({pin_bytes(pin_of(pki_->ca_file))}));
  EXPECT_TRUE(out.result.has_value()) << out.result.error().detail;
}

// A pin matches what the server presents: a leaf-only server does not show its CA.
TEST_F(TlsPinTest, CaPinFailsWhenTheServerSendsOnlyTheLeaf) {
  auto out = handshake_with(pki_->good, options_with({pin_bytes(pin_of(pki_->ca_file))}));
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(out.result.error().detail, HasSubstr("the configured pin does not match"));
}

TEST_F(TlsPinTest, WrongPinFailsWithVerifyAndNamesTheLeafPin) {
  const std::string leaf = pin_of(pki_->good.cert_file);
  auto out = handshake_with(*chain_, options_with({other_pin(1), other_pin(2)}));
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().kind, TlsErrorKind::kVerify);
  EXPECT_EQ(out.result.error().detail, "SPKI pin mismatch: the chain's leaf has pin_sha256 \"" +
                                           leaf + "\", none of the 2 configured pins matches");
  EXPECT_FALSE(out.client->handshake_done());
  // Nothing can be written on it, and asking again gives the same answer.
  const std::string query = "query";
  EXPECT_FALSE(out.client->write(Bytes(query.begin(), query.end())).has_value());
  auto again = out.client->handshake();
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().detail, out.result.error().detail);
  // The server hears a fatal alert, never application data.
  out.server->feed(std::exchange(out.client->output(), {}));
  EXPECT_TRUE(out.server->read().empty());
  EXPECT_FALSE(out.server->error().empty());
}

TEST_F(TlsPinTest, NoPinsMeansNoPinCheck) {
  auto out = handshake_with(pki_->good, options_with({}));
  EXPECT_TRUE(out.result.has_value()) << out.result.error().detail;
}

TEST_F(TlsPinTest, RightPinDoesNotRescueAWrongName) {
  auto out = handshake_with(pki_->wrong_name,
                            options_with({pin_bytes(pin_of(pki_->wrong_name.cert_file))}));
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(out.result.error().detail, HasSubstr("name in the certificate does not match"));
  EXPECT_THAT(out.result.error().detail, Not(HasSubstr("pin")));
}

TEST_F(TlsPinTest, RightPinDoesNotRescueAnUntrustedCa) {
  auto out =
      handshake_with(pki_->untrusted, options_with({pin_bytes(pin_of(pki_->untrusted.cert_file))}));
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(out.result.error().detail, HasSubstr("issuer is unknown"));
  EXPECT_THAT(out.result.error().detail, Not(HasSubstr("pin")));
}

TEST_F(TlsPinTest, RightPinDoesNotRescueAnExpiredCertificate) {
  auto out =
      handshake_with(pki_->expired, options_with({pin_bytes(pin_of(pki_->expired.cert_file))}));
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(out.result.error().detail, HasSubstr("expired"));
}

TEST_F(TlsPinTest, MinVersion13FailsAgainstATls12OnlyServer) {
  auto out = handshake_with(pki_->good, options_with({}, TlsVersion::kTls13), kTls12Only);
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().kind, TlsErrorKind::kHandshake);
  EXPECT_THAT(out.result.error().detail, HasSubstr("tls_min_version \"1.3\""));
  EXPECT_FALSE(out.client->handshake_done());
  EXPECT_FALSE(out.server->handshake_done());
}

TEST_F(TlsPinTest, MinVersion12AcceptsATls12OnlyServer) {
  auto out = handshake_with(pki_->good, options_with({}, TlsVersion::kTls12), kTls12Only);
  ASSERT_TRUE(out.result.has_value()) << out.result.error().detail;
  EXPECT_EQ(out.client->protocol_name(), "TLS1.2");
}

TEST_F(TlsPinTest, MinVersion13NegotiatesTls13) {
  auto out = handshake_with(pki_->good, options_with({}, TlsVersion::kTls13));
  ASSERT_TRUE(out.result.has_value()) << out.result.error().detail;
  EXPECT_EQ(out.client->protocol_name(), "TLS1.3");
}

TEST_F(TlsPinTest, PinsWorkOverTls12Too) {
  const SpkiPin leaf = pin_bytes(pin_of(pki_->good.cert_file));
  auto good = handshake_with(pki_->good, options_with({leaf}), kTls12Only);
  EXPECT_TRUE(good.result.has_value()) << good.result.error().detail;
  auto bad = handshake_with(pki_->good, options_with({other_pin(7)}), kTls12Only);
  ASSERT_FALSE(bad.result.has_value());
  EXPECT_EQ(bad.result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(bad.result.error().detail, HasSubstr("SPKI pin mismatch"));
}

// Resumption skips the certificate exchange, but GnuTLS restores the first session's chain
// from the ticket: the pins still apply, and the right ones do not break resumption.
TEST_F(TlsPinTest, ResumedSessionIsStillPinChecked) {
  const SpkiPin leaf = pin_bytes(pin_of(pki_->good.cert_file));
  auto first = handshake_with(pki_->good, options_with({leaf}, TlsVersion::kTls13));
  ASSERT_TRUE(first.result.has_value()) << first.result.error().detail;
  std::uint8_t buf[64];
  ASSERT_TRUE(first.client->read(buf).has_value());  // the tickets behind the Finished
  SessionOptions options = options_with({leaf}, TlsVersion::kTls13);
  options.resume_data = first.client->session_data();
  ASSERT_FALSE(options.resume_data.empty());

  auto second = handshake_with(pki_->good, options);
  ASSERT_TRUE(second.result.has_value()) << second.result.error().detail;
  EXPECT_TRUE(second.client->resumed());

  options.pins = {other_pin(9)};
  auto third = handshake_with(pki_->good, options);
  ASSERT_FALSE(third.result.has_value());
  EXPECT_EQ(third.result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(third.result.error().detail, HasSubstr("SPKI pin mismatch"));
  EXPECT_TRUE(third.client->resumed());
}

}  // namespace
}  // namespace dp::tls
