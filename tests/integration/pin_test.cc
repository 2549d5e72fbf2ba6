// Per-upstream SPKI pins (RFC 7858 §4.2) and tls_min_version end to end: the real binary reads
// them from its config file, a mismatch is SERVFAIL plus one log line that names the server's
// real pin, and nothing is sent to an upstream that fails either check.
#include <fstream>
#include <sstream>

#include "integration/fixture.h"
#include "tls/client_session.h"

namespace dp::testing {
namespace {

using std::chrono::seconds;

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The pin_sha256 of a PEM certificate file.
std::string pin_of(const std::string& cert_file) {
  const std::string pem = file_text(cert_file);
  auto pin = tls::spki_pin_sha256(std::vector<std::uint8_t>(pem.begin(), pem.end()));
  if (!pin) throw std::runtime_error(cert_file + ": " + pin.error());
  return *pin;
}

// Well-formed pins that match no certificate of the test PKI.
constexpr const char* kOtherPin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
constexpr const char* kOtherPin2 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

class IntegrationPinTest : public IntegrationTest {
 protected:
  // dotproxy configured by a TOML file: our CA and one [[upstream]] table for `port` with the
  // extra `table_lines` (pin_sha256, tls_min_version).
  std::unique_ptr<DotproxyProcess> start_proxy_with_file(std::uint16_t port,
                                                         const std::string& table_lines) {
    const std::string file = dir_.file("dotproxy.toml");
    std::ofstream(file) << "ca_file = \"" << pki_->ca_file << "\"\n"
                        << "workers = 1\n"
                        << "dnssec = \"off\"\n\n"  // the test server's zone is unsigned
                        << "[[upstream]]\n"
                        << "address = \"127.0.0.1\"\n"
                        << "port = " << port << "\n"
                        << "auth_name = \"" << kAuthName << "\"\n"
                        << table_lines;
    return std::make_unique<DotproxyProcess>(std::vector<std::string>{"--config", file});
  }

  // The rcode of one UDP query through the proxy; -1 when no answer comes.
  static int rcode_of_one_query(DotproxyProcess& proxy, std::uint16_t id) {
    UdpClient client(proxy.port());
    client.send(query_build("www.test.", LDNS_RR_TYPE_A, id));
    auto reply = client.receive(seconds(5));
    if (!reply) return -1;
    auto pkt = reply_parse(*reply);
    EXPECT_EQ(ldns_pkt_id(pkt.get()), id);
    return ldns_pkt_get_rcode(pkt.get());
  }

  TempDir dir_{"dotproxy-pin"};
};

TEST_F(IntegrationPinTest, CorrectPinAmongBackupsAnswers) {
  auto server = start_server();
  auto proxy =
      start_proxy_with_file(server->port(), "pin_sha256 = [\"" + std::string(kOtherPin) + "\", \"" +
                                                pin_of(pki_->good.cert_file) + "\"]\n");
  EXPECT_EQ(rcode_of_one_query(*proxy, 7), LDNS_RCODE_NOERROR) << proxy->log();
  EXPECT_EQ(server->queries_received(), 1u);
}

TEST_F(IntegrationPinTest, WrongPinIsServfailAndTheLogNamesTheServersPin) {
  auto server = start_server();
  auto proxy = start_proxy_with_file(server->port(), "pin_sha256 = [\"" + std::string(kOtherPin) +
                                                         "\", \"" + kOtherPin2 + "\"]\n");
  EXPECT_EQ(rcode_of_one_query(*proxy, 4242), LDNS_RCODE_SERVFAIL) << proxy->log();
  ASSERT_TRUE(proxy->wait_for_log("error=tls_verify", seconds(2))) << proxy->log();
  const std::string log = proxy->log();
  EXPECT_NE(log.find("upstream=127.0.0.1@" + std::to_string(server->port()) + "#" + kAuthName),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("SPKI pin mismatch"), std::string::npos) << log;
  EXPECT_NE(log.find(pin_of(pki_->good.cert_file)), std::string::npos) << log;
  EXPECT_NE(log.find("none of the 2 configured pins matches"), std::string::npos) << log;
  EXPECT_EQ(server->queries_received(), 0u);  // never sent to an unpinned server
}

TEST_F(IntegrationPinTest, TlsMinVersion13AgainstATls12OnlyServerIsServfail) {
  DotTestServerConfig config;
  config.cert_file = pki_->good.cert_file;
  config.key_file = pki_->good.key_file;
  config.tls12_only = true;
  DotTestServer server(config);

  auto strict = start_proxy_with_file(server.port(), "tls_min_version = \"1.3\"\n");
  EXPECT_EQ(rcode_of_one_query(*strict, 13), LDNS_RCODE_SERVFAIL) << strict->log();
  // The test server hangs up without an alert, so the line says "closed during the TLS
  // handshake"; ClientSession's own detail (unit tests) adds the tls_min_version hint.
  ASSERT_TRUE(strict->wait_for_log("error=tls_handshake", seconds(2))) << strict->log();
  EXPECT_EQ(server.queries_received(), 0u);
  EXPECT_EQ(server.handshakes_completed(), 0u);

  strict.reset();  // the file is rewritten below
  auto lenient = start_proxy_with_file(server.port(), "tls_min_version = \"1.2\"\n");
  EXPECT_EQ(rcode_of_one_query(*lenient, 12), LDNS_RCODE_NOERROR) << lenient->log();
}

TEST_F(IntegrationPinTest, TlsMinVersion13AndAPinAgainstATls13ServerAnswers) {
  auto server = start_server();
  auto proxy = start_proxy_with_file(server->port(), "tls_min_version = \"1.3\"\npin_sha256 = [\"" +
                                                         pin_of(pki_->good.cert_file) + "\"]\n");
  EXPECT_EQ(rcode_of_one_query(*proxy, 31), LDNS_RCODE_NOERROR) << proxy->log();
}

// The README's recipe and a real client agree with the pin dotproxy computes and checks.
TEST_F(IntegrationPinTest, OpensslPipelineAndKdigAgreeOnThePin) {
  const std::string pin = pin_of(pki_->good.cert_file);
  auto openssl = run_capture({"sh", "-c",
                              "openssl x509 -in '" + pki_->good.cert_file +
                                  "' -pubkey -noout | openssl pkey -pubin -outform der"
                                  " | openssl dgst -sha256 -binary | base64"});
  ASSERT_EQ(openssl.exit_code, 0) << "openssl is installed by scripts/setup --tests: "
                                  << openssl.err;
  EXPECT_EQ(openssl.out, pin + "\n");

  auto server = start_server();
  const std::string at = "@127.0.0.1";
  const std::string port = std::to_string(server->port());
  auto good = run_capture(
      {"kdig", at, "-p", port, "+retry=0", "+timeout=3", "+tls-pin=" + pin, "www.test", "A"});
  EXPECT_NE(good.out.find("status: NOERROR"), std::string::npos) << good.out << good.err;
  auto bad = run_capture({"kdig", at, "-p", port, "+retry=0", "+timeout=3",
                          std::string("+tls-pin=") + kOtherPin, "www.test", "A"});
  EXPECT_EQ(bad.out.find("status: NOERROR"), std::string::npos) << bad.out << bad.err;
}

}  // namespace
}  // namespace dp::testing
