// OCSP stapling (RFC 6066 §8) on ClientSession against an in-memory GnuTLS server: the client
// asks for a stapled status; a staple that says revoked fails the handshake as a verification
// error, a good one passes, and a server that staples nothing is still accepted (no must-staple).
#include <gmock/gmock.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "fakes/memory_dot_server.h"
#include "fakes/test_ocsp.h"
#include "fakes/test_pki.h"
#include "tls/client_session.h"
#include "tls/memory_handshake.h"

namespace dp::tls {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using testing::MemoryServerOptions;
using testing::MemoryTlsServer;
using testing::OcspStatus;

constexpr const char* kName = "dns.test";
constexpr const char* kTls12Only = "NORMAL:-VERS-ALL:+VERS-TLS1.2";

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class TlsOcspTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tls-ocsp-test");
    pki_ = new testing::TestPki(testing::TestPki::create(dir_->path(), kName));
    good_ = new std::string(make_ocsp_response(*pki_, OcspStatus::kGood, dir_->path()));
    revoked_ = new std::string(make_ocsp_response(*pki_, OcspStatus::kRevoked, dir_->path()));
  }
  static void TearDownTestSuite() {
    delete revoked_;
    delete good_;
    delete pki_;
    delete dir_;
  }

  using Outcome = MemoryHandshake;

  // The good leaf, stapling `ocsp_file` ("" = nothing). The staple rides in the Certificate
  // message's status_request extension in TLS 1.3, in a CertificateStatus message in TLS 1.2.
  static Outcome handshake_stapling(const std::string& ocsp_file,
                                    const char* server_priority = "NORMAL") {
    MemoryServerOptions options;
    options.cert_file = pki_->good.cert_file;
    options.key_file = pki_->good.key_file;
    options.priority = server_priority;
    options.ocsp_response_file = ocsp_file;
    return memory_handshake(options, pki_->ca_file, SessionOptions{kName, "127.0.0.1"});
  }

  static testing::TempDir* dir_;
  static testing::TestPki* pki_;
  static std::string* good_;
  static std::string* revoked_;
};

testing::TempDir* TlsOcspTest::dir_ = nullptr;
testing::TestPki* TlsOcspTest::pki_ = nullptr;
std::string* TlsOcspTest::good_ = nullptr;
std::string* TlsOcspTest::revoked_ = nullptr;

