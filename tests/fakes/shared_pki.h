// One test PKI, and client credentials that trust it, per test process: the unit tests that
// need real certificates share it instead of each suite making its own.
#pragma once

#include <memory>

#include "fakes/test_pki.h"
#include "tls/credentials.h"

namespace dp::testing {

inline constexpr const char* kSharedPkiName = "dns.test";

struct SharedPki {
  TempDir dir{"dotproxy-pki"};
  TestPki pki = TestPki::create(dir.path(), kSharedPkiName);
  std::shared_ptr<const tls::ClientCredentials> credentials =
      tls::ClientCredentials::create(pki.ca_file);

  // Made on first use, removed (with its directory) at exit.
  static const SharedPki& get() {
    static const SharedPki instance;
    return instance;
  }
};

}  // namespace dp::testing
