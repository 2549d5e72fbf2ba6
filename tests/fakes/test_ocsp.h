// Test-time OCSP responses (RFC 6960) for TestPki's `good` leaf, signed by the test CA itself,
// made with the openssl CLI (`openssl ocsp` in responder mode over a one-line CA index).
#pragma once

#include <string>

#include "fakes/test_pki.h"

namespace dp::testing {

enum class OcspStatus {
  kGood,     // certStatus good
  kRevoked,  // certStatus revoked (keyCompromise, an hour ago)
};

// Writes a DER OCSPResponse for pki.good into `dir` (which must exist) and returns its path
// (ocsp-good.der or ocsp-revoked.der). thisUpdate is now, nextUpdate a day later; no nonce, as
// a stapled response has none. The response carries the CA certificate as the signer, which is
// the issuer of the leaf, so a client that trusts the CA accepts the signature as is.
// Throws std::runtime_error with openssl's stderr if the CLI fails or says something else.
std::string make_ocsp_response(const TestPki& pki, OcspStatus status, const std::string& dir);

}  // namespace dp::testing
