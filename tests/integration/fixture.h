// Shared set-up for integration tests: a PKI made at test time, the project's DoT test
// server, the plain DNS test server (a cluster DNS for forward zones), and dotproxy pointed at
// them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fakes/dns_client.h"
#include "fakes/dot_test_server.h"
#include "fakes/plain_dns_server.h"
#include "fakes/test_pki.h"
#include "integration/dotproxy_process.h"

namespace dp::testing {

struct HttpReply {
  int status = 0;  // 0: no HTTP reply
  std::string body;
};
// One HTTP/1.0 GET of `path` on 127.0.0.1:`port`.
HttpReply http_get(std::uint16_t port, const std::string& path);

inline constexpr const char* kAuthName = "dns.test";

class IntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new TempDir("dotproxy-pki");
    pki_ = new TestPki(TestPki::create(pki_dir_->path(), kAuthName));
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete pki_dir_;
  }

  // A DoT test server presenting `cert` (the good one unless said otherwise).
  std::unique_ptr<DotTestServer> start_server(const CertKey* cert = nullptr) {
    DotTestServerConfig config;
    config.cert_file = (cert != nullptr ? cert : &pki_->good)->cert_file;
    config.key_file = (cert != nullptr ? cert : &pki_->good)->key_file;
    return std::make_unique<DotTestServer>(config);
  }

  // A plain DNS server (UDP and TCP, one port) serving cluster.local, in-addr.arpa, ip6.arpa
  // and config.extra_zones; see plain_dns_server.h for its zone and knobs.
  static std::unique_ptr<PlainDnsServer> start_plain_server(PlainDnsServerConfig config = {}) {
    return std::make_unique<PlainDnsServer>(std::move(config));
  }

  static std::string spec(std::uint16_t port, const std::string& auth_name = kAuthName) {
    return "127.0.0.1@" + std::to_string(port) + (auth_name.empty() ? "" : "#" + auth_name);
  }

  // dotproxy with one upstream, our CA, and extra arguments. --dnssec off, deliberately: the
  // test servers' zones are unsigned (the signed ones are scripts/dnssec-lab's, and its test
  // gives their trust anchor).
  std::unique_ptr<DotproxyProcess> start_proxy(const std::string& upstream_spec,
                                               std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--upstream", upstream_spec, "--ca-file", pki_->ca_file,
                                     "--workers",  "1",           "--dnssec",  "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<DotproxyProcess>(args);
  }

  static TempDir* pki_dir_;
  static TestPki* pki_;
};

}  // namespace dp::testing