// The fixture itself, read back with GnuTLS's OCSP parser: the responses say what they claim,
// about the good leaf, signed by the CA the client trusts.
TEST_F(TlsOcspTest, FixtureResponsesAreSignedByTheCaAndSayGoodOrRevoked) {
  const std::string leaf_pem = file_text(pki_->good.cert_file);
  const std::string ca_pem = file_text(pki_->ca_file);
  gnutls_x509_crt_t leaf = nullptr;
  gnutls_x509_crt_t ca = nullptr;
  ASSERT_EQ(gnutls_x509_crt_init(&leaf), 0);
  ASSERT_EQ(gnutls_x509_crt_init(&ca), 0);
  const auto datum = [](const std::string& s) {
    return gnutls_datum_t{reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())),
                          static_cast<unsigned>(s.size())};
  };
  gnutls_datum_t d = datum(leaf_pem);
  ASSERT_EQ(gnutls_x509_crt_import(leaf, &d, GNUTLS_X509_FMT_PEM), 0);
  d = datum(ca_pem);
  ASSERT_EQ(gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_PEM), 0);

  for (const auto& [file, want] :
       {std::pair{*good_, GNUTLS_OCSP_CERT_GOOD}, std::pair{*revoked_, GNUTLS_OCSP_CERT_REVOKED}}) {
    SCOPED_TRACE(file);
    const std::string der = file_text(file);
    gnutls_ocsp_resp_t resp = nullptr;
    ASSERT_EQ(gnutls_ocsp_resp_init(&resp), 0);
    d = datum(der);
    ASSERT_EQ(gnutls_ocsp_resp_import(resp, &d), 0);
    EXPECT_EQ(gnutls_ocsp_resp_get_status(resp), GNUTLS_OCSP_RESP_SUCCESSFUL);
    EXPECT_EQ(gnutls_ocsp_resp_check_crt(resp, 0, leaf), 0);
    unsigned verify = ~0u;
    EXPECT_EQ(gnutls_ocsp_resp_verify_direct(resp, ca, &verify, 0), 0);
    EXPECT_EQ(verify, 0u);
    unsigned cert_status = 0;
    time_t this_update = 0;
    time_t next_update = 0;
    time_t revoked_at = 0;
    unsigned reason = 0;
    ASSERT_EQ(gnutls_ocsp_resp_get_single(resp, 0, nullptr, nullptr, nullptr, nullptr, &cert_status,
                                          &this_update, &next_update, &revoked_at, &reason),
              0);
    EXPECT_EQ(cert_status, static_cast<unsigned>(want));
    const time_t now = time(nullptr);
    EXPECT_LE(this_update, now + 60);
    EXPECT_GT(next_update, now);
    if (want == GNUTLS_OCSP_CERT_REVOKED) {
      EXPECT_LT(revoked_at, now);
      EXPECT_EQ(reason, static_cast<unsigned>(GNUTLS_X509_CRLREASON_KEYCOMPROMISE));
    }
    gnutls_ocsp_resp_deinit(resp);
  }
  gnutls_x509_crt_deinit(ca);
  gnutls_x509_crt_deinit(leaf);
}

void expect_revoked(const auto& out) {
  ASSERT_FALSE(out.result.has_value());
  EXPECT_EQ(out.result.error().kind, TlsErrorKind::kVerify);
  EXPECT_THAT(out.result.error().detail, HasSubstr("revoked"));
  EXPECT_EQ(out.server->staples_sent(), 1);
  EXPECT_FALSE(out.client->handshake_done());
  // Nothing can be written on it, and asking again does not turn it into a success.
  const std::string query = "query";
  EXPECT_FALSE(out.client->write(Bytes(query.begin(), query.end())).has_value());
  EXPECT_FALSE(out.client->handshake().has_value());
}

TEST_F(TlsOcspTest, RevokedStapleFailsTheHandshakeWithVerifyTls13) {
  expect_revoked(handshake_stapling(*revoked_));
}

TEST_F(TlsOcspTest, RevokedStapleFailsTheHandshakeWithVerifyTls12) {
  expect_revoked(handshake_stapling(*revoked_, kTls12Only));
}

TEST_F(TlsOcspTest, GoodStaplePassesTls13) {
  auto out = handshake_stapling(*good_);
  ASSERT_TRUE(out.result.has_value()) << out.result.error().detail;
  EXPECT_TRUE(out.client->handshake_done());
  EXPECT_EQ(out.server->staples_sent(), 1);  // the client asked, and got the staple
}

TEST_F(TlsOcspTest, GoodStaplePassesTls12) {
  auto out = handshake_stapling(*good_, kTls12Only);
  ASSERT_TRUE(out.result.has_value()) << out.result.error().detail;
  EXPECT_TRUE(out.client->handshake_done());
  EXPECT_EQ(out.server->staples_sent(), 1);  // the client asked, and got the staple
}

// Stapling is optional for the server: no staple, no OCSP verdict, and the CA chain decides.
TEST_F(TlsOcspTest, NoStaplePasses) {
  for (const char* priority : {"NORMAL", kTls12Only}) {
    SCOPED_TRACE(priority);
    auto out = handshake_stapling("", priority);
    ASSERT_TRUE(out.result.has_value()) << out.result.error().detail;
    EXPECT_TRUE(out.client->handshake_done());
    EXPECT_EQ(out.server->staples_sent(), 0);
  }
}

}  // namespace
}  // namespace dp::tls
